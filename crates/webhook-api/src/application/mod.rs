//! The use-cases: what the webhooks do, in terms of the key pool port only.

mod check_refresh_status;
mod provision_key;
#[cfg(test)]
mod test_support;

pub use check_refresh_status::RefreshStatus;
pub use provision_key::{ProvisionKeyError, ProvisionRequest, Provisioned};

use adapters::KeyPool;
use domain::{KeyIdGenerator, Priority, ProxyId};

/// The webhook use-cases over one key pool.
#[derive(Debug, Clone)]
pub struct KeyService<P> {
    pool: P,
    ids: KeyIdGenerator,
    target_proxy_id: ProxyId,
    default_priority: Priority,
}

impl<P: KeyPool> KeyService<P> {
    pub fn new(pool: P, ids: KeyIdGenerator, target_proxy_id: ProxyId, default_priority: Priority) -> Self {
        Self { pool, ids, target_proxy_id, default_priority }
    }

    pub fn pool(&self) -> &P {
        &self.pool
    }
}
