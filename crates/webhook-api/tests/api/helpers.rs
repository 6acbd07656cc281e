//! `spawn_app`: starts the application on a free port with a store the test seeded.

use std::collections::HashMap;
use std::path::Path;

use adapters::seed::Seed;
use adapters::{IdempotencyStore, KeyPool, MemoryStore};
use reqwest::{RequestBuilder, Response};
use serde_json::Value;
use webhook_api::configuration::Settings;
use webhook_api::startup::Application;

pub const SECRET: &str = "test-secret-0123456789abcdef0123456789";
pub const PREVIOUS_SECRET: &str = "previous-secret-0123456789abcdef012345";

pub struct TestApp<P> {
    pub address: String,
    pub pool: P,
    client: reqwest::Client,
}

pub fn legacy_pool() -> MemoryStore {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/legacy-pool.json");
    MemoryStore::from_seed(Seed::from_file(Path::new(path)).expect("the legacy fixture parses"))
}

/// The application on the legacy fixture, with default settings.
pub async fn spawn_app() -> TestApp<MemoryStore> {
    spawn_app_with(legacy_pool(), &[]).await
}

/// The application on `pool`, with extra `APP__…` settings.
pub async fn spawn_app_with<P: KeyPool + IdempotencyStore>(pool: P, vars: &[(&str, &str)]) -> TestApp<P> {
    let mut env: HashMap<String, String> = HashMap::from([
        ("APP__SERVER__PORT".into(), "0".into()),
        ("APP__STORE__SEED_FILE".into(), String::new()),
        ("OPENHANDS_WEBHOOK_SECRET".into(), SECRET.into()),
        ("OPENHANDS_WEBHOOK_SECRET_PREVIOUS".into(), PREVIOUS_SECRET.into()),
    ]);
    env.extend(vars.iter().map(|(name, value)| (name.to_string(), value.to_string())));
    let config_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let settings = Settings::load_from(&config_dir, &env).expect("test settings load");
    let application = Application::build(&settings, pool.clone()).expect("the application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp { address, pool, client: reqwest::Client::new() }
}

impl<P> TestApp<P> {
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.address))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.address))
    }

    pub async fn get_status(&self) -> Response {
        self.get("/webhook/openhands/status").header("X-Webhook-Secret", SECRET).send().await.unwrap()
    }

    /// POSTs `body` as JSON with the right secret.
    pub async fn post_key(&self, body: &str) -> Response {
        self.post("/webhook/openhands/keys")
            .header("X-Webhook-Secret", SECRET)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }
}

/// Asserts a problem response and returns its body.
pub async fn assert_problem(response: Response, status: u16, slug: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:problem:openhands-webhook:{slug}"));
    assert_eq!(body["status"], status);
    assert_eq!(body["error"], body["title"]);
    assert!(body["detail"].as_str().is_some_and(|detail| !detail.is_empty()));
    body
}
