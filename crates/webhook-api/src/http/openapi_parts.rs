//! The parts of the OpenAPI document that the derive macros cannot see: the problem body, the
//! provisioning request (parsed by hand to report every bad field), the `Idempotency-Key`
//! header, and the answers of each route, problem by problem as DESIGN.md lists them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::{IntoParams, IntoResponses, PartialSchema, ToSchema};

use super::problem::{Problem, STORE_RETRY_AFTER_SECS, TARGET_PROXY_RETRY_AFTER_SECS};

/// One or more visible ASCII characters, no spaces.
const VISIBLE_ASCII: &str = "^[\\x21-\\x7E]+$";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A string that may also be sent as `null`, which counts as absent.
fn optional(schema: ObjectBuilder) -> ObjectBuilder {
    schema.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

impl PartialSchema for Problem {
    fn schema() -> RefOr<Schema> {
        let field_error = ObjectBuilder::new()
            .property("field", string().description(Some("The field, or `body` for the body as a whole.")))
            .property("message", string())
            .required("field")
            .required("message");
        ObjectBuilder::new()
            .description(Some("An RFC 9457 problem. Its texts never hold a secret, an API key or a stack trace."))
            .property("type", string().examples([json!("urn:problem:openhands-webhook:duplicate-api-key")]))
            .property("title", string())
            .property("status", ObjectBuilder::new().schema_type(Type::Integer))
            .property("detail", string())
            .property("error", string().description(Some("The same text as `title`, for older clients.")))
            .property(
                "errors",
                ArrayBuilder::new()
                    .items(field_error)
                    .description(Some("`invalid-request` only: every problem with the body.")),
            )
            .property("existing_key_id", string().description(Some("`duplicate-api-key` only: the key in the pool.")))
            .property("replaceKeyId", string().description(Some("`replace-refused` only: the key still serving.")))
            .property("proxyId", string().description(Some("`unknown-proxy` only: the proxy named.")))
            .required("type")
            .required("title")
            .required("status")
            .required("detail")
            .required("error")
            .into()
    }
}

impl ToSchema for Problem {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Problem")
    }
}

/// The body of `POST /webhook/openhands/keys`: at most 16,384 bytes.
pub struct ProvisionBody;

impl PartialSchema for ProvisionBody {
    fn schema() -> RefOr<Schema> {
        let id = |max, description| {
            optional(string().min_length(Some(1)).max_length(Some(max)))
                .pattern(Some(VISIBLE_ASCII))
                .description(Some(description))
        };
        ObjectBuilder::new()
            .property(
                "apiKey",
                string()
                    .min_length(Some(8))
                    .max_length(Some(512))
                    .pattern(Some(VISIBLE_ASCII))
                    .description(Some("The upstream API key: 8 to 512 visible ASCII characters, no spaces.")),
            )
            .property(
                "name",
                optional(string())
                    .pattern(Some("^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$"))
                    .description(Some("The new id's prefix; default `oh-key`.")),
            )
            .property("replaceKeyId", id(128, "A key to archive and delete once the new one is live."))
            .property(
                "force",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
                    .description(Some("Allow replacing a key whose status is `healthy` or `rate_limited`.")),
            )
            .property(
                "priority",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                    .minimum(Some(1))
                    .maximum(Some(10))
                    .description(Some("Binding priority, 1 = preferred; default `webhook.default_priority`.")),
            )
            .property("proxyId", id(64, "The proxy to bind to; default `webhook.target_proxy_id`."))
            .required("apiKey")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .description(Some(
                "Unknown or repeated fields are refused; an optional field sent as null counts as absent.",
            ))
            .into()
    }
}

impl ToSchema for ProvisionBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ProvisionRequest")
    }
}

/// The optional `Idempotency-Key` request header.
pub struct IdempotencyKey;

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes retries safe: the first completed answer is stored for 24 hours and replayed, with \
                     `Idempotent-Replayed: true`, to a retry with the same body. The same key with another body gets \
                     422 `idempotency-key-reused`; a retry while the first is still running gets 409 \
                     `idempotency-in-flight`.",
                ))
                .schema(Some(string().min_length(Some(1)).max_length(Some(255)).pattern(Some(VISIBLE_ASCII))))
                .build(),
        ]
    }
}

fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
    )
}

