use crate::helpers::{PREVIOUS_SECRET, SECRET, assert_problem, spawn_app};
use adapters::RawDocuments;

#[tokio::test]
async fn accepts_the_current_and_the_previous_secret() {
    let app = spawn_app().await;
    for secret in [SECRET, PREVIOUS_SECRET] {
        let response = app.get("/webhook/openhands/status").header("X-Webhook-Secret", secret).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn a_missing_wrong_or_repeated_secret_gets_one_and_the_same_401() {
    let app = spawn_app().await;
    let attempts = [
        app.get("/webhook/openhands/status"),
        app.get("/webhook/openhands/status").header("X-Webhook-Secret", "wrong"),
        app.get("/webhook/openhands/status").header("X-Webhook-Secret", ""),
        app.get("/webhook/openhands/status").header("X-Webhook-Secret", &SECRET[1..]),
        app.get("/webhook/openhands/status").header("X-Webhook-Secret", format!("{SECRET}x")),
        app.get("/webhook/openhands/status").header("X-Webhook-Secret", SECRET).header("X-Webhook-Secret", SECRET),
        app.get("/webhook/openhands/status").header("X-Webhook-Secret", SECRET).header("X-Webhook-Secret", "wrong"),
        app.get("/webhook/unknown"),
    ];
    let mut bodies = Vec::new();
    for attempt in attempts {
        bodies.push(assert_problem(attempt.send().await.unwrap(), 401, "unauthorized").await);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "{bodies:?}");
}

#[tokio::test]
async fn the_secret_is_checked_before_the_body_is_read() {
    let app = spawn_app().await;
    let keys_before = app.pool.documents("openhands_keys").await.unwrap().len();
    let unauthenticated = [
        app.post("/webhook/openhands/keys")
            .header("Content-Type", "application/json")
            .body(r#"{"apiKey":"sk-valid-key-0001"}"#),
        app.post("/webhook/openhands/keys").header("Content-Type", "text/plain").body("not json"),
        app.post("/webhook/openhands/keys").header("Content-Type", "application/json").body("x".repeat(100_000)),
        app.post("/webhook/openhands/keys").header("X-Webhook-Secret", "wrong").body("{"),
    ];
    for request in unauthenticated {
        assert_problem(request.send().await.unwrap(), 401, "unauthorized").await;
    }
    assert_eq!(app.pool.documents("openhands_keys").await.unwrap().len(), keys_before);
}

#[tokio::test]
async fn an_authenticated_unknown_webhook_path_is_404() {
    let app = spawn_app().await;
    let response = app.get("/webhook/openhands/nothing").header("X-Webhook-Secret", SECRET).send().await.unwrap();
    assert_problem(response, 404, "not-found").await;
}
