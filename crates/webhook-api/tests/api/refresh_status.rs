use serde_json::{Value, json};

use crate::failing_pool::FailingPool;
use crate::helpers::{assert_problem, legacy_pool, spawn_app, spawn_app_with};

#[tokio::test]
async fn reports_need_refresh_keys_masked_with_the_summary() {
    let app = spawn_app().await;

    let response = app.get_status().await;

    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let mut body: Value = response.json().await.unwrap();
    let checked_at = body["checked_at"].take();
    assert!(chrono::DateTime::parse_from_rfc3339(checked_at.as_str().unwrap()).is_ok(), "{checked_at}");
    let expected = include_str!("../../../../tests/fixtures/legacy-pool-status.json");
    assert_eq!(body, serde_json::from_str::<Value>(expected).unwrap());
}

#[tokio::test]
async fn reveals_whole_keys_when_configured() {
    let app = spawn_app_with(legacy_pool(), &[("APP__WEBHOOK__REVEAL_API_KEYS", "true")]).await;
    let body: Value = app.get_status().await.json().await.unwrap();
    assert_eq!(body["keys"][2]["apiKey"], "sk-live-zz91aazz91aazz91aazz91");
}

#[tokio::test]
async fn an_empty_pool_needs_no_refresh() {
    let app = spawn_app_with(adapters::MemoryStore::new(), &[]).await;
    let body: Value = app.get_status().await.json().await.unwrap();
    assert_eq!(
        (body["need_refresh"].clone(), body["count"].clone(), body["keys"].clone()),
        (json!(false), json!(0), json!([]))
    );
    assert_eq!(body["summary"]["total"], 0);
}

#[tokio::test]
async fn answers_503_with_retry_after_when_the_store_is_down() {
    let app = spawn_app_with(FailingPool, &[]).await;
    let response = app.get_status().await;
    assert_eq!(response.headers()["retry-after"], "5");
    let body = assert_problem(response, 503, "store-unavailable").await;
    assert!(!body.to_string().contains("server selection"), "driver details stay in the log: {body}");
}

#[tokio::test]
async fn only_get_is_allowed() {
    let app = spawn_app().await;
    let response =
        app.post("/webhook/openhands/status").header("X-Webhook-Secret", crate::helpers::SECRET).send().await.unwrap();
    assert_problem(response, 405, "method-not-allowed").await;
}
