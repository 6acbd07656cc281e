//! Counts and times every response by the route that matched, and counts the refusals the
//! operators watch for: failed authentications, rate limits and store outages.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::problem::ProblemType;
use crate::metrics::{Metrics, UNMATCHED_ROUTE};

pub async fn record_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(metrics) = request.app_data::<web::Data<Metrics>>().cloned() else {
        return next.call(request).await;
    };
    let started = Instant::now();
    // The route's pattern, not the path: paths are the caller's choice and unbounded.
    let route = request.match_pattern().unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let response = next.call(request).await;
    let (status, problem) = match &response {
        Ok(response) => (response.status(), response.response().extensions().get::<ProblemType>().copied()),
        Err(error) => (error.as_response_error().status_code(), None),
    };
    metrics.observe_request(&route, status.as_u16(), started.elapsed());
    match problem {
        Some(ProblemType("unauthorized")) => metrics.auth_failed(),
        Some(ProblemType("rate-limited")) => metrics.rate_limited(),
        Some(ProblemType("store-unavailable")) => metrics.store_failed(),
        _ => {}
    }
    response
}
