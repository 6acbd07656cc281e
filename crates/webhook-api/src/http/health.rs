//! Operations endpoints: no secret, no rate limit.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use adapters::KeyPool;
use serde_json::json;

use super::problem::Problem;
use crate::application::KeyService;

/// How long the store may take to answer a readiness ping.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// 200 while the process runs.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 when the store answers a ping within a second, else 503.
pub async fn ready<P: KeyPool>(service: web::Data<KeyService<P>>) -> Result<HttpResponse, Problem> {
    match tokio::time::timeout(READY_TIMEOUT, service.pool().ping()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Ok(Err(error)) => Err(error.into()),
        Err(_) => {
            log::warn!("the key store did not answer a readiness ping within {READY_TIMEOUT:?}");
            Err(Problem::store_unavailable())
        }
    }
}
