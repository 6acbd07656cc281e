//! `POST /webhook/openhands/keys`: add a key to the pool.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use adapters::{IdempotencyStore, KeyPool, StoredResponse};
use domain::KeyId;

use super::bodies::ProvisionedBody;
use super::idempotency::{self, Admission, IdempotencySettings};
use super::key_json::KeyDisplay;
use super::openapi_parts::{IdempotencyKey, ProvisionBody, ProvisionResponses};
use super::problem::Problem;
use super::provision_body::{FieldError, parse_provision_request};
use super::provisioned::announce_provisioned;
use crate::application::{KeyService, ProvisionRequest};

/// The largest body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Adds a key to the pool and binds it to a proxy, retiring `replaceKeyId` once it is live.
#[utoipa::path(post, path = "/webhook/openhands/keys", tag = "webhook", params(IdempotencyKey),
    request_body(content = ProvisionBody, content_type = "application/json"), responses(ProvisionResponses),
    security(("webhook_secret" = [])))]
pub async fn provision_key<P: KeyPool + IdempotencyStore>(
    request: HttpRequest,
    payload: web::Payload,
    service: web::Data<KeyService<P>>,
    display: web::Data<KeyDisplay>,
    idempotency: web::Data<IdempotencySettings>,
) -> Result<HttpResponse, Problem> {
    require_json(&request)?;
    let idempotency_key = idempotency::idempotency_key(&request).map_err(|error| invalid_request(vec![error]))?;
    let body = read_body(&request, payload).await?;
    let provision = parse_provision_request(&body).map_err(invalid_request)?;
    let Some(key) = idempotency_key else {
        return answer(&request, &service, &display, &provision, None)
            .await
            .map(|created| idempotency::respond(&created));
    };
    let planned_key_id = service.next_key_id(&provision.name);
    let admission =
        idempotency::admit(service.pool(), &key, provision.fingerprint(), planned_key_id, **idempotency).await?;
    let lease = match admission {
        Admission::Proceed(lease) => lease,
        Admission::Answer(response) => return Ok(response),
    };
    let answer = answer(&request, &service, &display, &provision, Some(&lease.planned_key_id)).await;
    idempotency::finish(service.pool(), &key, &lease, &answer).await;
    answer.map(|created| idempotency::respond(&created))
}

/// Carries the request out: the 201 answer, or the problem that stopped it.
async fn answer<P: KeyPool>(
    request: &HttpRequest,
    service: &KeyService<P>,
    display: &KeyDisplay,
    provision: &ProvisionRequest,
    planned_key_id: Option<&KeyId>,
) -> Result<StoredResponse, Problem> {
    let provisioned = service.provision_key(provision, planned_key_id).await?;
    log::info!(
        "provisioned key {} on {} at priority {}{}",
        provisioned.key.id,
        provisioned.binding.proxy_id,
        provisioned.binding.priority.value(),
        provisioned.replaced_key.as_ref().map(|old| format!(", replacing {old}")).unwrap_or_default()
    );
    announce_provisioned(request, &provisioned);
    let body = serde_json::to_string(&ProvisionedBody::new(&provisioned, display))
        .unwrap_or_else(|_| unreachable!("a body of strings, numbers and booleans serializes"));
    Ok(StoredResponse { status: StatusCode::CREATED.as_u16(), body })
}

/// `application/json`, with parameters such as `charset` allowed.
fn require_json(request: &HttpRequest) -> Result<(), Problem> {
    match request.mime_type() {
        Ok(Some(mime)) if mime.type_() == "application" && mime.subtype() == "json" && mime.suffix().is_none() => {
            Ok(())
        }
        _ => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "Send the body as Content-Type: application/json.",
        )),
    }
}

async fn read_body(request: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, Problem> {
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("The body may hold at most {MAX_BODY_BYTES} bytes."),
        )
    };
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match payload.to_bytes_limited(MAX_BODY_BYTES).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => {
            Err(invalid_request(vec![FieldError { field: "body".into(), message: "could not be read".into() }]))
        }
        Err(_) => Err(too_large()),
    }
}

fn invalid_request(errors: Vec<FieldError>) -> Problem {
    let detail = match errors.as_slice() {
        [only] => format!("{} {}.", only.field, only.message),
        _ => format!("The request has {} problems; see errors.", errors.len()),
    };
    Problem::new(StatusCode::BAD_REQUEST, "invalid-request", "Invalid request", detail)
        .with("errors", serde_json::to_value(errors).unwrap_or_default())
}
