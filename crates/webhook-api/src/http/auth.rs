//! The `X-Webhook-Secret` check in front of every webhook route. It runs before any handler
//! reads the body, so an unauthenticated caller always gets 401 and nothing else.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use super::problem::Problem;
use crate::secrets::WebhookSecrets;

pub const SECRET_HEADER: &str = "x-webhook-secret";

pub async fn require_webhook_secret(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if presents_a_valid_secret(&request) {
        return next.call(request).await.map(ServiceResponse::map_into_left_body);
    }
    log::warn!("webhook authentication failed for {}", request.path());
    Ok(request.into_response(Problem::unauthorized().error_response()).map_into_right_body())
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
