//! `GET /webhook/openhands/status`: which keys need refreshing, and the pool's shape.

use actix_web::{HttpResponse, web};
use adapters::KeyPool;

use super::bodies::RefreshStatusBody;
use super::key_json::KeyDisplay;
use super::openapi_parts::StatusResponses;
use super::problem::Problem;
use crate::application::KeyService;

/// The keys whose status is `need_refresh`, and how many keys are in each status.
#[utoipa::path(get, path = "/webhook/openhands/status", tag = "webhook", responses(StatusResponses),
    security(("webhook_secret" = [])))]
pub async fn refresh_status<P: KeyPool>(
    service: web::Data<KeyService<P>>,
    display: web::Data<KeyDisplay>,
) -> Result<HttpResponse, Problem> {
    let status = service.check_refresh_status().await?;
    Ok(HttpResponse::Ok().json(RefreshStatusBody::new(&status, &display)))
}
