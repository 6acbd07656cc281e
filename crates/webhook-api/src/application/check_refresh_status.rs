use adapters::{KeyPool, StoreError};
use chrono::{DateTime, Utc};
use domain::{OpenHandsKey, StatusSummary};

use super::KeyService;

/// What the key-rotation service polls for: the keys to refresh and the pool's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshStatus {
    pub keys: Vec<OpenHandsKey>,
    pub summary: StatusSummary,
    pub checked_at: DateTime<Utc>,
}

impl<P: KeyPool> KeyService<P> {
    pub async fn check_refresh_status(&self) -> Result<RefreshStatus, StoreError> {
        let checked_at = self.ids.now();
        let (keys, summary) = futures::try_join!(self.pool.keys_needing_refresh(), self.pool.status_summary())?;
        Ok(RefreshStatus { keys, summary, checked_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::test_support::{key_document, service_with};
    use domain::KeyStatus;

    #[tokio::test]
    async fn lists_need_refresh_keys_oldest_first_and_counts_every_status() {
        let service = service_with(vec![
            key_document("healthy-1", "sk-healthy-000001", "healthy", Some(1)),
            key_document("refresh-new", "sk-refresh-00002", "need_refresh", Some(30)),
            key_document("refresh-old", "sk-refresh-00003", "need_refresh", Some(20)),
            key_document("refresh-undated", "sk-refresh-00004", "need_refresh", None),
            key_document("odd", "sk-odd-000000005", "disabled", Some(5)),
        ])
        .await;

        let status = service.check_refresh_status().await.unwrap();

        let ids: Vec<_> = status.keys.iter().map(|key| key.id.as_str()).collect();
        assert_eq!(ids, ["refresh-undated", "refresh-old", "refresh-new"]);
        assert!(status.keys.iter().all(|key| key.status == KeyStatus::NeedRefresh));
        assert_eq!(
            status.summary,
            StatusSummary { total: 5, healthy: 1, need_refresh: 3, other: 1, ..Default::default() }
        );
    }

    #[tokio::test]
    async fn an_empty_pool_needs_nothing() {
        let status = service_with(vec![]).await.check_refresh_status().await.unwrap();
        assert!(status.keys.is_empty());
        assert_eq!(status.summary, StatusSummary::default());
    }
}
