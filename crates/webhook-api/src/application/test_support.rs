//! A key service on the in-memory store, with a fixed clock and chosen id suffixes.

use std::sync::{Arc, Mutex};

use adapters::documents::{KEYS, PROXIES};
use adapters::{MemoryStore, RawDocuments};
use bson::{Document, doc};
use chrono::{DateTime, TimeZone, Utc};
use domain::{Clock, KeyIdGenerator, Priority, ProxyId, RandomSuffix};

use super::KeyService;

pub const FIXED_NOW_MS: i64 = 1_767_225_600_000;

struct FixedClock;
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(FIXED_NOW_MS).unwrap()
    }
}

/// Hands out the given suffixes in turn, repeating the last.
struct ScriptedSuffixes(Mutex<Vec<&'static str>>);
impl RandomSuffix for ScriptedSuffixes {
    fn suffix(&self) -> String {
        let mut left = self.0.lock().unwrap();
        if left.len() > 1 { left.remove(0) } else { left[0] }.to_owned()
    }
}

pub async fn service_targeting(target: &str, keys: Vec<Document>) -> KeyService<MemoryStore> {
    build(target, keys, &["aaaaaa", "bbbbbb", "cccccc", "dddddd"]).await
}

pub async fn service_with(keys: Vec<Document>) -> KeyService<MemoryStore> {
    service_targeting("proxy-6", keys).await
}

pub async fn service_with_suffixes(suffixes: &[&'static str]) -> KeyService<MemoryStore> {
    build("proxy-6", vec![], suffixes).await
}

async fn build(target: &str, keys: Vec<Document>, suffixes: &[&'static str]) -> KeyService<MemoryStore> {
    let pool = MemoryStore::new();
    pool.insert_documents(PROXIES, vec![doc! { "_id": "proxy-6" }, doc! { "_id": "proxy-1" }]).await.unwrap();
    pool.insert_documents(KEYS, keys).await.unwrap();
    let ids = KeyIdGenerator::new(Arc::new(FixedClock), Arc::new(ScriptedSuffixes(Mutex::new(suffixes.to_vec()))));
    KeyService::new(pool, ids, ProxyId::parse(target).unwrap(), Priority::parse(1).unwrap())
}

pub fn key_document(id: &str, api_key: &str, status: &str, created_at_ms: Option<i64>) -> Document {
    let mut document = doc! { "_id": id, "apiKey": api_key, "status": status, "tokensUsed": 0, "requestsCount": 0 };
    if let Some(ms) = created_at_ms {
        document.insert("createdAt", bson::DateTime::from_millis(ms));
    }
    document
}

pub fn binding_document(key_id: &str, proxy_id: &str) -> Document {
    doc! { "_id": bson::oid::ObjectId::new(), "proxyId": proxy_id, "openhandsKeyId": key_id, "priority": 1, "isActive": true }
}
