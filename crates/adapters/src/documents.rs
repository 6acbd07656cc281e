//! The BSON shapes of the shared collections (DESIGN.md section 2), in one place for both
//! stores. Reading is lenient: the existing programs wrote counters as Int32, Int64 or Double,
//! left fields out or null, and invented statuses, and none of that may fail a request.
//! Writing is exact, so the Go proxy and the admin backend keep reading what we write.

use bson::{Bson, Document, doc, oid::ObjectId};
use chrono::{DateTime, Utc};
use domain::{ApiKey, Binding, KeyId, KeyStatus, OpenHandsKey, Priority, ProxyId};
use sha2::{Digest, Sha256};

pub const KEYS: &str = "openhands_keys";
pub const BINDINGS: &str = "openhands_bindings";
pub const PROXIES: &str = "proxies";
pub const ARCHIVE: &str = "deleted_keys_archive";
/// Ours, additive: who is adding which API key (by its SHA-256), so concurrent requests for one
/// key add it once without a unique index on the shared `openhands_keys`.
pub const API_KEY_CLAIMS: &str = "webhook_api_key_claims";
/// Ours, additive: `Idempotency-Key` records, expired by a TTL index.
pub const IDEMPOTENCY: &str = "webhook_idempotency";

pub const REPLACED_REASON: &str = "replaced_via_webhook";
pub const DELETED_BY: &str = "webhook";

/// Reads a key document. Only a missing `_id` makes it unreadable; every other field falls
/// back to "unknown" (empty key, unknown status, no date).
pub fn key_from_document(document: &Document) -> Option<OpenHandsKey> {
    Some(OpenHandsKey {
        id: KeyId::from_store(id_text(document.get("_id")?)),
        api_key: ApiKey::from_store(string_field(document, "apiKey").unwrap_or_default()),
        status: key_status(document),
        last_error: string_field(document, "lastError"),
        created_at: date_field(document, "createdAt"),
        updated_at: date_field(document, "updatedAt"),
        last_used_at: date_field(document, "lastUsedAt"),
    })
}

/// A key's status as stored; a missing or non-string status is an unknown (empty) one.
pub fn key_status(document: &Document) -> KeyStatus {
    KeyStatus::parse(document.get_str("status").unwrap_or_default())
}

/// The exact document a new key is written as.
pub fn new_key_document(key: &OpenHandsKey) -> Document {
    doc! {
        "_id": key.id.as_str(),
        "apiKey": key.api_key.expose(),
        "status": KeyStatus::Healthy.as_str(),
        "tokensUsed": 0_i32,
        "requestsCount": 0_i32,
        "createdAt": bson_date(key.created_at.unwrap_or_else(Utc::now)),
    }
}

/// Reads a binding document; one without a proxy or a key is unreadable.
pub fn binding_from_document(document: &Document) -> Option<Binding> {
    Some(Binding {
        proxy_id: ProxyId::from_store(id_text(document.get("proxyId")?)),
        key_id: KeyId::from_store(id_text(document.get("openhandsKeyId")?)),
        priority: Priority::saturating(number(document.get("priority")).unwrap_or(1)),
        is_active: document.get_bool("isActive").unwrap_or(false),
        created_at: date_field(document, "createdAt"),
    })
}

/// The exact document a new binding is written as.
pub fn new_binding_document(binding: &Binding) -> Document {
    doc! {
        "_id": ObjectId::new(),
        "proxyId": binding.proxy_id.as_str(),
        "openhandsKeyId": binding.key_id.as_str(),
        "priority": i32::from(binding.priority.value()),
        "isActive": binding.is_active,
        "createdAt": bson_date(binding.created_at.unwrap_or_else(Utc::now)),
    }
}

/// The archive record of a key retired because `replaced_by` took its place.
pub fn archive_document(old: Document, replaced_by: &KeyId, at: DateTime<Utc>) -> Document {
    let source_id = old.get("_id").cloned().unwrap_or(Bson::Null);
    doc! {
        "_id": ObjectId::new(),
        "sourceCollection": KEYS,
        "sourceId": source_id,
        "reason": REPLACED_REASON,
        "deletedBy": DELETED_BY,
        "deletedAt": bson_date(at),
        "document": old,
        "metadata": { "replacedBy": replaced_by.as_str() },
    }
}

/// The filter that finds the archive record of one retirement.
pub fn archive_filter(key_id: &KeyId, replaced_by: &KeyId) -> Document {
    doc! {
        "sourceCollection": KEYS,
        "sourceId": key_id.as_str(),
        "reason": REPLACED_REASON,
        "metadata.replacedBy": replaced_by.as_str(),
    }
}

