//! A process killed mid-stream, restarted, and every request retried with its
//! Idempotency-Key: the pool ends as if each request had succeeded once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bson::doc;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::mongo_pool::fresh_pool;
use crate::service::{SECRET, spawn_service};

const REQUESTS: usize = 40;
const REPLACING: usize = 10;

fn api_key(i: usize) -> String {
    format!("sk-crash-{i:04}-0123456789abcdef")
}

fn body(i: usize) -> Value {
    if i < REPLACING {
        json!({ "apiKey": api_key(i), "replaceKeyId": format!("old-{i}") })
    } else {
        json!({ "apiKey": api_key(i) })
    }
}

async fn post(client: &reqwest::Client, base: &str, i: usize) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/webhook/openhands/keys"))
        .header("X-Webhook-Secret", SECRET)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", format!("crash-{i}"))
        .body(body(i).to_string())
        .send()
        .await
}

#[tokio::test]
async fn sigkill_mid_stream_then_retries_leave_each_key_exactly_once_without_transactions() {
    sigkill_mid_stream_then_retry_everything("never").await;
}

/// A transaction the killed process left open holds its documents until the server aborts it
/// (MongoDB's `transactionLifetimeLimitSeconds`, 60 s by default): retries meanwhile get 503.
#[tokio::test]
async fn sigkill_mid_stream_then_retries_leave_each_key_exactly_once_with_transactions() {
    sigkill_mid_stream_then_retry_everything("auto").await;
}

async fn sigkill_mid_stream_then_retry_everything(transactions: &str) {
    let pool = fresh_pool().await;
    for i in 0..REPLACING {
        let old = format!("old-{i}");
        pool.insert(
            "openhands_keys",
            vec![doc! { "_id": &old, "apiKey": format!("sk-old-{i:04}-abcdefghijkl"), "status": "need_refresh" }],
        )
        .await;
        pool.insert("openhands_bindings", vec![doc! { "_id": bson::oid::ObjectId::new(), "proxyId": "proxy-6", "openhandsKeyId": &old, "priority": 1, "isActive": true }])
            .await;
    }
    let mut vars = pool.service_vars();
    vars.extend([
        ("OPENHANDS_WEBHOOK_SECRET", SECRET),
        ("APP__IDEMPOTENCY__LEASE_SECS", "1"),
        ("APP__MONGO__TRANSACTIONS", transactions),
    ]);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    // Stream the requests, four at a time, and kill the process while they are flowing.
    let mut first = spawn_service(&vars);
    let answered = Arc::new(AtomicUsize::new(0));
    let stream = {
        let (client, base, answered) = (client.clone(), first.base_url.clone(), Arc::clone(&answered));
        tokio::spawn(async move {
            futures::stream::iter(0..REQUESTS)
                .map(|i| {
                    let (client, base, answered) = (client.clone(), base.clone(), Arc::clone(&answered));
                    async move {
                        if post(&client, &base, i).await.is_ok() {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
                .buffer_unordered(4)
                .collect::<Vec<_>>()
                .await
        })
    };
    while answered.load(Ordering::SeqCst) < REQUESTS / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill_hard();
    stream.await.unwrap();
    let answered_before_the_kill = answered.load(Ordering::SeqCst);
    assert!(answered_before_the_kill < REQUESTS, "the kill came after every request was answered");

    // Restart and retry everything, as the client would.
    let second = spawn_service(&vars);
    let mut ids = Vec::new();
    for i in 0..REQUESTS {
        let mut answer = None;
        let mut last = String::new();
        // Up to 100 s: longer than a server keeps a dead process's transaction open.
        for _ in 0..400 {
            let response = post(&client, &second.base_url, i).await.unwrap();
            match response.status().as_u16() {
                201 => {
                    answer = Some(response.json::<Value>().await.unwrap());
                    break;
                }
                409 | 503 => {
                    last = response.text().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                other => panic!("request {i}: unexpected {other}: {}", response.text().await.unwrap()),
            }
        }
        let answer =
            answer.unwrap_or_else(|| panic!("request {i} never succeeded; last answer {last}\n{}", second.logs()));
        if i < REPLACING {
            assert_eq!(answer["replaced_key"], format!("old-{i}"), "request {i}");
        }
        ids.push(answer["key"]["id"].as_str().unwrap().to_owned());
    }

    for (i, id) in ids.iter().enumerate() {
        let keys = pool.documents("openhands_keys", doc! { "apiKey": api_key(i) }).await;
        assert_eq!(keys.len(), 1, "request {i}: {keys:?}");
        assert_eq!(keys[0].get_str("_id"), Ok(id.as_str()), "request {i}");
        let bindings = pool.documents("openhands_bindings", doc! { "openhandsKeyId": id }).await;
        assert_eq!(bindings.len(), 1, "request {i}");
    }
    for i in 0..REPLACING {
        let old = format!("old-{i}");
        assert!(pool.documents("openhands_keys", doc! { "_id": &old }).await.is_empty(), "{old} still there");
        assert!(pool.documents("openhands_bindings", doc! { "openhandsKeyId": &old }).await.is_empty());
        let archived = pool.documents("deleted_keys_archive", doc! { "sourceId": &old }).await;
        assert_eq!(archived.len(), 1, "{old} archived once: {archived:?}");
    }
    assert_eq!(pool.documents("openhands_keys", doc! {}).await.len(), REQUESTS);
    assert_eq!(pool.documents("openhands_bindings", doc! {}).await.len(), REQUESTS);
    assert_eq!(pool.documents("deleted_keys_archive", doc! {}).await.len(), REPLACING);
}
