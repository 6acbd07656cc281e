//! `GET /openapi.json`: the OpenAPI 3.1 description of every route, generated from the
//! handlers' annotations and the response types.

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::bodies::{OperationStatus, ProvisionedBody, RefreshStatusBody};
use super::openapi_parts::{ProvisionBody, not_found};
use super::problem::Problem;
use super::{SECRET_HEADER, health, metrics_endpoint, provision, status};

/// The name the webhook routes' `security` requirement refers to.
const SECRET_SCHEME: &str = "webhook_secret";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OpenHands key webhook service",
        description = "Lets a key-rotation service watch and refill the pool of OpenHands API keys. Every route \
                       answers `Cache-Control: no-store`; errors are RFC 9457 `application/problem+json` bodies \
                       whose `type` is `urn:problem:openhands-webhook:<slug>`. A path no route matches answers \
                       404 `not-found` (components.responses.NotFound)."
    ),
    paths(
        status::refresh_status,
        provision::provision_key,
        health::health,
        health::ready,
        metrics_endpoint::metrics,
        openapi_json,
    ),
    components(schemas(Problem, ProvisionBody, RefreshStatusBody, ProvisionedBody, OperationStatus)),
    modifiers(&SharedParts),
    tags(
        (name = "webhook", description = "Needs `X-Webhook-Secret`; rate limited per client address."),
        (name = "operations", description = "No secret, no rate limit."),
    )
)]
pub struct ApiDoc;

/// What the derive cannot declare: the secret header's scheme and the shared 404 answer.
struct SharedParts;

impl Modify for SharedParts {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SECRET_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                SECRET_HEADER,
                "The shared secret (`OPENHANDS_WEBHOOK_SECRET`, or during a rotation \
                 `OPENHANDS_WEBHOOK_SECRET_PREVIOUS`), sent exactly once.",
            ))),
        );
        components.responses.insert("NotFound".to_owned(), not_found().into());
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses(
    (status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object),
    (status = 405, description = "`method-not-allowed`: any method but GET.", content_type = "application/problem+json", body = Problem),
))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
