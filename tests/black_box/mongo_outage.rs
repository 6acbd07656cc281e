//! MongoDB going away under the running binary, and coming back.

use std::time::{Duration, Instant};

use serde_json::json;

use test_support::private_server::PrivateServer;

use crate::mongo_pool::pool_on;
use crate::service::{SECRET, spawn_service};

#[tokio::test]
async fn an_outage_answers_503_quickly_and_the_service_recovers_by_itself() {
    let mut server = PrivateServer::start();
    let pool = pool_on(server.uri()).await;
    let mut vars = pool.service_vars();
    vars.push(("OPENHANDS_WEBHOOK_SECRET", SECRET));
    let service = spawn_service(&vars);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let status = || client.get(service.url("/webhook/openhands/status")).header("X-Webhook-Secret", SECRET).send();
    let post = |api_key: &'static str| service.post_key(&client, &json!({ "apiKey": api_key })).send();
    assert_eq!(status().await.unwrap().status().as_u16(), 200);

    server.kill();
    for (name, request) in [("status", status().await), ("post", post("sk-during-outage-0123456789").await)] {
        let started = Instant::now();
        let response = request.unwrap();
        assert_eq!(response.status().as_u16(), 503, "{name}");
        assert!(response.headers().contains_key("retry-after"), "{name}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["type"], "urn:problem:openhands-webhook:store-unavailable", "{name}");
        assert!(started.elapsed() < Duration::from_secs(6), "{name} took {:?}", started.elapsed());
    }
    let started = Instant::now();
    assert_eq!(client.get(service.url("/ready")).send().await.unwrap().status().as_u16(), 503);
    assert!(started.elapsed() < Duration::from_secs(3), "ready took {:?}", started.elapsed());
    assert_eq!(client.get(service.url("/health")).send().await.unwrap().status().as_u16(), 200);

    server.restart();
    // The in-memory test server came back empty: the proxy must be there again.
    let pool = crate::mongo_pool::pool_on_named(server.uri(), &pool.db_name).await;
    let mut recovered = false;
    for _ in 0..40 {
        if client.get(service.url("/ready")).send().await.unwrap().status().as_u16() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the service did not recover:\n{}", service.logs());
    assert_eq!(post("sk-after-outage-0123456789").await.unwrap().status().as_u16(), 201);
    assert_eq!(pool.documents("openhands_keys", bson::doc! {}).await.len(), 1);
}
