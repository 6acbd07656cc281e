use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

async fn document() -> (Value, crate::helpers::TestApp<adapters::MemoryStore>) {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    (response.json().await.unwrap(), app)
}

/// Follows a `$ref` within the document.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => document.pointer(reference.trim_start_matches('#')).expect(reference),
        None => schema,
    }
}

fn property_names(document: &Value, schema: &Value) -> Vec<String> {
    let mut names: Vec<_> = resolve(document, schema)["properties"].as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

fn sorted_keys(object: &Value) -> Vec<String> {
    let mut names: Vec<_> = object.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[tokio::test]
async fn describes_every_route_and_every_answer() {
    let (document, _app) = document().await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1."), "{}", document["openapi"]);

    let routes: [(&str, &str, &[u16]); 6] = [
        ("/webhook/openhands/status", "get", &[200, 401, 405, 429, 503]),
        ("/webhook/openhands/keys", "post", &[201, 400, 401, 405, 409, 413, 415, 422, 429, 503]),
        ("/health", "get", &[200, 405]),
        ("/ready", "get", &[200, 405, 503]),
        ("/metrics", "get", &[200, 404, 405]),
        ("/openapi.json", "get", &[200, 405]),
    ];
    for (path, method, statuses) in routes {
        let operation = &document["paths"][path][method];
        let answers = operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path} is described"));
        let mut documented: Vec<u16> = answers.keys().map(|status| status.parse().unwrap()).collect();
        documented.sort();
        assert_eq!(documented, statuses, "{method} {path}");
        for (status, answer) in answers {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &answer["content"]["application/problem+json"]["schema"];
                assert_eq!(schema["$ref"], "#/components/schemas/Problem", "{method} {path} {status}");
            }
            if status == "429" || status == "503" {
                assert!(answer["headers"]["Retry-After"].is_object(), "{method} {path} {status}");
            }
        }
        let needs_secret = path.starts_with("/webhook/");
        assert_eq!(operation["security"] == json!([{ "webhook_secret": [] }]), needs_secret, "{method} {path}");
    }
    assert!(document["components"]["responses"]["NotFound"].is_object());
}

#[tokio::test]
async fn names_the_secret_header_and_the_idempotency_headers() {
    let (document, _app) = document().await;
    assert_eq!(
        document["components"]["securitySchemes"]["webhook_secret"],
        json!({ "type": "apiKey", "in": "header", "name": "x-webhook-secret",
                "description": document["components"]["securitySchemes"]["webhook_secret"]["description"] })
    );
    let provision = &document["paths"]["/webhook/openhands/keys"]["post"];
    let header = &provision["parameters"][0];
    assert_eq!(
        (&header["name"], &header["in"], &header["required"]),
        (&json!("Idempotency-Key"), &json!("header"), &json!(false))
    );
    assert_eq!((&header["schema"]["minLength"], &header["schema"]["maxLength"]), (&json!(1), &json!(255)));
    assert!(provision["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
    let conflicts = provision["responses"]["409"]["description"].as_str().unwrap();
    for slug in ["duplicate-api-key", "replace-refused", "idempotency-in-flight"] {
        assert!(conflicts.contains(slug), "{slug}");
    }
    let unprocessable = provision["responses"]["422"]["description"].as_str().unwrap();
    for slug in ["unknown-proxy", "idempotency-key-reused"] {
        assert!(unprocessable.contains(slug), "{slug}");
    }
    let request = resolve(&document, &provision["requestBody"]["content"]["application/json"]["schema"]);
    assert_eq!(request["required"], json!(["apiKey"]));
    assert_eq!(request["additionalProperties"], json!(false));
    assert_eq!(property_names(&document, request), ["apiKey", "force", "name", "priority", "proxyId", "replaceKeyId"]);
}

/// The documented bodies are the ones the handlers send.
#[tokio::test]
async fn the_documented_bodies_match_the_answers() {
    let (document, app) = document().await;
    let created: Value = app.post_key(r#"{"apiKey":"sk-openapi-0123456789abcdef"}"#).await.json().await.unwrap();
    let status: Value = app.get_status().await.json().await.unwrap();
    let schema = |path: &str, method: &str, code: &str| {
        document["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"].clone()
    };

    let provisioned = resolve(&document, &schema("/webhook/openhands/keys", "post", "201")).clone();
    assert_eq!(property_names(&document, &provisioned), sorted_keys(&created));
    assert_eq!(property_names(&document, &provisioned["properties"]["key"]), sorted_keys(&created["key"]));
    assert_eq!(property_names(&document, &provisioned["properties"]["binding"]), sorted_keys(&created["binding"]));

    let refresh = resolve(&document, &schema("/webhook/openhands/status", "get", "200")).clone();
    assert_eq!(property_names(&document, &refresh), sorted_keys(&status));
    assert_eq!(property_names(&document, &refresh["properties"]["summary"]), sorted_keys(&status["summary"]));
    assert_eq!(property_names(&document, &refresh["properties"]["keys"]["items"]), sorted_keys(&status["keys"][0]));
}

#[tokio::test]
async fn only_get_is_allowed() {
    let app = spawn_app().await;
    assert_problem(app.post("/openapi.json").send().await.unwrap(), 405, "method-not-allowed").await;
}
