//! `Idempotency-Key`: the first answer to a request is kept for a day and replayed to its
//! retries, so a client that lost a response can safely send the request again.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use adapters::{Begun, IdempotencyClaim, IdempotencyStore, Lease, StoredResponse};
use chrono::{DateTime, Utc};
use domain::{IdempotencyKey, KeyId};

use super::problem::Problem;
use super::provision_body::FieldError;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long an answer is kept for replay.
pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// How long an attempt may hold a key before a retry may take its work over.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencySettings {
    pub lease: Duration,
}

/// The request's `Idempotency-Key`, if it sent exactly one valid one.
pub fn idempotency_key(request: &HttpRequest) -> Result<Option<IdempotencyKey>, FieldError> {
    let mut values = request.headers().get_all(IDEMPOTENCY_KEY_HEADER);
    let error = |message: String| FieldError { field: "Idempotency-Key".into(), message };
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(error("appears more than once".into())),
        (Some(value), None) => IdempotencyKey::parse(value.as_bytes()).map(Some).map_err(|e| error(e.to_string())),
    }
}

/// What to do with a request that carries a key.
pub enum Admission {
    /// Carry it out, creating the planned key id.
    Proceed(Lease),
    /// Answer this without doing anything.
    Answer(HttpResponse),
}

pub async fn admit<S: IdempotencyStore>(
    store: &S,
    key: &IdempotencyKey,
    fingerprint: String,
    planned_key_id: KeyId,
    settings: IdempotencySettings,
) -> Result<Admission, Problem> {
    let now = Utc::now();
    let claim = IdempotencyClaim {
        key: key.clone(),
        fingerprint,
        planned_key_id,
        token: uuid::Uuid::new_v4().simple().to_string(),
        now,
        lease_until: now + settings.lease,
        expires_at: now + RETENTION,
    };
    match store.begin(&claim).await? {
        Begun::Fresh(lease) => Ok(Admission::Proceed(lease)),
        Begun::TakenOver(lease) => {
            log::warn!("idempotency key {:?}: an earlier attempt's lease ran out; finishing its work", key.as_str());
            Ok(Admission::Proceed(lease))
        }
        Begun::Completed(stored) => {
            let mut response = respond(&stored);
            response.headers_mut().insert(HeaderName::from_static(REPLAYED_HEADER), HeaderValue::from_static("true"));
            Ok(Admission::Answer(response))
        }
        Begun::InFlight { lease_until } => Err(in_flight(lease_until, now)),
        Begun::KeyReused => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency key reused",
            "This Idempotency-Key was sent with a different request; use a new key for a new request.",
        )),
    }
}

/// Keeps the answer for replay, or, for a failure worth retrying (5xx), gives the lease up so
/// the retry goes ahead at once.
pub async fn finish<S: IdempotencyStore>(
    store: &S,
    key: &IdempotencyKey,
    lease: &Lease,
    answer: &Result<StoredResponse, Problem>,
) {
    let kept = match answer {
        Ok(created) => store.complete(key, lease, created).await,
        Err(problem) if problem.status_code().is_server_error() => store.release(key, lease).await,
        Err(problem) => store.complete(key, lease, &stored_problem(problem)).await,
    };
    if let Err(error) = kept {
        // The lease runs out by itself; a retry then takes the work over.
        log::warn!("could not record the answer for idempotency key {:?}: {error}", key.as_str());
    }
}

/// The response a kept answer stands for: the first attempt's and every replay's alike.
pub fn respond(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    HttpResponse::build(status).insert_header((CONTENT_TYPE, content_type)).body(stored.body.clone())
}

/// A problem as a kept answer: the same status and body its own response has.
fn stored_problem(problem: &Problem) -> StoredResponse {
    StoredResponse { status: problem.status_code().as_u16(), body: problem.body().to_string() }
}

fn in_flight(lease_until: DateTime<Utc>, now: DateTime<Utc>) -> Problem {
    let wait = (lease_until - now).num_seconds().max(1);
    let problem = Problem::new(
        StatusCode::CONFLICT,
        "idempotency-in-flight",
        "Request in flight",
        "An earlier request with this Idempotency-Key is still being carried out; retry later.",
    );
    problem.retry_after(wait.unsigned_abs())
}
