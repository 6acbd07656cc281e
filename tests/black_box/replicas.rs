//! Two service processes on one MongoDB, sharing concurrent duplicate requests.

use std::time::Duration;

use bson::doc;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::mongo_pool::fresh_pool;
use crate::service::{RunningService, SECRET, spawn_service};

async fn post(
    client: &reqwest::Client,
    service: &RunningService,
    body: &Value,
    idempotency_key: Option<&str>,
) -> (u16, Value) {
    let mut request = service.post_key(client, body);
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn two_replicas_create_a_contended_key_once() {
    let pool = fresh_pool().await;
    let mut vars = pool.service_vars();
    vars.push(("OPENHANDS_WEBHOOK_SECRET", SECRET));
    let replicas = [spawn_service(&vars), spawn_service(&vars)];
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    // The same key, no Idempotency-Key: one 201, the rest 409 naming it.
    let body = json!({ "apiKey": "sk-contended-0123456789abcdef" });
    let answers = join_all((0..20).map(|i| post(&client, &replicas[i % 2], &body, None))).await;
    let created: Vec<_> = answers.iter().filter(|(status, _)| *status == 201).collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    let id = created[0].1["key"]["id"].clone();
    for (status, answer) in &answers {
        assert!(*status == 201 || (*status == 409 && answer["existing_key_id"] == id), "{status} {answer}");
    }
    assert_eq!(pool.documents("openhands_keys", doc! { "apiKey": "sk-contended-0123456789abcdef" }).await.len(), 1);
    assert_eq!(pool.documents("openhands_bindings", doc! { "openhandsKeyId": id.as_str().unwrap() }).await.len(), 1);

    // The same request retried across replicas with one Idempotency-Key: one key, one answer.
    let body = json!({ "apiKey": "sk-retried-0123456789abcdef" });
    let answers = join_all((0..20).map(|i| post(&client, &replicas[i % 2], &body, Some("shared-retry")))).await;
    let ids: Vec<_> =
        answers.iter().filter(|(status, _)| *status == 201).map(|(_, answer)| answer["key"]["id"].clone()).collect();
    assert!(!ids.is_empty(), "{answers:?}");
    assert!(ids.iter().all(|each| *each == ids[0]), "{ids:?}");
    for (status, answer) in &answers {
        assert!(
            *status == 201
                || (*status == 409 && answer["type"] == "urn:problem:openhands-webhook:idempotency-in-flight"),
            "{status} {answer}"
        );
    }
    let (status, replay) = post(&client, &replicas[1], &body, Some("shared-retry")).await;
    assert_eq!((status, replay["key"]["id"].clone()), (201, ids[0].clone()));
    assert_eq!(pool.documents("openhands_keys", doc! { "apiKey": "sk-retried-0123456789abcdef" }).await.len(), 1);
    assert_eq!(
        pool.documents("openhands_bindings", doc! { "openhandsKeyId": ids[0].as_str().unwrap() }).await.len(),
        1
    );
}
