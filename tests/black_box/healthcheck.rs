//! `webhook-api healthcheck`, the container's health check.

use crate::service::{SECRET, command, spawn_service};

fn healthcheck(port: &str) -> (bool, String) {
    let output = command(&[("APP__SERVER__PORT", port), ("OPENHANDS_WEBHOOK_SECRET", SECRET)])
        .arg("healthcheck")
        .output()
        .expect("the webhook-api binary runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn passes_against_a_running_service_and_fails_without_one() {
    let service = spawn_service(&[("OPENHANDS_WEBHOOK_SECRET", SECRET)]);
    let port = service.base_url.rsplit(':').next().unwrap().to_owned();

    assert_eq!(healthcheck(&port), (true, String::new()));

    drop(service);
    let (healthy, reason) = healthcheck(&port);
    assert!(!healthy);
    assert!(reason.contains("unhealthy: cannot connect"), "{reason}");
}
