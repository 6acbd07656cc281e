use adapters::documents::{ARCHIVE, BINDINGS, KEYS};
use adapters::{MemoryStore, RawDocuments};
use serde_json::{Value, json};

use crate::failing_pool::FailingPool;
use crate::helpers::{SECRET, TestApp, assert_problem, legacy_pool, spawn_app, spawn_app_with};

const NEW_KEY: &str = "sk-fresh-0123456789abcdef";

async fn counts(app: &TestApp<MemoryStore>) -> [usize; 3] {
    let mut counts = [0; 3];
    for (count, collection) in counts.iter_mut().zip([KEYS, BINDINGS, ARCHIVE]) {
        *count = app.pool.documents(collection).await.unwrap().len();
    }
    counts
}

#[tokio::test]
async fn creates_a_key_bound_to_the_target_proxy() {
    let app = spawn_app().await;
    let before = counts(&app).await;

    let response = app.post_key(&json!({ "apiKey": NEW_KEY }).to_string()).await;

    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let id = body["key"]["id"].as_str().unwrap();
    let parts: Vec<_> = id.rsplitn(3, '-').collect();
    assert_eq!(parts[2], "oh-key");
    assert!(parts[1].parse::<i64>().unwrap() > 1_767_225_600_000, "{id}");
    assert!(parts[0].len() == 6 && parts[0].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{id}");
    assert_eq!(body["success"], true);
    assert_eq!(body["key"]["apiKey"], "sk-fresh...cdef");
    assert_eq!(body["key"]["status"], "healthy");
    assert!(chrono::DateTime::parse_from_rfc3339(body["key"]["createdAt"].as_str().unwrap()).is_ok());
    assert_eq!(body["binding"], json!({ "proxyId": "proxy-6", "priority": 1, "isActive": true }));
    assert_eq!(body["replaced_key"], Value::Null);
    assert_eq!(counts(&app).await, [before[0] + 1, before[1] + 1, before[2]]);
    let status: Value = app.get_status().await.json().await.unwrap();
    assert_eq!(status["summary"]["healthy"], 2);
}

#[tokio::test]
async fn honours_name_priority_proxy_and_charset() {
    let app = spawn_app().await;
    let response = app
        .post("/webhook/openhands/keys")
        .header("X-Webhook-Secret", SECRET)
        .header("Content-Type", "application/json; charset=utf-8")
        .body(json!({ "apiKey": NEW_KEY, "name": "tai-p9", "priority": 4, "proxyId": "proxy-1" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    assert!(body["key"]["id"].as_str().unwrap().starts_with("tai-p9-"));
    assert_eq!(body["binding"], json!({ "proxyId": "proxy-1", "priority": 4, "isActive": true }));
}

#[tokio::test]
async fn uses_the_configured_default_priority_and_reveal_setting() {
    let settings = [("APP__WEBHOOK__DEFAULT_PRIORITY", "6"), ("APP__WEBHOOK__REVEAL_API_KEYS", "true")];
    let app = spawn_app_with(legacy_pool(), &settings).await;
    let body: Value = app.post_key(&json!({ "apiKey": NEW_KEY }).to_string()).await.json().await.unwrap();
    assert_eq!(body["binding"]["priority"], 6);
    assert_eq!(body["key"]["apiKey"], NEW_KEY);
}

#[tokio::test]
async fn a_second_post_of_the_same_key_is_a_409_naming_the_existing_key() {
    let app = spawn_app().await;
    let first: Value = app.post_key(&json!({ "apiKey": NEW_KEY }).to_string()).await.json().await.unwrap();
    let before = counts(&app).await;

    let body =
        assert_problem(app.post_key(&json!({ "apiKey": NEW_KEY }).to_string()).await, 409, "duplicate-api-key").await;

    assert_eq!(body["existing_key_id"], first["key"]["id"]);
    assert!(!body.to_string().contains("0123456789abcdef"), "no key in errors: {body}");
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn finishes_a_key_left_without_a_binding() {
    let app = spawn_app().await;
    // The legacy pool holds this exhausted key with no binding.
    let body: Value = app.post_key(r#"{"apiKey":"sk-live-ex0000ex0000ex0000ex00"}"#).await.json().await.unwrap();
    assert_eq!(body["key"]["id"], "oh-key-1767226000000-ex0000");
    assert_eq!(body["binding"], json!({ "proxyId": "proxy-6", "priority": 1, "isActive": true }));
}

#[tokio::test]
async fn replaces_a_key_and_archives_it() {
    let app = spawn_app().await;
    let old = "tai-p4-1767225700000-zz91aa";
    let before = counts(&app).await;

    let response = app.post_key(&json!({ "apiKey": NEW_KEY, "replaceKeyId": old }).to_string()).await;

    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["replaced_key"], old);
    // One key in, one out; its one binding replaced by the new one; one archive record.
    assert_eq!(counts(&app).await, [before[0], before[1], before[2] + 1]);
    let archive = app.pool.documents(ARCHIVE).await.unwrap();
    assert_eq!(archive[0].get_str("sourceId").unwrap(), old);
    assert_eq!(
        archive[0].get_document("metadata").unwrap().get_str("replacedBy").unwrap(),
        body["key"]["id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_missing_replace_target_gives_a_null_replaced_key() {
    let app = spawn_app().await;
    let body: Value =
        app.post_key(&json!({ "apiKey": NEW_KEY, "replaceKeyId": "gone" }).to_string()).await.json().await.unwrap();
    assert_eq!(body["replaced_key"], Value::Null);
}

#[tokio::test]
async fn replacing_a_serving_key_needs_force() {
    let app = spawn_app().await;
    let healthy = "oh-key-1767225600000-a1b2c3";
    let before = counts(&app).await;

    let refused = app.post_key(&json!({ "apiKey": NEW_KEY, "replaceKeyId": healthy }).to_string()).await;
    let body = assert_problem(refused, 409, "replace-refused").await;
    assert_eq!(body["replaceKeyId"], healthy);
    assert_eq!(counts(&app).await, before);

    let forced = app.post_key(&json!({ "apiKey": NEW_KEY, "replaceKeyId": healthy, "force": true }).to_string()).await;
    assert_eq!(forced.status().as_u16(), 201);
}

#[tokio::test]
async fn an_unknown_proxy_is_422() {
    let app = spawn_app().await;
    let before = counts(&app).await;
    let response = app.post_key(&json!({ "apiKey": NEW_KEY, "proxyId": "proxy-404" }).to_string()).await;
    let body = assert_problem(response, 422, "unknown-proxy").await;
    assert_eq!(body["proxyId"], "proxy-404");
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_missing_target_proxy_is_503_with_retry_after() {
    let app = spawn_app_with(legacy_pool(), &[("APP__WEBHOOK__TARGET_PROXY_ID", "proxy-gone")]).await;
    let before = counts(&app).await;
    let response = app.post_key(&json!({ "apiKey": NEW_KEY }).to_string()).await;
    assert_eq!(response.headers()["retry-after"], "30");
    assert_problem(response, 503, "target-proxy-missing").await;
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_store_outage_is_503_with_retry_after() {
    let app = spawn_app_with(FailingPool, &[]).await;
    let response = app.post_key(&json!({ "apiKey": NEW_KEY }).to_string()).await;
    assert_eq!(response.headers()["retry-after"], "5");
    assert_problem(response, 503, "store-unavailable").await;
}

#[tokio::test]
async fn invalid_bodies_are_400_with_every_field_error_and_write_nothing() {
    let app = spawn_app().await;
    let before = counts(&app).await;
    let cases: [(&str, &[&str]); 8] = [
        ("{", &["body"]),
        ("[1,2]", &["body"]),
        ("{}", &["apiKey"]),
        (r#"{"apiKey":"short"}"#, &["apiKey"]),
        (r#"{"apiKey":"sk-valid-key-0001","surprise":true}"#, &["surprise"]),
        (r#"{"apiKey":"sk-valid-key-0001","priority":0}"#, &["priority"]),
        (r#"{"apiKey":"sk-valid-key-0001","apiKey":"sk-valid-key-0002"}"#, &["apiKey"]),
        (
            r#"{"apiKey":7,"name":"-x","force":"yes","proxyId":"","replaceKeyId":5,"priority":"1"}"#,
            &["apiKey", "name", "replaceKeyId", "force", "priority", "proxyId"],
        ),
    ];
    for (body, fields) in cases {
        let problem = assert_problem(app.post_key(body).await, 400, "invalid-request").await;
        let reported: Vec<_> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(reported, fields, "{body}");
        assert!(problem["errors"].as_array().unwrap().iter().all(|e| e["message"].is_string()));
    }
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_body_over_16_kib_is_413() {
    let app = spawn_app().await;
    let padded = json!({ "apiKey": NEW_KEY, "name": "x".repeat(16 * 1024) }).to_string();
    assert_problem(app.post_key(&padded).await, 413, "payload-too-large").await;

    // Without a Content-Length the limit holds while streaming.
    let chunks: Vec<Result<_, std::io::Error>> = vec![Ok(padded[..10_000].to_owned()), Ok(padded[10_000..].to_owned())];
    let streamed = app
        .post("/webhook/openhands/keys")
        .header("X-Webhook-Secret", SECRET)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_problem(streamed, 413, "payload-too-large").await;

    // Exactly 16 KiB is still read (and here refused for its content, not its size).
    let at_limit = format!("{{\"apiKey\":\"{NEW_KEY}\",\"name\":\"{}\"}}", "x".repeat(16 * 1024 - 48));
    assert_eq!(at_limit.len(), 16 * 1024);
    assert_problem(app.post_key(&at_limit).await, 400, "invalid-request").await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/problem+json"),
        Some("garbage"),
    ] {
        let mut request = app
            .post("/webhook/openhands/keys")
            .header("X-Webhook-Secret", SECRET)
            .body(json!({ "apiKey": NEW_KEY }).to_string());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        assert_problem(request.send().await.unwrap(), 415, "unsupported-media-type").await;
    }
}

#[tokio::test]
async fn only_post_is_allowed() {
    let app = spawn_app().await;
    let response = app.get("/webhook/openhands/keys").header("X-Webhook-Secret", SECRET).send().await.unwrap();
    assert_problem(response, 405, "method-not-allowed").await;
}
