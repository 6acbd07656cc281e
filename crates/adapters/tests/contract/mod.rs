//! The key pool contract, written once and run against every adapter, so the in-memory store
//! cannot drift from MongoDB. Each adapter's test file calls `contract_tests!` with an async
//! function that returns a fresh, empty pool.

use adapters::documents::{ARCHIVE, BINDINGS, KEYS, PROXIES};
use adapters::seed::Seed;
use adapters::{
    Begun, IdempotencyClaim, IdempotencyStore, KeyPool, Lease, ProvisionError, ProvisionPlan, RawDocuments, Retirement,
    StoredResponse,
};
use bson::{Bson, Document, doc};
use chrono::{DateTime, TimeZone, Utc};
use domain::{ApiKey, Binding, IdempotencyKey, KeyId, KeyStatus, OpenHandsKey, Priority, ProxyId, StatusSummary};

pub trait Pool: KeyPool + RawDocuments + IdempotencyStore {}
impl<P: KeyPool + RawDocuments + IdempotencyStore> Pool for P {}

pub fn legacy_fixture() -> Seed {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/legacy-pool.json");
    Seed::from_file(std::path::Path::new(path)).expect("the legacy fixture parses")
}

pub async fn load(pool: &impl Pool, seed: Seed) {
    for (collection, documents) in seed.collections {
        pool.insert_documents(&collection, documents).await.expect("seeding works");
    }
}

fn at(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis).unwrap()
}

fn id(raw: &str) -> KeyId {
    KeyId::parse(raw).unwrap()
}

fn new_key(key_id: &str, api_key: &str) -> OpenHandsKey {
    OpenHandsKey::new(id(key_id), ApiKey::parse(api_key).unwrap(), at(1_767_225_600_000))
}

fn binding(key_id: &str, proxy: &str, priority: i64) -> Binding {
    Binding::new(ProxyId::parse(proxy).unwrap(), id(key_id), Priority::parse(priority).unwrap(), at(1_767_225_600_001))
}

fn plan_new(key_id: &str, api_key: &str) -> ProvisionPlan {
    ProvisionPlan {
        new_key: Some(new_key(key_id, api_key)),
        new_binding: Some(binding(key_id, "proxy-6", 1)),
        retirement: None,
    }
}

fn retire(old: &str, new: &str) -> Retirement {
    Retirement { key_id: id(old), replaced_by: id(new), at: at(1_767_225_600_002) }
}

async fn docs(pool: &impl Pool, collection: &str) -> Vec<Document> {
    pool.documents(collection).await.unwrap()
}

