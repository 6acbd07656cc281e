use chrono::{DateTime, Utc};

use crate::{KeyId, Priority, ProxyId};

/// Routes a proxy's traffic through a key. Lower priority numbers are preferred.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub proxy_id: ProxyId,
    pub key_id: KeyId,
    pub priority: Priority,
    pub is_active: bool,
    pub created_at: Option<DateTime<Utc>>,
}

impl Binding {
    /// An active binding as the webhook creates it.
    pub fn new(proxy_id: ProxyId, key_id: KeyId, priority: Priority, now: DateTime<Utc>) -> Self {
        Self { proxy_id, key_id, priority, is_active: true, created_at: Some(now) }
    }
}
