//! The actix-web inbound adapter: routes, the secret check, problem responses.

mod access_log;
mod bodies;
mod health;
mod idempotency;
mod key_json;
mod metrics_endpoint;
mod openapi;
mod openapi_parts;
mod operations;
mod problem;
mod provision;
mod provision_body;
mod provisioned;
mod rate_limit;
mod request_metrics;
mod status;
mod webhook_guard;

pub use idempotency::IdempotencySettings;
pub use key_json::KeyDisplay;
pub use openapi::ApiDoc;
pub use operations::Operations;
pub use problem::Problem;
pub use rate_limit::ClientLimits;
pub use webhook_guard::SECRET_HEADER;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, Error, HttpResponse, web};
use adapters::{IdempotencyStore, KeyPool};

use crate::application::KeyService;
use crate::secrets::WebhookSecrets;

/// The whole application: every route, with its shared state and middleware.
pub fn app<P: KeyPool + IdempotencyStore>(
    service: web::Data<KeyService<P>>,
    secrets: web::Data<WebhookSecrets>,
    limits: web::Data<ClientLimits>,
    display: KeyDisplay,
    idempotency: IdempotencySettings,
    operations: Operations,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(service)
        .app_data(secrets)
        .app_data(limits)
        .app_data(web::Data::new(display))
        .app_data(web::Data::new(idempotency))
        .configure(operations.configure::<P>())
        .service(endpoint("/health", web::get().to(health::health)))
        .service(endpoint("/ready", web::get().to(health::ready::<P>)))
        .service(
            web::scope("/webhook")
                .wrap(from_fn(webhook_guard::guard_webhook))
                .service(endpoint("/openhands/status", web::get().to(status::refresh_status::<P>)))
                .service(endpoint("/openhands/keys", web::post().to(provision::provision_key::<P>)))
                .default_service(web::to(not_found)),
        )
        .default_service(web::to(not_found))
        .wrap(DefaultHeaders::new().add((CACHE_CONTROL, HeaderValue::from_static("no-store"))))
        .wrap(from_fn(access_log::log_access))
        .wrap(from_fn(request_metrics::record_request))
}

/// A path answering one method; any other method gets a 405 problem.
fn endpoint(path: &str, route: actix_web::Route) -> actix_web::Resource {
    web::resource(path).route(route).default_service(web::to(method_not_allowed))
}

async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&Problem::not_found())
}

async fn method_not_allowed() -> HttpResponse {
    actix_web::ResponseError::error_response(&Problem::method_not_allowed())
}
