use chrono::{DateTime, Utc};

use crate::{ApiKey, KeyId, KeyStatus};

/// A key of the pool, with the fields the webhooks report. The stores keep every other field
/// the existing programs wrote, untouched.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenHandsKey {
    pub id: KeyId,
    pub api_key: ApiKey,
    pub status: KeyStatus,
    pub last_error: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl OpenHandsKey {
    /// A key as the webhook creates it: healthy, unused, created now.
    pub fn new(id: KeyId, api_key: ApiKey, now: DateTime<Utc>) -> Self {
        Self {
            id,
            api_key,
            status: KeyStatus::Healthy,
            last_error: None,
            created_at: Some(now),
            updated_at: None,
            last_used_at: None,
        }
    }
}

/// How many keys the pool holds in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusSummary {
    pub total: u64,
    pub healthy: u64,
    pub need_refresh: u64,
    pub rate_limited: u64,
    pub exhausted: u64,
    pub error: u64,
    pub other: u64,
}

impl StatusSummary {
    /// Counts `count` keys of `status`; unknown statuses go to `other`.
    pub fn add(&mut self, status: &KeyStatus, count: u64) {
        let bucket = match status {
            KeyStatus::Healthy => &mut self.healthy,
            KeyStatus::NeedRefresh => &mut self.need_refresh,
            KeyStatus::RateLimited => &mut self.rate_limited,
            KeyStatus::Exhausted => &mut self.exhausted,
            KeyStatus::Error => &mut self.error,
            KeyStatus::Other(_) => &mut self.other,
        };
        *bucket += count;
        self.total += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_each_status_and_the_total() {
        let mut summary = StatusSummary::default();
        summary.add(&KeyStatus::Healthy, 9);
        summary.add(&KeyStatus::NeedRefresh, 1);
        summary.add(&KeyStatus::Other("disabled".into()), 2);
        summary.add(&KeyStatus::Other("paused".into()), 1);
        summary.add(&KeyStatus::Error, 0);
        assert_eq!(summary, StatusSummary { total: 13, healthy: 9, need_refresh: 1, other: 3, ..Default::default() });
    }

    #[test]
    fn a_new_key_is_healthy_and_dated() {
        let now = Utc::now();
        let key = OpenHandsKey::new(KeyId::from_store("k".into()), ApiKey::from_store("sk".into()), now);
        assert_eq!(key.status, KeyStatus::Healthy);
        assert_eq!(key.created_at, Some(now));
        assert_eq!((key.updated_at, key.last_used_at, key.last_error), (None, None, None));
    }
}
