//! The proxy reload hook, against a local HTTP server that records what it is sent.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, legacy_pool, spawn_app_with};

const NEW_KEY: &str = "sk-reload-0123456789abcdef";

/// What the recording server answers.
#[derive(Clone)]
enum Behaviour {
    /// These statuses in turn; the last one from then on.
    Statuses(Vec<u16>),
    /// Answers 200, but only after this long.
    Slow(Duration),
}

#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<(Instant, String, Value)>>>);

impl Calls {
    fn bodies(&self) -> Vec<Value> {
        self.0.lock().unwrap().iter().map(|(_, _, body)| body.clone()).collect()
    }

    fn times(&self) -> Vec<Instant> {
        self.0.lock().unwrap().iter().map(|(at, _, _)| *at).collect()
    }

    /// Waits up to 5 seconds for `count` calls.
    async fn wait_for(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.0.lock().unwrap().len() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(self.0.lock().unwrap().len(), count, "{:?}", self.bodies());
    }
}

async fn record(
    request: HttpRequest,
    body: web::Bytes,
    calls: web::Data<Calls>,
    behaviour: web::Data<Behaviour>,
) -> HttpResponse {
    let content_type = request.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned());
    let attempt = {
        let mut calls = calls.0.lock().unwrap();
        let described = format!("{} {} {}", request.method(), request.path(), content_type.unwrap_or_default());
        calls.push((Instant::now(), described, serde_json::from_slice(&body).unwrap_or(Value::Null)));
        calls.len()
    };
    match behaviour.get_ref() {
        Behaviour::Statuses(statuses) => {
            let status = statuses[(attempt - 1).min(statuses.len() - 1)];
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
        }
        Behaviour::Slow(delay) => {
            tokio::time::sleep(*delay).await;
            HttpResponse::Ok().finish()
        }
    }
}

/// Starts the recording server; returns its reload URL and what it records.
fn start_gateway(behaviour: Behaviour) -> (String, Calls) {
    let calls = Calls::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/admin/reload", listener.local_addr().unwrap().port());
    let (data, behaviour) = (web::Data::new(calls.clone()), web::Data::new(behaviour));
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).app_data(behaviour.clone()).default_service(web::to(record))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, calls)
}

async fn spawn_app_calling(url: &str, timeout_ms: &str) -> TestApp<adapters::MemoryStore> {
    let settings = [("APP__INTEGRATIONS__RELOAD_URL", url), ("APP__INTEGRATIONS__RELOAD_TIMEOUT_MS", timeout_ms)];
    spawn_app_with(legacy_pool(), &settings).await
}

/// POSTs a new key and returns the 201 body and how long the answer took.
async fn provision(app: &TestApp<adapters::MemoryStore>, body: Value) -> (Value, Duration) {
    let started = Instant::now();
    let response = app.post_key(&body.to_string()).await;
    let took = started.elapsed();
    assert_eq!(response.status().as_u16(), 201);
    (response.json().await.unwrap(), took)
}

#[tokio::test]
async fn announces_each_new_key_once_by_id_only() {
    let (url, calls) = start_gateway(Behaviour::Statuses(vec![200]));
    let app = spawn_app_calling(&url, "2000").await;
    let old = "tai-p4-1767225700000-zz91aa";

    let (created, _) = provision(&app, json!({ "apiKey": NEW_KEY, "replaceKeyId": old })).await;

    calls.wait_for(1).await;
    assert_eq!(
        calls.bodies()[0],
        json!({ "event": "key_provisioned", "keyId": created["key"]["id"], "proxyId": "proxy-6", "replacedKey": old })
    );
    assert_eq!(calls.0.lock().unwrap()[0].1, "POST /admin/reload application/json");

    // Refused requests announce nothing.
    assert_eq!(app.post_key(&json!({ "apiKey": NEW_KEY }).to_string()).await.status().as_u16(), 409);
    assert_eq!(app.post_key(r#"{"apiKey":"short"}"#).await.status().as_u16(), 400);
    let unauthenticated = app.post("/webhook/openhands/keys").header("Content-Type", "application/json");
    assert_eq!(
        unauthenticated.body(r#"{"apiKey":"sk-other-0123456789abcdef"}"#).send().await.unwrap().status().as_u16(),
        401
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(calls.bodies().len(), 1);
    assert!(!calls.bodies()[0].to_string().contains("0123456789abcdef"), "never the API key");
}

#[tokio::test]
async fn retries_with_growing_waits_until_the_gateway_accepts() {
    let (url, calls) = start_gateway(Behaviour::Statuses(vec![500, 503, 200, 200]));
    let app = spawn_app_calling(&url, "2000").await;

    let (created, took) = provision(&app, json!({ "apiKey": NEW_KEY })).await;

    assert!(took < Duration::from_millis(500), "the answer waited for the hook: {took:?}");
    calls.wait_for(3).await;
    let times = calls.times();
    assert!(times[1] - times[0] >= Duration::from_millis(200), "{:?}", times[1] - times[0]);
    assert!(times[2] - times[1] >= Duration::from_millis(400), "{:?}", times[2] - times[1]);
    assert!(calls.bodies().iter().all(|body| body["keyId"] == created["key"]["id"]));
    // Accepted at the third attempt: no fourth.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(calls.bodies().len(), 3);
}

#[tokio::test]
async fn a_slow_gateway_neither_delays_the_answer_nor_stops_the_retries() {
    let (url, calls) = start_gateway(Behaviour::Slow(Duration::from_secs(10)));
    let app = spawn_app_calling(&url, "200").await;

    let (_, took) = provision(&app, json!({ "apiKey": NEW_KEY })).await;

    assert!(took < Duration::from_millis(800), "the answer waited for the hook: {took:?}");
    // Each attempt times out after 200 ms; all three are made, then the hook gives up.
    calls.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(calls.bodies().len(), 3);
}

#[tokio::test]
async fn a_gateway_that_is_down_does_not_delay_the_answer() {
    // A port that was free a moment ago: connections to it are refused.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_calling(&format!("http://127.0.0.1:{port}/admin/reload"), "2000").await;

    let (_, took) = provision(&app, json!({ "apiKey": NEW_KEY })).await;

    assert!(took < Duration::from_millis(500), "the answer waited for the hook: {took:?}");
    let status = app.get("/webhook/openhands/status").header("X-Webhook-Secret", SECRET).send().await.unwrap();
    assert_eq!(status.status().as_u16(), 200, "the service keeps serving");
}
