use std::collections::HashMap;

use serde_json::json;

use crate::failing_pool::FailingPool;
use crate::helpers::{TestApp, assert_problem, legacy_pool, spawn_app, spawn_app_with};

/// Every sample of a scrape, by its series (name and labels).
async fn scrape<P>(app: &TestApp<P>) -> HashMap<String, f64> {
    let response = app.get("/metrics").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            (series.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn counts_requests_by_route_provisioning_and_failed_authentication() {
    let app = spawn_app().await;
    let before = scrape(&app).await;

    let created = app.post_key(&json!({ "apiKey": "sk-metrics-0123456789abcdef" }).to_string()).await;
    assert_eq!(created.status().as_u16(), 201);
    let duplicate = app.post_key(&json!({ "apiKey": "sk-metrics-0123456789abcdef" }).to_string()).await;
    assert_eq!(duplicate.status().as_u16(), 409);
    assert_eq!(app.get("/webhook/openhands/status").send().await.unwrap().status().as_u16(), 401);
    assert_eq!(app.get("/no/such/path/42").send().await.unwrap().status().as_u16(), 404);

    let after = scrape(&app).await;
    let moved = |series: &str| value(&after, series) - value(&before, series);
    let keys = r#"route="/webhook/openhands/keys""#;
    assert_eq!(moved(&format!("webhook_http_requests_total{{{keys},status=\"201\"}}")), 1.0);
    assert_eq!(moved(&format!("webhook_http_requests_total{{{keys},status=\"409\"}}")), 1.0);
    assert_eq!(moved(r#"webhook_http_requests_total{route="/webhook/openhands/status",status="401"}"#), 1.0);
    // Unknown paths share one series, whatever the path.
    assert_eq!(moved(r#"webhook_http_requests_total{route="unmatched",status="404"}"#), 1.0);
    assert!(!after.keys().any(|series| series.contains("/no/such/path")));
    assert_eq!(moved(&format!("webhook_http_request_duration_seconds_count{{{keys}}}")), 2.0);
    assert_eq!(moved("webhook_keys_provisioned_total"), 1.0);
    assert_eq!(moved("webhook_keys_replaced_total"), 0.0);
    assert_eq!(moved("webhook_auth_failures_total"), 1.0);
    assert_eq!(moved("webhook_store_errors_total"), 0.0);
    assert_eq!(value(&after, "webhook_rate_limited_total"), 0.0);
    // The legacy pool's one healthy key, and the new one.
    assert_eq!(value(&after, "webhook_pool_status_up"), 1.0);
    assert_eq!(value(&after, r#"webhook_pool_keys{status="healthy"}"#), 2.0);
    assert_eq!(value(&after, r#"webhook_pool_keys{status="need_refresh"}"#), 3.0);
}

#[tokio::test]
async fn counts_replaced_keys() {
    let app = spawn_app().await;
    let body = json!({ "apiKey": "sk-metrics-0123456789abcdef", "replaceKeyId": "tai-p4-1767225700000-zz91aa" });
    assert_eq!(app.post_key(&body.to_string()).await.status().as_u16(), 201);
    let after = scrape(&app).await;
    assert_eq!(value(&after, "webhook_keys_provisioned_total"), 1.0);
    assert_eq!(value(&after, "webhook_keys_replaced_total"), 1.0);
}

#[tokio::test]
async fn a_store_outage_counts_as_store_errors_and_the_scrape_still_answers() {
    let app = spawn_app_with(FailingPool, &[]).await;
    assert_eq!(app.get_status().await.status().as_u16(), 503);
    assert_eq!(app.get("/ready").send().await.unwrap().status().as_u16(), 503);

    let after = scrape(&app).await;
    assert_eq!(value(&after, "webhook_store_errors_total"), 2.0);
    assert_eq!(value(&after, "webhook_pool_status_up"), 0.0);
    assert!(!after.keys().any(|series| series.starts_with("webhook_pool_keys")), "{after:?}");
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let app = spawn_app_with(legacy_pool(), &[("APP__METRICS__ENABLED", "false")]).await;
    assert_problem(app.get("/metrics").send().await.unwrap(), 404, "not-found").await;
}

#[tokio::test]
async fn only_get_is_allowed() {
    let app = spawn_app().await;
    assert_problem(app.post("/metrics").send().await.unwrap(), 405, "method-not-allowed").await;
}

#[tokio::test]
async fn counts_rate_limited_requests() {
    let app = spawn_app_with(legacy_pool(), &[("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "1")]).await;
    assert_eq!(app.get_status().await.status().as_u16(), 200);
    assert_eq!(app.get_status().await.status().as_u16(), 429);
    let after = scrape(&app).await;
    assert_eq!(value(&after, "webhook_rate_limited_total"), 1.0);
    assert_eq!(value(&after, r#"webhook_http_requests_total{route="/webhook/openhands/status",status="429"}"#), 1.0);
}
