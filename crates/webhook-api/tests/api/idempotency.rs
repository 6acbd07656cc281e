use adapters::documents::{BINDINGS, KEYS, PROXIES};
use adapters::{Begun, IdempotencyClaim, IdempotencyStore, MemoryStore, RawDocuments};
use bson::doc;
use chrono::{TimeDelta, Utc};
use domain::{ApiKey, IdempotencyKey, KeyId, KeyName};
use futures::future::join_all;
use serde_json::{Value, json};
use webhook_api::application::ProvisionRequest;

use crate::helpers::{SECRET, TestApp, assert_problem, legacy_pool, spawn_app, spawn_app_with};

const KEY: &str = "sk-idempotent-0123456789abcdef";

async fn post_with(app: &TestApp<MemoryStore>, idempotency_key: &str, body: &Value) -> reqwest::Response {
    app.post("/webhook/openhands/keys")
        .header("X-Webhook-Secret", SECRET)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", idempotency_key)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn key_count(app: &TestApp<MemoryStore>) -> usize {
    app.pool.documents(KEYS).await.unwrap().len()
}

/// A claim as another replica's attempt would have left it.
fn earlier_attempt(idempotency_key: &str, planned: &str, lease_left: TimeDelta) -> IdempotencyClaim {
    let request = ProvisionRequest {
        api_key: ApiKey::parse(KEY).unwrap(),
        name: KeyName::default(),
        replace_key_id: None,
        force: false,
        priority: None,
        proxy_id: None,
    };
    let now = Utc::now();
    IdempotencyClaim {
        key: IdempotencyKey::parse(idempotency_key.as_bytes()).unwrap(),
        fingerprint: request.fingerprint(),
        planned_key_id: KeyId::parse(planned).unwrap(),
        token: "earlier".into(),
        now: now - TimeDelta::seconds(30),
        lease_until: now + lease_left,
        expires_at: now + TimeDelta::hours(24),
    }
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_replayed() {
    let app = spawn_app().await;
    let before = key_count(&app).await;

    let first = post_with(&app, "retry-a", &json!({ "apiKey": KEY })).await;
    assert_eq!(first.status().as_u16(), 201);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let first_body = first.text().await.unwrap();

    // Same meaning, other spelling: still the same request.
    let retry = post_with(&app, "retry-a", &json!({ "force": null, "apiKey": KEY })).await;
    assert_eq!(retry.status().as_u16(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["cache-control"], "no-store");
    assert_eq!(retry.headers()["content-type"], "application/json");
    assert_eq!(retry.text().await.unwrap(), first_body);
    assert_eq!(key_count(&app).await, before + 1);
}

#[tokio::test]
async fn refusals_are_replayed_too() {
    let app = spawn_app().await;
    let body = json!({ "apiKey": KEY, "proxyId": "proxy-404" });
    let first = assert_problem(post_with(&app, "retry-b", &body).await, 422, "unknown-proxy").await;
    let retry = post_with(&app, "retry-b", &body).await;
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(assert_problem(retry, 422, "unknown-proxy").await, first);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let app = spawn_app().await;
    assert_eq!(post_with(&app, "retry-c", &json!({ "apiKey": KEY })).await.status().as_u16(), 201);
    let other = post_with(&app, "retry-c", &json!({ "apiKey": KEY, "priority": 2 })).await;
    assert_problem(other, 422, "idempotency-key-reused").await;
}

#[tokio::test]
async fn a_retry_while_the_first_is_running_is_409() {
    let app = spawn_app().await;
    let claim = earlier_attempt("retry-d", "oh-key-1-planned", TimeDelta::seconds(8));
    assert!(matches!(app.pool.begin(&claim).await.unwrap(), Begun::Fresh(_)));
    let before = key_count(&app).await;

    let response = post_with(&app, "retry-d", &json!({ "apiKey": KEY })).await;

    let retry_after: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=8).contains(&retry_after), "{retry_after}");
    assert_problem(response, 409, "idempotency-in-flight").await;
    assert_eq!(key_count(&app).await, before);
}