fn retry_after(response: ResponseBuilder, seconds: &str) -> ResponseBuilder {
    response.header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::Integer))
            .description(Some(format!("Seconds to wait before retrying: {seconds}.")))
            .build(),
    )
}

fn json_body(description: &str, schema: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build())
}

fn unauthorized() -> Response {
    problem("`unauthorized`: a missing, wrong or repeated `X-Webhook-Secret`; one body for all three.").build()
}

fn rate_limited() -> Response {
    retry_after(
        problem("`rate-limited`: this address sent too many requests, or failed authentication too often."),
        "until the budget has room again",
    )
    .build()
}

fn method_not_allowed(method: &str) -> Response {
    problem(&format!("`method-not-allowed`: any method but {method}.")).build()
}

fn store_unavailable() -> Response {
    retry_after(
        problem("`store-unavailable`: the key store did not answer in time."),
        &STORE_RETRY_AFTER_SECS.to_string(),
    )
    .build()
}

fn responses(entries: impl IntoIterator<Item = (u16, Response)>) -> BTreeMap<String, RefOr<Response>> {
    entries.into_iter().map(|(status, response)| (status.to_string(), response.into())).collect()
}

/// The answers of `GET /webhook/openhands/status`.
pub struct StatusResponses;

impl IntoResponses for StatusResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses([
            (200, json_body("The keys needing a refresh, and the pool's summary.", "RefreshStatusBody").build()),
            (401, unauthorized()),
            (405, method_not_allowed("GET")),
            (429, rate_limited()),
            (503, store_unavailable()),
        ])
    }
}

/// The answers of `POST /webhook/openhands/keys`.
pub struct ProvisionResponses;

impl IntoResponses for ProvisionResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let created = json_body(
            "The key is in the pool and bound (and the replaced key retired). Also the answer when an interrupted \
             earlier request for the same key is finished.",
            "ProvisionedBody",
        )
        .header(
            "Idempotent-Replayed",
            HeaderBuilder::new()
                .schema(string().enum_values(Some(["true"])))
                .description(Some(
                    "`true` when this is the stored answer to an earlier request with the same \
                                   `Idempotency-Key`.",
                ))
                .build(),
        )
        .build();
        let target_and_store = format!(
            "`target-proxy-missing`: the configured `webhook.target_proxy_id` does not exist (Retry-After: \
             {TARGET_PROXY_RETRY_AFTER_SECS}). `store-unavailable`: the store did not answer in time (Retry-After: \
             {STORE_RETRY_AFTER_SECS}); nothing was written, or a retry finishes it. `store-contention`: other \
             writers kept taking the ids tried (Retry-After: 1)."
        );
        responses([
            (201, created),
            (400, problem("`invalid-request`: malformed JSON, or a bad, unknown or repeated field; `errors` lists every problem.").build()),
            (401, unauthorized()),
            (405, method_not_allowed("POST")),
            (409, problem(
                "`duplicate-api-key`: the key is already in the pool with a binding (`existing_key_id`). \
                 `replace-refused`: `replaceKeyId` is `healthy` or `rate_limited` and `force` is not true. \
                 `idempotency-in-flight`: a request with this `Idempotency-Key` is still running; retry later.",
            ).build()),
            (413, problem("`payload-too-large`: the body is over 16,384 bytes.").build()),
            (415, problem("`unsupported-media-type`: the body is not `application/json`.").build()),
            (422, problem(
                "`unknown-proxy`: the `proxyId` in the body does not exist. `idempotency-key-reused`: this \
                 `Idempotency-Key` came with another body.",
            ).build()),
            (429, rate_limited()),
            (503, retry_after(problem(&target_and_store), "see the description").build()),
        ])
    }
}

/// The answers of `GET /ready`.
pub struct ReadyResponses;

impl IntoResponses for ReadyResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses([
            (
                200,
                json_body("The store answered a ping within a second: `{\"status\":\"ready\"}`.", "OperationStatus")
                    .build(),
            ),
            (405, method_not_allowed("GET")),
            (503, store_unavailable()),
        ])
    }
}

/// `not-found`, for any path no route matches (under `/webhook`, only with a valid secret).
pub fn not_found() -> Response {
    problem("`not-found`: no endpoint at this path (under `/webhook`, answered only with a valid secret).").build()
}
