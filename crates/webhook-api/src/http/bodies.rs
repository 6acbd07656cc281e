//! The JSON bodies of successful answers, typed so the OpenAPI document is derived from the
//! same structs the handlers serialize. Field order is the order on the wire.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::key_json::{KeyDisplay, date};
use crate::application::{Provisioned, RefreshStatus};

/// `GET /health` and `GET /ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationStatus {
    /// `ok` (health) or `ready` (readiness).
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// `GET /webhook/openhands/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshStatusBody {
    /// Whether any key needs refreshing.
    need_refresh: bool,
    /// The length of `keys`.
    count: usize,
    /// Every `need_refresh` key, oldest `createdAt` first (undated first), then by id.
    keys: Vec<RefreshKey>,
    summary: Summary,
    /// When the pool was read (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    checked_at: Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshKey {
    id: String,
    /// Masked (`sk-abcd1...wxyz`) unless `webhook.reveal_api_keys` is set.
    api_key: String,
    #[schema(example = "need_refresh")]
    status: String,
    last_error: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_used_at: Value,
    #[schema(value_type = Option<String>, format = DateTime)]
    created_at: Value,
    #[schema(value_type = Option<String>, format = DateTime)]
    updated_at: Value,
}

/// Keys per status; statuses the service does not know count as `other`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    total: u64,
    healthy: u64,
    need_refresh: u64,
    rate_limited: u64,
    exhausted: u64,
    error: u64,
    other: u64,
}

impl RefreshStatusBody {
    pub fn new(status: &RefreshStatus, display: &KeyDisplay) -> Self {
        let keys: Vec<_> = status
            .keys
            .iter()
            .map(|key| RefreshKey {
                id: key.id.as_str().to_owned(),
                api_key: display.api_key(&key.api_key),
                status: key.status.as_str().to_owned(),
                last_error: key.last_error.clone(),
                last_used_at: date(key.last_used_at),
                created_at: date(key.created_at),
                updated_at: date(key.updated_at),
            })
            .collect();
        let summary = &status.summary;
        Self {
            need_refresh: !keys.is_empty(),
            count: keys.len(),
            keys,
            summary: Summary {
                total: summary.total,
                healthy: summary.healthy,
                need_refresh: summary.need_refresh,
                rate_limited: summary.rate_limited,
                exhausted: summary.exhausted,
                error: summary.error,
                other: summary.other,
            },
            checked_at: date(Some(status.checked_at)),
        }
    }
}

/// `POST /webhook/openhands/keys`, 201.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisionedBody {
    #[schema(example = true)]
    success: bool,
    key: ProvisionedKey,
    binding: ProvisionedBinding,
    /// The retired key, or null when none was asked for or it no longer existed.
    replaced_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedKey {
    #[schema(example = "oh-key-1767225600000-k3j9x2")]
    id: String,
    /// Masked unless `webhook.reveal_api_keys` is set.
    #[schema(example = "sk-abcd1...wxyz")]
    api_key: String,
    #[schema(example = "healthy")]
    status: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    created_at: Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedBinding {
    #[schema(example = "proxy-6")]
    proxy_id: String,
    #[schema(minimum = 1, maximum = 10)]
    priority: u8,
    is_active: bool,
}

impl ProvisionedBody {
    pub fn new(provisioned: &Provisioned, display: &KeyDisplay) -> Self {
        Self {
            success: true,
            key: ProvisionedKey {
                id: provisioned.key.id.as_str().to_owned(),
                api_key: display.api_key(&provisioned.key.api_key),
                status: provisioned.key.status.as_str().to_owned(),
                created_at: date(provisioned.key.created_at),
            },
            binding: ProvisionedBinding {
                proxy_id: provisioned.binding.proxy_id.as_str().to_owned(),
                priority: provisioned.binding.priority.value(),
                is_active: provisioned.binding.is_active,
            },
            replaced_key: provisioned.replaced_key.as_ref().map(|id| id.as_str().to_owned()),
        }
    }
}
