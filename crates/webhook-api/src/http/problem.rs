//! RFC 9457 problem responses, and the one place where use-case errors become HTTP errors.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use adapters::StoreError;
use serde_json::{Map, Value, json};

use crate::application::ProvisionKeyError;

/// Seconds a client should wait before retrying after the store failed.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;
/// Seconds to wait while the configured target proxy is missing: an operator has to act.
pub const TARGET_PROXY_RETRY_AFTER_SECS: u64 = 30;

/// An `application/problem+json` response. Its texts are ours alone: never a secret, a key or
/// a driver's message. Boxed, since handlers return it in every `Err`.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem(Box<ProblemParts>);

#[derive(Debug, Clone, PartialEq)]
struct ProblemParts {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    extensions: Map<String, Value>,
    retry_after_secs: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemParts {
            status,
            slug,
            title,
            detail: detail.into(),
            extensions: Map::new(),
            retry_after_secs: None,
        }))
    }

    pub fn with(mut self, member: &str, value: impl Into<Value>) -> Self {
        self.0.extensions.insert(member.to_owned(), value.into());
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.0.retry_after_secs = Some(seconds);
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "Send exactly one X-Webhook-Secret header with the shared secret.",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Rate limited",
            "Too many requests, or too many failed authentications, from this address. Retry later.",
        )
        .retry_after(retry_after_secs)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", "No endpoint at this path.")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "This endpoint does not answer this method.",
        )
    }

    pub fn store_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            "Store unavailable",
            "The key store did not answer in time; nothing was lost. Retry later.",
        )
        .retry_after(STORE_RETRY_AFTER_SECS)
    }

    pub fn body(&self) -> Value {
        let problem = &self.0;
        let mut body = json!({
            "type": format!("urn:problem:openhands-webhook:{}", problem.slug),
            "title": problem.title,
            "status": problem.status.as_u16(),
            "detail": problem.detail,
            "error": problem.title,
        });
        if let Value::Object(members) = &mut body {
            members.extend(problem.extensions.clone());
        }
        body
    }
}

/// The slug of a problem response, kept in the response's extensions so middleware can tell
/// problems of one status apart (e.g. `store-unavailable` from `target-proxy-missing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType(pub &'static str);

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.0.status.as_u16(), self.0.slug, self.0.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.0.status);
        response.insert_header((CONTENT_TYPE, "application/problem+json"));
        response.extensions_mut().insert(ProblemType(self.0.slug));
        if let Some(seconds) = self.0.retry_after_secs {
            response.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        response.body(self.body().to_string())
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        log::warn!("key store failed: {error}");
        Self::store_unavailable()
    }
}

impl From<ProvisionKeyError> for Problem {
    fn from(error: ProvisionKeyError) -> Self {
        match error {
            ProvisionKeyError::UnknownProxy(proxy_id) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-proxy",
                "Unknown proxy",
                format!("Proxy {proxy_id} does not exist."),
            )
            .with("proxyId", proxy_id.as_str()),
            ProvisionKeyError::TargetProxyMissing(proxy_id) => {
                log::error!("the configured target proxy {proxy_id} does not exist in the pool");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "target-proxy-missing",
                    "Target proxy missing",
                    format!("The configured target proxy {proxy_id} does not exist; an operator must restore it."),
                )
                .retry_after(TARGET_PROXY_RETRY_AFTER_SECS)
            }
            ProvisionKeyError::DuplicateApiKey(existing) => Self::new(
                StatusCode::CONFLICT,
                "duplicate-api-key",
                "Duplicate API key",
                "This API key is already in the pool and bound to a proxy.",
            )
            .with("existing_key_id", existing.as_str()),
            ProvisionKeyError::ReplaceRefused { key_id, status } => Self::new(
                StatusCode::CONFLICT,
                "replace-refused",
                "Replace refused",
                format!("Key {key_id} is {status} and still serving; send \"force\": true to replace it."),
            )
            .with("replaceKeyId", key_id.as_str()),
            ProvisionKeyError::Contention => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store-contention",
                "Store contention",
                "The pool kept changing under this request; nothing was written. Retry it.",
            )
            .retry_after(1),
            ProvisionKeyError::Store(error) => error.into(),
        }
    }
}
