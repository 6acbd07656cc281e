use std::time::Duration;

use futures::SinkExt;
use serde_json::json;

use crate::service::{SECRET, spawn_service};

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let mut service = spawn_service(&[("OPENHANDS_WEBHOOK_SECRET", SECRET)]);
    let body = json!({ "apiKey": "sk-in-flight-0123456789abcdef" }).to_string();
    let (mut chunks, stream) = futures::channel::mpsc::channel::<Result<String, std::io::Error>>(2);
    let request = reqwest::Client::new()
        .post(service.url("/webhook/openhands/keys"))
        .header("X-Webhook-Secret", SECRET)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let in_flight = tokio::spawn(request);

    // Half the body is on the wire when the signal arrives.
    chunks.send(Ok(body[..10].to_owned())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    service.send_sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(service.wait_for_exit(Duration::ZERO).is_none(), "the service must wait for the request in flight");
    chunks.send(Ok(body[10..].to_owned())).await.unwrap();
    drop(chunks);

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let status = service.wait_for_exit(Duration::from_secs(15)).expect("the service exits after draining");
    assert!(status.success(), "{status:?}\n{}", service.logs());
    assert!(reqwest::get(service.url("/health")).await.is_err(), "nothing listens after shutdown");
}
