//! A key pool whose store is down: every call fails as MongoDB would when unreachable.

use adapters::{
    Begun, IdempotencyClaim, IdempotencyStore, KeyPool, Lease, PooledKey, ProvisionError, ProvisionPlan, StoreError,
    StoredResponse,
};
use domain::{ApiKey, IdempotencyKey, KeyId, OpenHandsKey, ProxyId, StatusSummary};

#[derive(Clone)]
pub struct FailingPool;

fn down() -> StoreError {
    StoreError::Unavailable("server selection timed out".into())
}

impl KeyPool for FailingPool {
    async fn keys_needing_refresh(&self) -> Result<Vec<OpenHandsKey>, StoreError> {
        Err(down())
    }
    async fn status_summary(&self) -> Result<StatusSummary, StoreError> {
        Err(down())
    }
    async fn proxy_exists(&self, _: &ProxyId) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn find_key(&self, _: &KeyId) -> Result<Option<OpenHandsKey>, StoreError> {
        Err(down())
    }
    async fn find_by_api_key(&self, _: &ApiKey) -> Result<Option<PooledKey>, StoreError> {
        Err(down())
    }
    async fn was_retired_by(&self, _: &KeyId, _: &KeyId) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn provision(&self, _: &ProvisionPlan) -> Result<(), ProvisionError> {
        Err(down().into())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Err(down())
    }
}

impl IdempotencyStore for FailingPool {
    async fn begin(&self, _: &IdempotencyClaim) -> Result<Begun, StoreError> {
        Err(down())
    }
    async fn complete(&self, _: &IdempotencyKey, _: &Lease, _: &StoredResponse) -> Result<(), StoreError> {
        Err(down())
    }
    async fn release(&self, _: &IdempotencyKey, _: &Lease) -> Result<(), StoreError> {
        Err(down())
    }
}
