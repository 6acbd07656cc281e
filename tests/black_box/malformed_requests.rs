//! Hundreds of malformed requests against the binary: each gets a 4xx problem, none a 5xx,
//! the process never panics, nothing is written, and no secret or posted key reaches the logs.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

use crate::service::{SECRET, spawn_service};

const KEYS: &str = "/webhook/openhands/keys";
/// Every API key the requests carry starts with this, so the logs can be searched for it.
const POSTED: &str = "sk-posted-";

struct Case {
    name: String,
    request: RequestBuilder,
    expected: u16,
}

fn post(client: &Client, base: &str, body: impl Into<reqwest::Body>) -> RequestBuilder {
    client
        .post(format!("{base}{KEYS}"))
        .header("X-Webhook-Secret", SECRET)
        .header("Content-Type", "application/json")
        .body(body)
}

fn too_large_or_bad(body: &str) -> u16 {
    if body.len() > 16 * 1024 { 413 } else { 400 }
}

fn cases(client: &Client, base: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: String, request: RequestBuilder, expected: u16| cases.push(Case { name, request, expected });
    let valid_key = format!("{POSTED}0123456789abcdef");

    // Wrong types and values for every field.
    let wrong_values: [(&str, Vec<Value>); 6] = [
        (
            "apiKey",
            vec![
                json!(1),
                json!(1.5),
                json!(true),
                json!([]),
                json!({}),
                json!(""),
                json!("short"),
                json!(format!("{POSTED} space")),
                json!(format!("{POSTED}\u{0}nul")),
                json!(format!("{POSTED}ünïcödé")),
                json!("x".repeat(513)),
                json!(format!("{POSTED}\t1234")),
            ],
        ),
        (
            "name",
            vec![
                json!(1),
                json!(true),
                json!([]),
                json!({}),
                json!(""),
                json!("-lead"),
                json!("_lead"),
                json!("a b"),
                json!("x".repeat(25)),
                json!("ключ"),
                json!("a\u{202e}b"),
                json!("a\nb"),
            ],
        ),
        (
            "replaceKeyId",
            vec![
                json!(1),
                json!(false),
                json!([]),
                json!({}),
                json!(""),
                json!("a b"),
                json!("k".repeat(129)),
                json!("\u{1F600}"),
                json!("a\u{7f}"),
            ],
        ),
        ("force", vec![json!(1), json!(0), json!("true"), json!("yes"), json!([]), json!({}), json!(1.0)]),
        (
            "priority",
            vec![
                json!(0),
                json!(11),
                json!(-1),
                json!(1.5),
                json!(2.0),
                json!("1"),
                json!(true),
                json!([]),
                json!({}),
                json!(1e300),
                json!(u64::MAX),
                json!(i64::MIN),
            ],
        ),
        (
            "proxyId",
            vec![
                json!(6),
                json!(true),
                json!([]),
                json!({}),
                json!(""),
                json!("proxy 6"),
                json!("p".repeat(65)),
                json!("prøxy"),
                json!("proxy-404"),
            ],
        ),
    ];
    for (field, values) in wrong_values {
        for value in values {
            let mut body = json!({ "apiKey": valid_key });
            body[field] = value.clone();
            let expected = if value == json!("proxy-404") { 422 } else { 400 };
            add(format!("{field}={value}"), post(client, base, body.to_string()), expected);
        }
    }

    // Control, invisible and non-ASCII characters inside every string field.
    for field in ["apiKey", "name", "replaceKeyId", "proxyId"] {
        for bad in [
            '\0',
            '\u{1}',
            '\t',
            '\n',
            '\r',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{200b}',
            '\u{202e}',
            '\u{fffd}',
            '\u{1F600}',
        ] {
            let mut body = json!({ "apiKey": valid_key });
            body[field] = json!(format!("{POSTED}ab{bad}cd"));
            add(format!("{field} with {bad:?}"), post(client, base, body.to_string()), 400);
        }
    }

    // Random bytes, reproducibly.
    let mut rng = StdRng::seed_from_u64(9457);
    for round in 0..30 {
        let length = rng.random_range(1..400);
        let mut bytes: Vec<u8> = (0..length).map(|_| rng.random()).collect();
        if round % 2 == 0 {
            bytes[0] = b'{';
        }
        add(format!("random bytes #{round}"), post(client, base, bytes), 400);
    }

    // Unknown and repeated fields, in many spellings.
    for field in [
        "apikey",
        "APIKEY",
        "api_key",
        "key",
        "replace_key_id",
        "Force",
        "priority ",
        "",
        "\u{0}",
        "__proto__",
        "constructor",
    ] {
        add(
            format!("unknown field {field:?}"),
            post(client, base, json!({ "apiKey": valid_key, field: 1 }).to_string()),
            400,
        );
    }
    for field in ["apiKey", "name", "force", "priority", "proxyId", "replaceKeyId"] {
        let body = format!(r#"{{"apiKey":"{valid_key}","{field}":null,"{field}":null}}"#);
        add(format!("repeated {field}"), post(client, base, body), 400);
    }

    // Bodies that are not JSON objects, or not JSON at all.
    let not_objects = [
        "",
        " ",
        "null",
        "true",
        "1",
        "\"text\"",
        "[]",
        "[{}]",
        "{",
        "}",
        "{\"apiKey\"}",
        "{\"apiKey\":}",
        "{'apiKey':'x'}",
        "{apiKey:1}",
        "{\"apiKey\":\"sk-posted-0123456789\",}",
        "{\"apiKey\":\"sk-posted-0123456789\"} trailing",
        "\u{feff}{}",
        "{\"apiKey\":\"\\ud800\"}",
        "{\"a\":1e99999}",
        "NaN",
        "{\"apiKey\":\"sk-posted-\\u0000xxxxxx\"}",
    ];
    for body in not_objects {
        add(format!("body {body:?}"), post(client, base, body.to_owned()), 400);
    }
    for bytes in [
        vec![0xff, 0xfe],
        vec![b'{', 0xc3, 0x28, b'}'],
        vec![0; 64],
        b"{\"apiKey\":\"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\"}".to_vec(),
    ] {
        add(format!("bytes {bytes:?}"), post(client, base, bytes), 400);
    }

    // Deep nesting.
    for depth in [64, 127, 128, 129, 500, 5_000] {
        let body = format!(r#"{{"apiKey":"{valid_key}","x":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        add(format!("nested arrays {depth}"), post(client, base, body.clone()), too_large_or_bad(&body));
        let body = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        add(format!("nested objects {depth}"), post(client, base, body.clone()), too_large_or_bad(&body));
    }

    // Sizes around the limit.
    for size in [16 * 1024 + 1, 20_000, 100_000, 1_000_000] {
        let body = format!(r#"{{"apiKey":"{valid_key}","name":"{}"}}"#, "n".repeat(size));
        add(format!("body of {size}"), post(client, base, body), 413);
    }
    for size in [2_000, 16_000] {
        let body = format!(r#"{{"apiKey":"{valid_key}","name":"{}"}}"#, "n".repeat(size));
        add(format!("long name {size}"), post(client, base, body), 400);
    }

    // Content types.
    for content_type in [
        "text/plain",
        "application/xml",
        "application/json-patch+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "json",
        "",
        ";;;",
        "application/",
        "text/json",
    ] {
        let request = client
            .post(format!("{base}{KEYS}"))
            .header("X-Webhook-Secret", SECRET)
            .header("Content-Type", content_type)
            .body(json!({ "apiKey": valid_key }).to_string());
        add(format!("content type {content_type:?}"), request, 415);
    }
    let no_type = client
        .post(format!("{base}{KEYS}"))
        .header("X-Webhook-Secret", SECRET)
        .body(json!({ "apiKey": valid_key }).to_string());
    add("no content type".into(), no_type, 415);

    // Secrets: missing, wrong, repeated, odd.
    for secret in
        [vec![], vec!["wrong"], vec![SECRET, SECRET], vec![SECRET, "wrong"], vec!["caf\u{e9}"], vec![&SECRET[..10]]]
    {
        let mut request = client
            .post(format!("{base}{KEYS}"))
            .header("Content-Type", "application/json")
            .body(json!({ "apiKey": valid_key }).to_string());
        for value in &secret {
            request = request.header("X-Webhook-Secret", *value);
        }
        add(format!("secret {secret:?}"), request, 401);
    }

    // Wrong methods and unknown paths.
    for (method, path) in [
        (Method::GET, KEYS),
        (Method::PUT, KEYS),
        (Method::DELETE, KEYS),
        (Method::PATCH, KEYS),
        (Method::OPTIONS, KEYS),
        (Method::POST, "/webhook/openhands/status"),
        (Method::PUT, "/webhook/openhands/status"),
        (Method::DELETE, "/webhook/openhands/status"),
        (Method::POST, "/health"),
        (Method::PUT, "/ready"),
    ] {
        add(
            format!("{method} {path}"),
            client.request(method, format!("{base}{path}")).header("X-Webhook-Secret", SECRET),
            405,
        );
    }
    for path in [
        "/",
        "/webhook",
        "/webhook/",
        "/webhook/openhands",
        "/webhook/openhands/keys/1",
        "/webhook/openhands/status/x",
        "/webhook/OPENHANDS/status",
        "/admin",
        "/health/x",
        "/%00",
        "/webhook/openhands/keys%2F",
        "/..%2f..%2fetc%2fpasswd",
    ] {
        add(format!("GET {path}"), client.get(format!("{base}{path}")).header("X-Webhook-Secret", SECRET), 404);
    }
    cases
}

#[tokio::test]
async fn malformed_requests_get_4xx_problems_and_change_nothing() {
    let service = spawn_service(&[
        ("OPENHANDS_WEBHOOK_SECRET", SECRET),
        ("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "0"),
        ("APP__RATE_LIMIT__AUTH_FAILURES_PER_MINUTE", "0"),
    ]);
    let client = Client::new();
    let summary = || async {
        let status: Value = service.status().await;
        status["summary"].clone()
    };
    let before = summary().await;

    let cases = cases(&client, &service.base_url);
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    for case in cases {
        let response = case.request.send().await.unwrap_or_else(|error| panic!("{}: {error}", case.name));
        let status = response.status().as_u16();
        assert_eq!(status, case.expected, "{}", case.name);
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{}", case.name);
        let body: Value = response.json().await.unwrap_or_else(|error| panic!("{}: {error}", case.name));
        assert_eq!(body["status"], status, "{}", case.name);
        assert!(!body.to_string().contains(POSTED), "{}: the body repeats a posted key: {body}", case.name);
    }

    assert_eq!(summary().await, before, "nothing may be written");
    let logs = service.logs();
    assert!(!logs.contains("panicked"), "{logs}");
    assert!(!logs.contains(SECRET), "the secret reached the logs");
    assert!(!logs.contains(POSTED), "a posted key reached the logs");
}
