use crate::service::{SECRET, run_to_exit, spawn_service};

#[test]
fn production_refuses_to_start_without_a_strong_secret() {
    for secret in [None, Some("too-short-secret")] {
        let mut vars = vec![("APP_ENV", "production")];
        vars.extend(secret.map(|secret| ("OPENHANDS_WEBHOOK_SECRET", secret)));
        let (status, logs) = run_to_exit(&vars);
        assert!(!status.success(), "{logs}");
        assert!(logs.contains("OPENHANDS_WEBHOOK_SECRET"), "{logs}");
        assert!(!logs.contains("too-short-secret"), "{logs}");
    }
}

#[test]
fn a_bad_setting_stops_start_up_naming_it() {
    let cases = [
        ("APP__SERVER__PORT", "eighty", "server.port"),
        ("APP__WEBHOOK__DEFAULT_PRIORITY", "0", "webhook.default_priority"),
        ("APP__STORE__SEED_FILE", "tests/fixtures/missing.json", "tests/fixtures/missing.json"),
        ("APP_ENV", "staging", "APP_ENV"),
    ];
    for (name, value, named) in cases {
        let (status, logs) = run_to_exit(&[(name, value), ("OPENHANDS_WEBHOOK_SECRET", SECRET)]);
        assert!(!status.success(), "{name}={value}: {logs}");
        assert!(logs.contains(named), "{name}={value} should name {named}: {logs}");
    }
}

#[tokio::test]
async fn local_generates_a_secret_and_logs_it_once() {
    let service = spawn_service(&[]);
    let logs = service.logs();
    let line = logs.lines().find(|line| line.contains("generated secret")).expect("the generated secret is logged");
    let secret = line.rsplit(' ').next().unwrap().trim();
    assert_eq!(logs.matches(secret).count(), 1, "{logs}");

    let client = reqwest::Client::new();
    let url = service.url("/webhook/openhands/status");
    let accepted = client.get(&url).header("X-Webhook-Secret", secret).send().await.unwrap();
    assert_eq!(accepted.status().as_u16(), 200);
    let refused = client.get(&url).header("X-Webhook-Secret", "guess").send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
}
