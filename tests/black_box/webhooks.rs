use serde_json::{Value, json};

use crate::service::{SECRET, spawn_service};

const POSTED_KEY: &str = "sk-black-box-0123456789abcdefXYZ";

#[tokio::test]
async fn serves_the_legacy_pool_and_provisions_once() {
    let service = spawn_service(&[
        ("OPENHANDS_WEBHOOK_SECRET", SECRET),
        ("APP__STORE__SEED_FILE", "tests/fixtures/legacy-pool.json"),
    ]);
    let client = reqwest::Client::new();

    let health = client.get(service.url("/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    let status: Value = service.status().await;
    assert_eq!((status["need_refresh"].clone(), status["count"].clone()), (json!(true), json!(3)));
    assert_eq!(status["summary"]["total"], 8);
    assert_eq!(status["summary"]["other"], 1);

    let post = || service.post_key(&client, &json!({ "apiKey": POSTED_KEY })).send();
    let created = post().await.unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    assert!(created["key"]["id"].as_str().unwrap().starts_with("oh-key-"));
    assert_eq!(created["binding"], json!({ "proxyId": "proxy-6", "priority": 1, "isActive": true }));

    let again = post().await.unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["existing_key_id"], created["key"]["id"]);

    let logs = service.logs();
    assert!(logs.contains("GET /webhook/openhands/status 200"), "one access line per request:\n{logs}");
    assert!(logs.contains("POST /webhook/openhands/keys 201"), "{logs}");
    assert!(logs.contains("POST /webhook/openhands/keys 409"), "{logs}");
    assert!(!logs.contains(SECRET), "the secret must never be logged:\n{logs}");
    assert!(!logs.contains(POSTED_KEY), "a posted key must never be logged:\n{logs}");
    assert!(!logs.contains("sk-live-zz91aazz91aazz91aazz91"), "a stored key must never be logged:\n{logs}");
}

#[tokio::test]
async fn make_run_serves_the_dev_pool() {
    // The local profile's own seed file, as `make run` starts it.
    let service = spawn_service(&[("OPENHANDS_WEBHOOK_SECRET", SECRET)]);
    let status: Value = service.status().await;
    assert_eq!(status["count"], 1);
    assert_eq!(status["keys"][0]["status"], "need_refresh");
    assert_eq!(status["keys"][0]["apiKey"], "sk-dev-e...0003");
    assert_eq!(status["summary"]["total"], 4);
}