/// An API key's SHA-256, hex: names its claim without storing the key again.
pub fn api_key_digest(api_key: &ApiKey) -> String {
    format!("{:x}", Sha256::digest(api_key.expose()))
}

pub fn bson_date(at: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(at)
}

/// An `_id`-like value as text: strings as they are, ObjectIds as hex, anything else as its
/// relaxed Extended JSON.
fn id_text(value: &Bson) -> String {
    match value {
        Bson::String(text) => text.clone(),
        Bson::ObjectId(oid) => oid.to_hex(),
        other => other.clone().into_relaxed_extjson().to_string(),
    }
}

fn string_field(document: &Document, field: &str) -> Option<String> {
    document.get_str(field).ok().map(str::to_owned)
}

fn date_field(document: &Document, field: &str) -> Option<DateTime<Utc>> {
    match document.get(field)? {
        Bson::DateTime(at) => Some(at.to_chrono()),
        _ => None,
    }
}

/// A number stored as Int32, Int64, Double or a numeric string.
fn number(value: Option<&Bson>) -> Option<i64> {
    match value? {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        Bson::Double(n) if n.is_finite() => Some(n.round() as i64),
        Bson::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(millis: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(millis).unwrap()
    }

    #[test]
    fn writes_a_new_key_in_the_exact_shape() {
        let key =
            OpenHandsKey::new(KeyId::from_store("oh-key-1".into()), ApiKey::parse("sk-12345678").unwrap(), at(1_000));
        let document = new_key_document(&key);
        let fields: Vec<_> = document.keys().map(String::as_str).collect();
        assert_eq!(fields, ["_id", "apiKey", "status", "tokensUsed", "requestsCount", "createdAt"]);
        assert_eq!(document.get("tokensUsed"), Some(&Bson::Int32(0)));
        assert_eq!(document.get("createdAt"), Some(&Bson::DateTime(bson::DateTime::from_millis(1_000))));
        assert_eq!(key_from_document(&document), Some(key));
    }

    #[test]
    fn writes_a_binding_in_the_exact_shape() {
        let binding = Binding::new(
            ProxyId::parse("proxy-6").unwrap(),
            KeyId::from_store("oh-key-1".into()),
            Priority::parse(3).unwrap(),
            at(2_000),
        );
        let document = new_binding_document(&binding);
        let fields: Vec<_> = document.keys().map(String::as_str).collect();
        assert_eq!(fields, ["_id", "proxyId", "openhandsKeyId", "priority", "isActive", "createdAt"]);
        assert!(matches!(document.get("_id"), Some(Bson::ObjectId(_))));
        assert_eq!(document.get("priority"), Some(&Bson::Int32(3)));
        assert_eq!(binding_from_document(&document), Some(binding));
    }

    #[test]
    fn reads_odd_legacy_values_without_failing() {
        let document = doc! {
            "_id": ObjectId::parse_str("6750a1000000000000000001").unwrap(),
            "status": 7_i32,
            "lastError": Bson::Null,
            "createdAt": "2026-11-01",
            "tokensUsed": "lots",
        };
        let key = key_from_document(&document).unwrap();
        assert_eq!(key.id.as_str(), "6750a1000000000000000001");
        assert_eq!(key.api_key.expose(), "");
        assert_eq!(key.status, KeyStatus::Other(String::new()));
        assert_eq!((key.last_error, key.created_at), (None, None));
        assert_eq!(key_from_document(&doc! { "apiKey": "sk" }), None);
    }

    #[test]
    fn reads_binding_priorities_of_any_numeric_type() {
        let read = |priority: Bson| {
            binding_from_document(&doc! { "proxyId": "p", "openhandsKeyId": "k", "priority": priority })
                .unwrap()
                .priority
                .value()
        };
        assert_eq!(read(Bson::Int64(4)), 4);
        assert_eq!(read(Bson::Double(2.0)), 2);
        assert_eq!(read(Bson::String("5".into())), 5);
        assert_eq!(read(Bson::Int32(0)), 1);
        assert_eq!(read(Bson::Int32(99)), 10);
        assert_eq!(read(Bson::Null), 1);
    }

    #[test]
    fn archives_the_whole_old_document() {
        let old = doc! { "_id": "old", "apiKey": "sk-old", "extra": { "kept": true } };
        let record = archive_document(old.clone(), &KeyId::from_store("new".into()), at(3_000));
        assert_eq!(record.get_document("document").unwrap(), &old);
        assert_eq!(record.get_str("sourceId").unwrap(), "old");
        assert_eq!(record.get_str("reason").unwrap(), "replaced_via_webhook");
        assert_eq!(record.get_str("deletedBy").unwrap(), "webhook");
        assert_eq!(record.get_document("metadata").unwrap(), &doc! { "replacedBy": "new" });
    }
}
