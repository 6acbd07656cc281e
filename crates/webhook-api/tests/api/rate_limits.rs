use crate::helpers::{SECRET, assert_problem, legacy_pool, spawn_app_with};

const STATUS: &str = "/webhook/openhands/status";

#[tokio::test]
async fn an_address_past_its_request_budget_gets_429_with_retry_after() {
    let app = spawn_app_with(legacy_pool(), &[("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        assert_eq!(app.get_status().await.status().as_u16(), 200);
    }
    let refused = app.get_status().await;
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "one request refills every 20 s: {retry_after}");
    assert_problem(refused, 429, "rate-limited").await;
    // Operations endpoints are not limited.
    assert_eq!(app.get("/health").send().await.unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn budgets_are_per_address_behind_a_trusted_proxy() {
    let settings = [("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "1"), ("APP__SERVER__TRUST_FORWARDED_FOR", "true")];
    let app = spawn_app_with(legacy_pool(), &settings).await;
    let from = |address: &str| {
        app.get(STATUS).header("X-Webhook-Secret", SECRET).header("X-Forwarded-For", format!("198.51.100.1, {address}"))
    };
    assert_eq!(from("192.0.2.1").send().await.unwrap().status().as_u16(), 200);
    assert_eq!(from("192.0.2.1").send().await.unwrap().status().as_u16(), 429);
    assert_eq!(from("192.0.2.2").send().await.unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_trusted() {
    let app = spawn_app_with(legacy_pool(), &[("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "1")]).await;
    let from = |address: &str| app.get(STATUS).header("X-Webhook-Secret", SECRET).header("X-Forwarded-For", address);
    assert_eq!(from("192.0.2.1").send().await.unwrap().status().as_u16(), 200);
    assert_eq!(from("192.0.2.2").send().await.unwrap().status().as_u16(), 429);
}

#[tokio::test]
async fn an_address_past_its_failed_auth_budget_is_refused_even_with_the_secret() {
    let app = spawn_app_with(legacy_pool(), &[("APP__RATE_LIMIT__AUTH_FAILURES_PER_MINUTE", "2")]).await;
    let wrong = || app.get(STATUS).header("X-Webhook-Secret", "guess").send();
    assert_problem(wrong().await.unwrap(), 401, "unauthorized").await;
    assert_problem(wrong().await.unwrap(), 401, "unauthorized").await;
    let locked = wrong().await.unwrap();
    assert!(locked.headers().contains_key("retry-after"));
    assert_problem(locked, 429, "rate-limited").await;
    assert_problem(app.get_status().await, 429, "rate-limited").await;
}

#[tokio::test]
async fn zero_turns_the_limits_off() {
    let settings = [("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "0"), ("APP__RATE_LIMIT__AUTH_FAILURES_PER_MINUTE", "0")];
    let app = spawn_app_with(legacy_pool(), &settings).await;
    for _ in 0..150 {
        assert_eq!(app.get(STATUS).header("X-Webhook-Secret", "guess").send().await.unwrap().status().as_u16(), 401);
    }
    assert_eq!(app.get_status().await.status().as_u16(), 200);
}
