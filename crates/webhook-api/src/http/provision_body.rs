//! The `POST /webhook/openhands/keys` body, turned into a [`ProvisionRequest`] or a list of
//! everything wrong with it. Error messages never repeat a submitted value.

use std::fmt;

use domain::{ApiKey, KeyId, KeyName, Priority, ProxyId};
use serde::Serialize;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::application::ProvisionRequest;

/// A problem with one field, or with the body as a whole (`field: "body"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl fmt::Display) -> Self {
        Self { field: field.to_owned(), message: message.to_string() }
    }
}

const FIELDS: [&str; 6] = ["apiKey", "name", "replaceKeyId", "force", "priority", "proxyId"];
/// Unknown field names are echoed back only this far, in case a caller put a secret there.
const ECHOED_NAME_CHARS: usize = 32;

pub fn parse_provision_request(body: &[u8]) -> Result<ProvisionRequest, Vec<FieldError>> {
    let object = serde_json::from_slice::<JsonObject>(body).map_err(|error| vec![malformed(&error)])?;
    let mut errors: Vec<FieldError> = object
        .duplicates
        .iter()
        .map(|name| FieldError::new(&echoed(name), "appears more than once"))
        .chain(
            object
                .fields
                .iter()
                .filter(|(name, _)| !FIELDS.contains(&name.as_str()))
                .map(|(name, _)| FieldError::new(&echoed(name), "is not a known field")),
        )
        .collect();

    let field = |name: &str| object.fields.iter().find(|(field, _)| field == name).map(|(_, value)| value);
    let api_key = match field("apiKey") {
        None | Some(Value::Null) => Err(FieldError::new("apiKey", "is required")),
        Some(value) => text(value, "apiKey", ApiKey::parse),
    };
    let name = optional(field("name"), |value| text(value, "name", KeyName::parse));
    let replace_key_id = optional(field("replaceKeyId"), |value| text(value, "replaceKeyId", KeyId::parse));
    let force =
        optional(field("force"), |value| value.as_bool().ok_or(FieldError::new("force", "must be true or false")));
    let priority = optional(field("priority"), |value| {
        let error = || FieldError::new("priority", Priority::parse(0).unwrap_err());
        value.as_i64().ok_or_else(error).and_then(|raw| Priority::parse(raw).map_err(|_| error()))
    });
    let proxy_id = optional(field("proxyId"), |value| text(value, "proxyId", ProxyId::parse));

    let parsed = (
        keep(&mut errors, api_key),
        keep(&mut errors, name),
        keep(&mut errors, replace_key_id),
        keep(&mut errors, force),
        keep(&mut errors, priority),
        keep(&mut errors, proxy_id),
    );
    match parsed {
        (Some(api_key), Some(name), Some(replace_key_id), Some(force), Some(priority), Some(proxy_id))
            if errors.is_empty() =>
        {
            Ok(ProvisionRequest {
                api_key,
                name: name.unwrap_or_default(),
                replace_key_id,
                force: force.unwrap_or(false),
                priority,
                proxy_id,
            })
        }
        _ => Err(errors),
    }
}

fn keep<T>(errors: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
    result.map_err(|error| errors.push(error)).ok()
}

/// An optional field: absent and `null` both mean "not given".
fn optional<T>(
    value: Option<&Value>,
    parse: impl FnOnce(&Value) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => parse(value).map(Some),
    }
}