#[tokio::test]
async fn a_retry_after_a_dead_attempt_finishes_its_work_with_its_key_id() {
    let app = spawn_app().await;
    // The earlier attempt recorded its plan, inserted and bound the key, then its process died.
    app.pool.begin(&earlier_attempt("retry-e", "oh-key-1-planned", TimeDelta::seconds(-1))).await.unwrap();
    app.pool
        .insert_documents(KEYS, vec![doc! { "_id": "oh-key-1-planned", "apiKey": KEY, "status": "healthy" }])
        .await
        .unwrap();
    app.pool
        .insert_documents(
            BINDINGS,
            vec![doc! { "_id": bson::oid::ObjectId::new(), "proxyId": "proxy-6", "openhandsKeyId": "oh-key-1-planned",
            "priority": 1, "isActive": true }],
        )
        .await
        .unwrap();
    let before = key_count(&app).await;

    let response = post_with(&app, "retry-e", &json!({ "apiKey": KEY })).await;

    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["key"]["id"], "oh-key-1-planned");
    assert_eq!(key_count(&app).await, before);
    assert_eq!(app.pool.documents(BINDINGS).await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_retry_after_a_dead_attempt_that_wrote_nothing_creates_the_planned_key() {
    let app = spawn_app().await;
    app.pool.begin(&earlier_attempt("retry-f", "oh-key-1-planned", TimeDelta::seconds(-1))).await.unwrap();
    let body: Value = post_with(&app, "retry-f", &json!({ "apiKey": KEY })).await.json().await.unwrap();
    assert_eq!(body["key"]["id"], "oh-key-1-planned");
}

#[tokio::test]
async fn a_server_error_is_not_kept_so_the_retry_runs_again() {
    let app = spawn_app_with(legacy_pool(), &[("APP__WEBHOOK__TARGET_PROXY_ID", "proxy-new")]).await;
    let body = json!({ "apiKey": KEY });
    assert_problem(post_with(&app, "retry-g", &body).await, 503, "target-proxy-missing").await;

    app.pool.insert_documents(PROXIES, vec![doc! { "_id": "proxy-new" }]).await.unwrap();
    let retry = post_with(&app, "retry-g", &body).await;

    assert_eq!(retry.status().as_u16(), 201);
    assert!(!retry.headers().contains_key("idempotent-replayed"));
}

#[tokio::test]
async fn a_malformed_idempotency_key_is_400() {
    let app = spawn_app().await;
    let long = "k".repeat(256);
    for value in ["", long.as_str(), "has space", "caf\u{e9}"] {
        let request = app
            .post("/webhook/openhands/keys")
            .header("X-Webhook-Secret", SECRET)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", value)
            .body(json!({ "apiKey": KEY }).to_string());
        let problem = assert_problem(request.send().await.unwrap(), 400, "invalid-request").await;
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key", "{value:?}");
    }
    let repeated = app
        .post("/webhook/openhands/keys")
        .header("X-Webhook-Secret", SECRET)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "one")
        .header("Idempotency-Key", "two")
        .body(json!({ "apiKey": KEY }).to_string());
    assert_problem(repeated.send().await.unwrap(), 400, "invalid-request").await;
    assert_eq!(key_count(&app).await, 8);
}

#[tokio::test]
async fn concurrent_posts_of_one_key_create_it_once() {
    let app = spawn_app().await;
    let before = (key_count(&app).await, app.pool.documents(BINDINGS).await.unwrap().len());

    let body = json!({ "apiKey": KEY }).to_string();
    let statuses: Vec<u16> = join_all((0..20).map(|_| app.post_key(&body)))
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect();

    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|status| [201, 409].contains(status)), "{statuses:?}");
    assert_eq!(
        (key_count(&app).await, app.pool.documents(BINDINGS).await.unwrap().len()),
        (before.0 + 1, before.1 + 1)
    );
}

#[tokio::test]
async fn concurrent_retries_of_one_request_create_the_key_once() {
    let app = spawn_app().await;
    let body = json!({ "apiKey": KEY });

    let responses = join_all((0..20).map(|_| post_with(&app, "retry-h", &body))).await;

    let mut ids = Vec::new();
    for response in responses {
        match response.status().as_u16() {
            201 => ids.push(response.json::<Value>().await.unwrap()["key"]["id"].clone()),
            409 => {
                assert_problem(response, 409, "idempotency-in-flight").await;
            }
            other => panic!("unexpected {other}"),
        };
    }
    assert!(!ids.is_empty() && ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
    assert_eq!(key_count(&app).await, 9);
}
