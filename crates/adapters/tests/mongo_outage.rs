//! MongoDB going away and coming back. The test runs a private server of its own (the command
//! in `TEST_MONGODB_SERVER_CMD`, SecantusDB's `secantusd-py`), so killing it disturbs no other
//! test: calls must fail as unavailable within seconds, and the same repository must recover
//! by itself once the server is back.

use std::time::{Duration, Instant};

use adapters::documents::PROXIES;
use adapters::{KeyPool, MongoConfig, MongoRepository, ProvisionError, ProvisionPlan, RawDocuments, StoreError};
use bson::doc;
use chrono::Utc;
use domain::{ApiKey, Binding, KeyId, OpenHandsKey, Priority, ProxyId, StatusSummary};
use test_support::private_server::PrivateServer;

/// Server selection (2 s) plus one retry after a network error still fits the default
/// operation timeout (3 s); this leaves room for a slow machine.
const OUTAGE_NOTICED_WITHIN: Duration = Duration::from_secs(6);
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(30);

fn plan(key_id: &str, api_key: &str) -> ProvisionPlan {
    let now = Utc::now();
    let key_id = KeyId::parse(key_id).unwrap();
    ProvisionPlan {
        new_key: Some(OpenHandsKey::new(key_id.clone(), ApiKey::parse(api_key).unwrap(), now)),
        new_binding: Some(Binding::new(ProxyId::parse("proxy-6").unwrap(), key_id, Priority::parse(1).unwrap(), now)),
        retirement: None,
    }
}

async fn seed_proxy(repository: &MongoRepository) {
    repository.insert_documents(PROXIES, vec![doc! { "_id": "proxy-6" }]).await.unwrap();
}

async fn assert_unavailable_soon<T: std::fmt::Debug>(
    operation: &str,
    call: impl Future<Output = Result<T, ProvisionError>>,
) {
    let started = Instant::now();
    let result = call.await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(ProvisionError::Store(StoreError::Unavailable(_)))),
        "{operation} during the outage: {result:?}"
    );
    assert!(elapsed < OUTAGE_NOTICED_WITHIN, "{operation} took {elapsed:?} to report the outage");
}

#[tokio::test]
async fn reports_an_outage_within_seconds_and_recovers_by_itself() {
    let mut server = PrivateServer::start();
    let repository = MongoRepository::connect(MongoConfig::new(server.uri(), "outage")).await.unwrap();
    seed_proxy(&repository).await;
    repository.provision(&plan("before-outage", "sk-before-outage-0001")).await.unwrap();
    assert_eq!(repository.status_summary().await.unwrap().healthy, 1);

    server.kill();
    assert_unavailable_soon("status_summary", async { Ok(repository.status_summary().await?) }).await;
    assert_unavailable_soon("provision", repository.provision(&plan("during-outage", "sk-during-outage-001"))).await;
    assert_unavailable_soon("ping", async { Ok(repository.ping().await?) }).await;

    server.restart();
    let deadline = Instant::now() + RECOVERY_TIMEOUT;
    while let Err(error) = repository.ping().await {
        assert!(Instant::now() < deadline, "the repository did not recover after the server came back: {error}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The restarted server keeps nothing in memory: the pool starts over, and works.
    assert_eq!(repository.status_summary().await.unwrap(), StatusSummary::default());
    seed_proxy(&repository).await;
    repository.provision(&plan("after-outage", "sk-after-outage-00001")).await.unwrap();
    let found = repository.find_by_api_key(&ApiKey::parse("sk-after-outage-00001").unwrap()).await.unwrap();
    assert_eq!(found.map(|pooled| pooled.key.id), Some(KeyId::parse("after-outage").unwrap()));
}
