//! The guard in front of every webhook route: the caller's budgets, then `X-Webhook-Secret`.
//! It runs before any handler reads the body, so an unauthenticated caller always gets 401
//! (or 429) and nothing else.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use super::problem::Problem;
use super::rate_limit::ClientLimits;
use crate::secrets::WebhookSecrets;

pub const SECRET_HEADER: &str = "x-webhook-secret";

pub async fn guard_webhook(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    match check(&request) {
        Ok(()) => next.call(request).await.map(ServiceResponse::map_into_left_body),
        Err(problem) => Ok(request.into_response(problem.error_response()).map_into_right_body()),
    }
}

fn check(request: &ServiceRequest) -> Result<(), Problem> {
    let limits = request.app_data::<web::Data<ClientLimits>>();
    let address = limits.and_then(|limits| limits.client_address(request));
    if let (Some(limits), Some(address)) = (limits, address) {
        limits.admit(address).map_err(|wait| Problem::rate_limited(wait.seconds()))?;
    }
    if presents_a_valid_secret(request) {
        return Ok(());
    }
    let from = address.map_or_else(|| "an unknown address".to_owned(), |address| address.to_string());
    log::warn!("webhook authentication failed for {} from {from}", request.path());
    if let (Some(limits), Some(address)) = (limits, address) {
        limits.record_auth_failure(address).map_err(|wait| Problem::rate_limited(wait.seconds()))?;
    }
    Err(Problem::unauthorized())
}

/// Exactly one header holding an accepted secret: a missing, wrong or repeated header fails.
fn presents_a_valid_secret(request: &ServiceRequest) -> bool {
    let Some(secrets) = request.app_data::<web::Data<WebhookSecrets>>() else {
        log::error!("no webhook secrets configured; refusing every webhook call");
        return false;
    };
    let mut presented = request.headers().get_all(SECRET_HEADER);
    match (presented.next(), presented.next()) {
        (Some(secret), None) => secrets.accepts(secret.as_bytes()),
        _ => false,
    }
}
