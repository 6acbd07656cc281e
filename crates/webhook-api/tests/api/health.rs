use crate::failing_pool::FailingPool;
use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_ready_answer_without_a_secret() {
    let app = spawn_app().await;
    for (path, status) in [("/health", "ok"), ("/ready", "ready")] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body, serde_json::json!({ "status": status }));
    }
}

#[tokio::test]
async fn ready_fails_but_health_holds_when_the_store_is_down() {
    let app = spawn_app_with(FailingPool, &[]).await;
    assert_eq!(app.get("/health").send().await.unwrap().status().as_u16(), 200);
    let response = app.get("/ready").send().await.unwrap();
    assert_eq!(response.headers()["retry-after"], "5");
    assert_problem(response, 503, "store-unavailable").await;
}

#[tokio::test]
async fn other_methods_get_405_and_unknown_paths_404() {
    let app = spawn_app().await;
    assert_problem(app.post("/health").send().await.unwrap(), 405, "method-not-allowed").await;
    assert_problem(app.get("/nowhere").send().await.unwrap(), 404, "not-found").await;
}