fn text<T, E: fmt::Display>(
    value: &Value,
    field: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, FieldError> {
    let raw = value.as_str().ok_or_else(|| FieldError::new(field, "must be a string"))?;
    parse(raw).map_err(|error| FieldError::new(field, error))
}

fn echoed(name: &str) -> String {
    match name.char_indices().nth(ECHOED_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_owned(),
    }
}

/// Describes a JSON error by its kind and place only: serde's own text may quote the body.
fn malformed(error: &serde_json::Error) -> FieldError {
    use serde_json::error::Category;
    let message = match error.classify() {
        Category::Data => "must be a JSON object".to_owned(),
        Category::Eof => "is incomplete JSON".to_owned(),
        Category::Syntax | Category::Io => {
            format!("is not valid JSON (line {}, column {})", error.line(), error.column())
        }
    };
    FieldError::new("body", message)
}

/// A JSON object's members in order, noting names that appear more than once (serde_json's
/// own maps would silently keep the last).
struct JsonObject {
    fields: Vec<(String, Value)>,
    duplicates: Vec<String>,
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = JsonObject;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonObject, A::Error> {
                let mut object = JsonObject { fields: Vec::new(), duplicates: Vec::new() };
                while let Some(name) = map.next_key::<String>()? {
                    let value = map.next_value::<Value>()?;
                    if object.fields.iter().any(|(seen, _)| *seen == name) {
                        if !object.duplicates.contains(&name) {
                            object.duplicates.push(name);
                        }
                    } else {
                        object.fields.push((name, value));
                    }
                }
                Ok(object)
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn errors(body: &str) -> Vec<(String, String)> {
        parse_provision_request(body.as_bytes())
            .unwrap_err()
            .into_iter()
            .map(|error| (error.field, error.message))
            .collect()
    }

    fn fields(body: &str) -> Vec<String> {
        errors(body).into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn parses_a_full_request() {
        let request = parse_provision_request(
            br#"{"apiKey":"sk-12345678","name":"tai-p4","replaceKeyId":"old","force":true,"priority":3,"proxyId":"proxy-1"}"#,
        )
        .unwrap();
        assert_eq!(request.api_key.expose(), "sk-12345678");
        assert_eq!(request.name.as_str(), "tai-p4");
        assert_eq!(request.replace_key_id.unwrap().as_str(), "old");
        assert!(request.force);
        assert_eq!(request.priority.unwrap().value(), 3);
        assert_eq!(request.proxy_id.unwrap().as_str(), "proxy-1");
    }

    #[test]
    fn optional_fields_default_and_null_means_absent() {
        let request = parse_provision_request(
            br#"{"apiKey":"sk-12345678","name":null,"replaceKeyId":null,"force":null,"priority":null,"proxyId":null}"#,
        )
        .unwrap();
        assert_eq!(request.name.as_str(), "oh-key");
        assert_eq!(
            (request.replace_key_id, request.force, request.priority, request.proxy_id),
            (None, false, None, None)
        );
    }

    #[test]
    fn requires_the_api_key() {
        assert_eq!(errors("{}"), [("apiKey".to_owned(), "is required".to_owned())]);
        assert_eq!(fields(r#"{"apiKey":null}"#), ["apiKey"]);
        assert_eq!(errors(r#"{"apiKey":42}"#), [("apiKey".to_owned(), "must be a string".to_owned())]);
        assert_eq!(fields(r#"{"apiKey":"short"}"#), ["apiKey"]);
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let body = r#"{"apiKey":"has space in it","name":"-bad","replaceKeyId":"","force":"yes","priority":11,"proxyId":7,"extra":1}"#;
        assert_eq!(fields(body), ["extra", "apiKey", "name", "replaceKeyId", "force", "priority", "proxyId"]);
    }

    #[test]
    fn priority_must_be_an_integer_in_range() {
        for bad in ["0", "11", "1.5", "2.0", "\"1\"", "true", "-1", "99999999999999999999"] {
            assert_eq!(fields(&format!(r#"{{"apiKey":"sk-12345678","priority":{bad}}}"#)), ["priority"], "{bad}");
        }
    }

    #[test]
    fn rejects_unknown_and_repeated_fields() {
        assert_eq!(
            errors(r#"{"apiKey":"sk-12345678","apikey":"x"}"#),
            [("apikey".to_owned(), "is not a known field".to_owned())]
        );
        assert_eq!(
            errors(r#"{"apiKey":"sk-12345678","apiKey":"sk-87654321"}"#),
            [("apiKey".to_owned(), "appears more than once".to_owned())]
        );
        assert_eq!(
            fields(&format!(r#"{{"apiKey":"sk-12345678","{}":1}}"#, "n".repeat(100))),
            [format!("{}…", "n".repeat(32))]
        );
    }

    #[test]
    fn rejects_bodies_that_are_not_json_objects_without_quoting_them() {
        for body in
            ["", "{", "[]", "\"sk-secret-value-1234\"", "null", "{\"apiKey\":\"sk-secret-value-1234\"", "{'a':1}"]
        {
            let found = errors(body);
            assert_eq!(found.len(), 1, "{body}");
            assert_eq!(found[0].0, "body");
            assert!(!found[0].1.contains("secret"), "{body}: {}", found[0].1);
        }
    }

    #[test]
    fn rejects_deep_nesting() {
        let body = format!(r#"{{"apiKey":"sk-12345678","x":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(fields(&body), ["body"]);
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from),
            "[!-~]{0,30}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_provision_request(&body);
        }

        #[test]
        fn accepts_exactly_the_bodies_whose_every_field_parses(
            fields in prop::collection::btree_map(
                prop_oneof![Just("apiKey".to_owned()), Just("name".to_owned()), Just("replaceKeyId".to_owned()),
                            Just("force".to_owned()), Just("priority".to_owned()), Just("proxyId".to_owned()),
                            "[a-z]{1,6}"],
                any_json(),
                0..7,
            )
        ) {
            let text = |name: &str, check: &dyn Fn(&str) -> bool| match fields.get(name) {
                None | Some(Value::Null) => name != "apiKey",
                Some(Value::String(raw)) => check(raw),
                Some(_) => false,
            };
            let expected = fields.keys().all(|name| FIELDS.contains(&name.as_str()))
                && text("apiKey", &|raw| ApiKey::parse(raw).is_ok())
                && text("name", &|raw| KeyName::parse(raw).is_ok())
                && text("replaceKeyId", &|raw| KeyId::parse(raw).is_ok())
                && text("proxyId", &|raw| ProxyId::parse(raw).is_ok())
                && matches!(fields.get("force"), None | Some(Value::Null | Value::Bool(_)))
                && match fields.get("priority") {
                    None | Some(Value::Null) => true,
                    Some(value) => value.as_i64().is_some_and(|raw| Priority::parse(raw).is_ok()),
                };
            let body = serde_json::to_vec(&fields).unwrap();
            let parsed = parse_provision_request(&body);
            prop_assert_eq!(parsed.is_ok(), expected, "{:?}", parsed);
        }
    }

    #[test]
    fn error_messages_never_repeat_the_key() {
        for body in [r#"{"apiKey":"sk-secret value"}"#, r#"{"apiKey":"sk-secret-value-1234","priority":"sk-secret"}"#] {
            for (_, message) in errors(body) {
                assert!(!message.contains("secret"), "{message}");
            }
        }
    }
}
