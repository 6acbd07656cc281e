//! `GET /metrics`: the Prometheus text format, without a secret.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use adapters::KeyPool;

use crate::application::KeyService;
use crate::metrics::{Metrics, TEXT_FORMAT};

/// How long a scrape waits for the pool's summary; past it, the pool gauges are left out so
/// a slow store never makes the scrape itself time out.
const SUMMARY_TIMEOUT: Duration = Duration::from_secs(1);

/// The counters, and the pool's keys by status when the store answers in time.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Every series in the Prometheus text format. Without an answer from the store, `webhook_pool_keys` is left out and `webhook_pool_status_up` is 0.", content_type = "text/plain; version=0.0.4", body = String),
        (status = 404, description = "`not-found`: `metrics.enabled` is false.", content_type = "application/problem+json", body = super::problem::Problem),
        (status = 405, description = "`method-not-allowed`: any method but GET.", content_type = "application/problem+json", body = super::problem::Problem),
    )
)]
pub async fn metrics<P: KeyPool>(service: web::Data<KeyService<P>>, metrics: web::Data<Metrics>) -> HttpResponse {
    let summary = match tokio::time::timeout(SUMMARY_TIMEOUT, service.pool().status_summary()).await {
        Ok(Ok(summary)) => Some(summary),
        Ok(Err(error)) => {
            log::warn!("metrics scrape without pool gauges: {error}");
            None
        }
        Err(_) => {
            log::warn!("metrics scrape without pool gauges: the store did not answer within {SUMMARY_TIMEOUT:?}");
            None
        }
    };
    HttpResponse::Ok().content_type(TEXT_FORMAT).body(metrics.render(summary.as_ref()))
}