fn field_names(document: &Document) -> Vec<&str> {
    let mut names: Vec<_> = document.keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

pub async fn an_empty_pool_has_nothing(pool: impl Pool) {
    assert_eq!(pool.keys_needing_refresh().await.unwrap(), vec![]);
    assert_eq!(pool.status_summary().await.unwrap(), StatusSummary::default());
    assert!(!pool.proxy_exists(&ProxyId::parse("proxy-6").unwrap()).await.unwrap());
    assert_eq!(pool.find_key(&id("nothing")).await.unwrap(), None);
    assert_eq!(pool.find_by_api_key(&ApiKey::parse("sk-nothing-here").unwrap()).await.unwrap(), None);
    pool.ping().await.unwrap();
}

pub async fn reads_every_legacy_document(pool: impl Pool) {
    load(&pool, legacy_fixture()).await;

    assert_eq!(
        pool.status_summary().await.unwrap(),
        StatusSummary { total: 8, healthy: 1, need_refresh: 3, rate_limited: 1, exhausted: 1, error: 1, other: 1 }
    );
    let refresh = pool.keys_needing_refresh().await.unwrap();
    let ids: Vec<_> = refresh.iter().map(|key| key.id.as_str()).collect();
    assert_eq!(ids, ["key-legacy-7", "tai-p5-1767225800000-qq00ww", "tai-p4-1767225700000-zz91aa"]);
    let p4 = &refresh[2];
    assert_eq!(p4.api_key.expose(), "sk-live-zz91aazz91aazz91aazz91");
    assert_eq!(p4.status, KeyStatus::NeedRefresh);
    assert_eq!(p4.last_error.as_deref(), Some(r#"401 {"error":{"message":"token_not_found_in_db"}}"#));
    assert_eq!(p4.last_used_at, Some("2026-11-30T08:00:00Z".parse().unwrap()));
    assert_eq!(p4.updated_at, Some("2026-11-30T08:00:01Z".parse().unwrap()));
    assert_eq!((refresh[0].created_at, refresh[1].last_error.as_deref()), (None, None));

    assert!(pool.proxy_exists(&ProxyId::parse("proxy-6").unwrap()).await.unwrap());
    assert!(!pool.proxy_exists(&ProxyId::parse("proxy-2").unwrap()).await.unwrap());
    let disabled = pool.find_key(&id("oh-key-1767226200000-xx0000")).await.unwrap().unwrap();
    assert_eq!(disabled.status, KeyStatus::Other("disabled".into()));

    let limited =
        pool.find_by_api_key(&ApiKey::parse("sk-live-rl0000rl0000rl0000rl00").unwrap()).await.unwrap().unwrap();
    let limited_binding = limited.binding.unwrap();
    assert_eq!((limited_binding.proxy_id.as_str(), limited_binding.is_active), ("proxy-1", false));
    let unbound = pool.find_by_api_key(&ApiKey::parse("sk-live-ex0000ex0000ex0000ex00").unwrap()).await.unwrap();
    assert_eq!(unbound.unwrap().binding, None);
}

pub async fn writes_a_new_key_and_binding_in_the_exact_shapes(pool: impl Pool) {
    pool.provision(&plan_new("oh-key-1-aaaaaa", "sk-shape-0000000001")).await.unwrap();

    let keys = docs(&pool, KEYS).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(field_names(&keys[0]), ["_id", "apiKey", "createdAt", "requestsCount", "status", "tokensUsed"]);
    assert_eq!(keys[0].get("_id"), Some(&Bson::String("oh-key-1-aaaaaa".into())));
    assert_eq!(keys[0].get("apiKey"), Some(&Bson::String("sk-shape-0000000001".into())));
    assert_eq!(keys[0].get("status"), Some(&Bson::String("healthy".into())));
    assert_eq!(keys[0].get("tokensUsed"), Some(&Bson::Int32(0)));
    assert_eq!(keys[0].get("requestsCount"), Some(&Bson::Int32(0)));
    assert_eq!(keys[0].get("createdAt"), Some(&Bson::DateTime(bson::DateTime::from_millis(1_767_225_600_000))));

    let bindings = docs(&pool, BINDINGS).await;
    assert_eq!(bindings.len(), 1);
    assert_eq!(field_names(&bindings[0]), ["_id", "createdAt", "isActive", "openhandsKeyId", "priority", "proxyId"]);
    assert!(matches!(bindings[0].get("_id"), Some(Bson::ObjectId(_))));
    assert_eq!(bindings[0].get("proxyId"), Some(&Bson::String("proxy-6".into())));
    assert_eq!(bindings[0].get("openhandsKeyId"), Some(&Bson::String("oh-key-1-aaaaaa".into())));
    assert_eq!(bindings[0].get("priority"), Some(&Bson::Int32(1)));
    assert_eq!(bindings[0].get("isActive"), Some(&Bson::Boolean(true)));
    assert!(matches!(bindings[0].get("createdAt"), Some(Bson::DateTime(_))));

    let found = pool.find_by_api_key(&ApiKey::parse("sk-shape-0000000001").unwrap()).await.unwrap().unwrap();
    assert_eq!(found.key, new_key("oh-key-1-aaaaaa", "sk-shape-0000000001"));
    assert_eq!(found.binding, Some(binding("oh-key-1-aaaaaa", "proxy-6", 1)));
    assert_eq!(pool.status_summary().await.unwrap(), StatusSummary { total: 1, healthy: 1, ..Default::default() });
}

pub async fn refuses_a_taken_api_key_or_id_and_writes_nothing(pool: impl Pool) {
    pool.provision(&plan_new("first", "sk-taken-0000000001")).await.unwrap();

    let same_key = pool.provision(&plan_new("second", "sk-taken-0000000001")).await;
    assert_eq!(same_key, Err(ProvisionError::ApiKeyTaken(id("first"))));
    let same_id = pool.provision(&plan_new("first", "sk-other-0000000001")).await;
    assert_eq!(same_id, Err(ProvisionError::KeyIdTaken(id("first"))));

    assert_eq!(docs(&pool, KEYS).await.len(), 1);
    assert_eq!(docs(&pool, BINDINGS).await.len(), 1);
}

pub async fn retires_a_replaced_key_once(pool: impl Pool) {
    load(&pool, legacy_fixture()).await;
    let old = "tai-p4-1767225700000-zz91aa";
    let old_document = docs(&pool, KEYS).await.into_iter().find(|d| d.get_str("_id") == Ok(old)).unwrap();
    let plan = ProvisionPlan { retirement: Some(retire(old, "fresh")), ..plan_new("fresh", "sk-fresh-0000000001") };

    pool.provision(&plan).await.unwrap();
    // Applying the retirement again, as a retry would, archives nothing twice.
    pool.provision(&ProvisionPlan { new_key: None, new_binding: None, ..plan.clone() }).await.unwrap();

    assert_eq!(pool.find_key(&id(old)).await.unwrap(), None);
    let bindings = docs(&pool, BINDINGS).await;
    assert!(bindings.iter().all(|b| b.get_str("openhandsKeyId") != Ok(old)));
    assert_eq!(bindings.len(), 3);
    let archive = docs(&pool, ARCHIVE).await;
    assert_eq!(archive.len(), 1);
    let record = &archive[0];
    assert_eq!(
        field_names(record),
        ["_id", "deletedAt", "deletedBy", "document", "metadata", "reason", "sourceCollection", "sourceId"]
    );
    assert_eq!(record.get_str("sourceCollection"), Ok("openhands_keys"));
    assert_eq!(record.get_str("sourceId"), Ok(old));
    assert_eq!(record.get_str("reason"), Ok("replaced_via_webhook"));
    assert_eq!(record.get_str("deletedBy"), Ok("webhook"));
    assert_eq!(record.get("deletedAt"), Some(&Bson::DateTime(bson::DateTime::from_millis(1_767_225_600_002))));
    assert_eq!(record.get_document("document"), Ok(&old_document));
    assert_eq!(record.get_document("metadata"), Ok(&doc! { "replacedBy": "fresh" }));
    assert!(pool.was_retired_by(&id(old), &id("fresh")).await.unwrap());
    assert!(!pool.was_retired_by(&id(old), &id("other")).await.unwrap());
    assert!(!pool.was_retired_by(&id("fresh"), &id(old)).await.unwrap());
    assert_eq!(pool.status_summary().await.unwrap().need_refresh, 2);
}

pub async fn retiring_a_missing_key_archives_nothing(pool: impl Pool) {
    let plan = ProvisionPlan { retirement: Some(retire("gone", "fresh")), ..plan_new("fresh", "sk-fresh-0000000001") };
    pool.provision(&plan).await.unwrap();
    assert_eq!(docs(&pool, ARCHIVE).await, vec![]);
    assert_eq!(docs(&pool, KEYS).await.len(), 1);
}

pub async fn binding_an_already_bound_key_again_adds_nothing(pool: impl Pool) {
    pool.provision(&plan_new("bound", "sk-bound-0000000001")).await.unwrap();
    let finish = ProvisionPlan { new_key: None, new_binding: Some(binding("bound", "proxy-6", 1)), retirement: None };
    pool.provision(&finish).await.unwrap();
    assert_eq!(docs(&pool, BINDINGS).await.len(), 1);
}

pub async fn a_bound_copy_of_a_key_wins_then_the_oldest(pool: impl Pool) {
    let copy = |key_id: &str, created: Option<i64>| {
        let mut document = doc! { "_id": key_id, "apiKey": "sk-copied-000000001", "status": "healthy" };
        if let Some(ms) = created {
            document.insert("createdAt", bson::DateTime::from_millis(ms));
        }
        document
    };
    pool.insert_documents(KEYS, vec![copy("newer", Some(2_000)), copy("older", Some(1_000))]).await.unwrap();
    let api_key = ApiKey::parse("sk-copied-000000001").unwrap();
    assert_eq!(pool.find_by_api_key(&api_key).await.unwrap().unwrap().key.id, id("older"));

    pool.insert_documents(KEYS, vec![copy("bound-newest", Some(3_000))]).await.unwrap();
    pool.insert_documents(
        BINDINGS,
        vec![doc! { "_id": bson::oid::ObjectId::new(), "proxyId": "proxy-6", "openhandsKeyId": "bound-newest",
        "priority": Bson::Double(2.0), "isActive": true }],
    )
    .await
    .unwrap();
    let found = pool.find_by_api_key(&api_key).await.unwrap().unwrap();
    assert_eq!(found.key.id, id("bound-newest"));
    assert_eq!(found.binding.unwrap().priority.value(), 2);
}

pub async fn need_refresh_keys_sort_undated_first_then_by_date_then_id(pool: impl Pool) {
    let key = |key_id: &str, created: Option<i64>| {
        let mut document = doc! { "_id": key_id, "apiKey": format!("sk-{key_id}-00000000"), "status": "need_refresh" };
        if let Some(ms) = created {
            document.insert("createdAt", bson::DateTime::from_millis(ms));
        }
        document
    };
    pool.insert_documents(
        KEYS,
        vec![key("c", Some(5)), key("b", Some(5)), key("z", None), key("a", Some(9)), key("y", None)],
    )
    .await
    .unwrap();
    pool.insert_documents(PROXIES, vec![doc! { "_id": "proxy-6" }]).await.unwrap();
    let ids: Vec<_> =
        pool.keys_needing_refresh().await.unwrap().into_iter().map(|key| key.id.as_str().to_owned()).collect();
    assert_eq!(ids, ["y", "z", "b", "c", "a"]);
}

const T0: i64 = 1_767_225_600_000;

fn claim(key: &str, fingerprint: &str, token: &str, now_ms: i64) -> IdempotencyClaim {
    IdempotencyClaim {
        key: IdempotencyKey::parse(key.as_bytes()).unwrap(),
        fingerprint: fingerprint.to_owned(),
        planned_key_id: id(&format!("planned-by-{token}")),
        token: token.to_owned(),
        now: at(now_ms),
        lease_until: at(now_ms + 10_000),
        expires_at: at(now_ms + 86_400_000),
    }
}

fn lease(token: &str, planned_by: &str) -> Lease {
    Lease { token: token.to_owned(), planned_key_id: id(&format!("planned-by-{planned_by}")) }
}

fn created() -> StoredResponse {
    StoredResponse { status: 201, body: r#"{"success":true}"#.to_owned() }
}

pub async fn an_idempotency_key_is_claimed_once_then_replays_its_answer(pool: impl Pool) {
    let first = claim("retry-1", "body-a", "t1", T0);
    assert_eq!(pool.begin(&first).await.unwrap(), Begun::Fresh(lease("t1", "t1")));
    assert_eq!(
        pool.begin(&claim("retry-1", "body-a", "t2", T0 + 1)).await.unwrap(),
        Begun::InFlight { lease_until: at(T0 + 10_000) }
    );

    pool.complete(&first.key, &lease("t1", "t1"), &created()).await.unwrap();

    assert_eq!(pool.begin(&claim("retry-1", "body-a", "t3", T0 + 2)).await.unwrap(), Begun::Completed(created()));
    assert_eq!(pool.begin(&claim("retry-1", "body-b", "t4", T0 + 3)).await.unwrap(), Begun::KeyReused);
    // Other keys are independent.
    assert_eq!(pool.begin(&claim("retry-2", "body-a", "t5", T0 + 4)).await.unwrap(), Begun::Fresh(lease("t5", "t5")));
}

pub async fn a_reused_key_is_refused_even_while_in_flight(pool: impl Pool) {
    pool.begin(&claim("retry-1", "body-a", "t1", T0)).await.unwrap();
    assert_eq!(pool.begin(&claim("retry-1", "body-b", "t2", T0 + 1)).await.unwrap(), Begun::KeyReused);
}

pub async fn a_lapsed_lease_is_taken_over_with_the_planned_key_id(pool: impl Pool) {
    let first = claim("retry-1", "body-a", "t1", T0);
    pool.begin(&first).await.unwrap();

    let late = claim("retry-1", "body-a", "t2", T0 + 10_001);
    assert_eq!(pool.begin(&late).await.unwrap(), Begun::TakenOver(lease("t2", "t1")));

    // The first attempt's answer no longer counts; the one that took over is kept.
    pool.complete(&first.key, &lease("t1", "t1"), &StoredResponse { status: 503, body: "{}".into() }).await.unwrap();
    assert!(matches!(
        pool.begin(&claim("retry-1", "body-a", "t3", T0 + 10_002)).await.unwrap(),
        Begun::InFlight { .. }
    ));
    pool.complete(&first.key, &lease("t2", "t1"), &created()).await.unwrap();
    assert_eq!(pool.begin(&claim("retry-1", "body-a", "t4", T0 + 10_003)).await.unwrap(), Begun::Completed(created()));
}

pub async fn a_released_lease_is_taken_over_at_once(pool: impl Pool) {
    let first = claim("retry-1", "body-a", "t1", T0);
    pool.begin(&first).await.unwrap();
    pool.release(&first.key, &lease("t1", "t1")).await.unwrap();
    assert_eq!(
        pool.begin(&claim("retry-1", "body-a", "t2", T0 + 1)).await.unwrap(),
        Begun::TakenOver(lease("t2", "t1"))
    );
}

pub async fn an_expired_idempotency_record_is_forgotten(pool: impl Pool) {
    let first = claim("retry-1", "body-a", "t1", T0);
    pool.begin(&first).await.unwrap();
    pool.complete(&first.key, &lease("t1", "t1"), &created()).await.unwrap();
    let next_day = claim("retry-1", "body-b", "t2", T0 + 86_400_001);
    assert_eq!(pool.begin(&next_day).await.unwrap(), Begun::Fresh(lease("t2", "t2")));
}

/// Declares one `#[tokio::test]` per contract case, each on a fresh pool from `$new_pool`.
#[macro_export]
macro_rules! contract_tests {
    ($new_pool:path) => {
        $crate::contract_tests!(@cases $new_pool;
            an_empty_pool_has_nothing,
            reads_every_legacy_document,
            writes_a_new_key_and_binding_in_the_exact_shapes,
            refuses_a_taken_api_key_or_id_and_writes_nothing,
            retires_a_replaced_key_once,
            retiring_a_missing_key_archives_nothing,
            binding_an_already_bound_key_again_adds_nothing,
            a_bound_copy_of_a_key_wins_then_the_oldest,
            need_refresh_keys_sort_undated_first_then_by_date_then_id,
            an_idempotency_key_is_claimed_once_then_replays_its_answer,
            a_reused_key_is_refused_even_while_in_flight,
            a_lapsed_lease_is_taken_over_with_the_planned_key_id,
            a_released_lease_is_taken_over_at_once,
            an_expired_idempotency_record_is_forgotten,
        );
    };
    (@cases $new_pool:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                contract::$case($new_pool().await).await;
            }
        )*
    };
}
