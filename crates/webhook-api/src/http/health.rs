//! Operations endpoints: no secret, no rate limit.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use adapters::KeyPool;

use super::bodies::OperationStatus;
use super::problem::Problem;
use crate::application::KeyService;

/// How long the store may take to answer a readiness ping.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// 200 while the process runs.
#[utoipa::path(get, path = "/health", tag = "operations", responses(
    (status = 200, description = "The process runs: `{\"status\":\"ok\"}`.", body = OperationStatus),
    (status = 405, description = "`method-not-allowed`: any method but GET.", content_type = "application/problem+json", body = Problem),
))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(OperationStatus { status: "ok" })
}

/// 200 when the store answers a ping within a second, else 503.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(super::openapi_parts::ReadyResponses))]
pub async fn ready<P: KeyPool>(service: web::Data<KeyService<P>>) -> Result<HttpResponse, Problem> {
    match tokio::time::timeout(READY_TIMEOUT, service.pool().ping()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(OperationStatus { status: "ready" })),
        Ok(Err(error)) => Err(error.into()),
        Err(_) => {
            log::warn!("the key store did not answer a readiness ping within {READY_TIMEOUT:?}");
            Err(Problem::store_unavailable())
        }
    }
}
