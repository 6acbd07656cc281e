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
    assert_eq!(
        body,
        json!({
            "need_refresh": true,
            "count": 3,
            "keys": [
                {"id": "key-legacy-7", "apiKey": "sk-legac...0007", "status": "need_refresh",
                 "lastError": null, "lastUsedAt": null, "createdAt": null, "updatedAt": null},
                {"id": "tai-p5-1767225800000-qq00ww", "apiKey": "...key9", "status": "need_refresh",
                 "lastError": null, "lastUsedAt": null, "createdAt": "2026-11-01T12:00:00Z", "updatedAt": null},
                {"id": "tai-p4-1767225700000-zz91aa", "apiKey": "sk-live-...zz91", "status": "need_refresh",
                 "lastError": "401 {\"error\":{\"message\":\"token_not_found_in_db\"}}",
                 "lastUsedAt": "2026-11-30T08:00:00Z", "createdAt": "2026-11-02T00:00:00Z",
                 "updatedAt": "2026-11-30T08:00:01Z"},
            ],
            "summary": {"total": 8, "healthy": 1, "need_refresh": 3, "rate_limited": 1,
                        "exhausted": 1, "error": 1, "other": 1},
            "checked_at": null,
        })
    );
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
