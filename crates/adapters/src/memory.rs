//! The key pool held in the process: for `make run` demos and fast tests. It keeps whole
//! documents like MongoDB does and indexes them so the status webhook's cost follows the
//! number of `need_refresh` keys, not the pool's size.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bson::Document;
use chrono::{DateTime, Utc};
use domain::{ApiKey, Binding, IdempotencyKey, KeyId, KeyStatus, OpenHandsKey, ProxyId, StatusSummary};

use crate::documents::{self, ARCHIVE, BINDINGS, KEYS, PROXIES};
use crate::ports::{
    Begun, IdempotencyClaim, IdempotencyStore, KeyPool, Lease, PooledKey, ProvisionError, ProvisionPlan, RawDocuments,
    Retirement, StoreError, StoredResponse,
};
use crate::seed::Seed;

mod idempotency;

#[derive(Clone, Default)]
pub struct MemoryStore {
    collections: Arc<Mutex<Collections>>,
    idempotency: Arc<Mutex<idempotency::IdempotencyRecords>>,
}

#[derive(Default)]
struct Collections {
    keys: HashMap<String, Document>,
    /// Every `need_refresh` key, read once, by `(createdAt, _id)`: the status webhook's order.
    need_refresh: BTreeMap<(Option<DateTime<Utc>>, String), OpenHandsKey>,
    status_counts: HashMap<KeyStatus, u64>,
    key_ids_by_api_key: HashMap<String, BTreeSet<String>>,
    bindings_by_key_id: HashMap<String, Vec<Document>>,
    proxies: HashMap<String, Document>,
    archive: Vec<Document>,
    /// Collections the service does not use, kept so a seed round-trips.
    others: HashMap<String, Vec<Document>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_seed(seed: Seed) -> Self {
        let store = Self::new();
        {
            let mut collections = store.lock();
            for (collection, documents) in seed.collections {
                for document in documents {
                    collections.insert(&collection, document);
                }
            }
        }
        store
    }

    // Nothing panics while these locks are held, so a poisoned lock still guards whole data.
    fn lock(&self) -> MutexGuard<'_, Collections> {
        self.collections.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn idempotency(&self) -> MutexGuard<'_, idempotency::IdempotencyRecords> {
        self.idempotency.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl Collections {
    fn insert(&mut self, collection: &str, document: Document) {
        match collection {
            KEYS => self.insert_key(document),
            BINDINGS => {
                if let Some(binding) = documents::binding_from_document(&document) {
                    self.bindings_by_key_id.entry(binding.key_id.as_str().to_owned()).or_default().push(document);
                }
            }
            PROXIES => {
                if let Ok(id) = document.get_str("_id") {
                    self.proxies.insert(id.to_owned(), document);
                }
            }
            ARCHIVE => self.archive.push(document),
            other => self.others.entry(other.to_owned()).or_default().push(document),
        }
    }

    fn insert_key(&mut self, document: Document) {
        let Some(key) = documents::key_from_document(&document) else { return };
        let id = key.id.as_str().to_owned();
        self.remove_key(&id);
        *self.status_counts.entry(key.status.clone()).or_default() += 1;
        self.key_ids_by_api_key.entry(key.api_key.expose().to_owned()).or_default().insert(id.clone());
        if key.status == KeyStatus::NeedRefresh {
            self.need_refresh.insert((key.created_at, id.clone()), key);
        }
        self.keys.insert(id, document);
    }

    fn remove_key(&mut self, id: &str) -> Option<Document> {
        let document = self.keys.remove(id)?;
        let key = documents::key_from_document(&document)?;
        self.need_refresh.remove(&(key.created_at, id.to_owned()));
        if let Some(count) = self.status_counts.get_mut(&key.status) {
            *count = count.saturating_sub(1);
        }
        if let Some(ids) = self.key_ids_by_api_key.get_mut(key.api_key.expose()) {
            ids.remove(id);
            if ids.is_empty() {
                self.key_ids_by_api_key.remove(key.api_key.expose());
            }
        }
        Some(document)
    }

    fn key(&self, id: &str) -> Option<OpenHandsKey> {
        self.keys.get(id).and_then(documents::key_from_document)
    }

    /// The binding that routes traffic through a key: an active one first, then the
    /// preferred priority.
    fn binding_of(&self, key_id: &str) -> Option<Binding> {
        self.bindings_by_key_id
            .get(key_id)?
            .iter()
            .filter_map(documents::binding_from_document)
            .min_by_key(|binding| (!binding.is_active, binding.priority))
    }

    fn has_binding(&self, key_id: &KeyId, proxy_id: &ProxyId) -> bool {
        self.bindings_by_key_id.get(key_id.as_str()).is_some_and(|bindings| {
            bindings.iter().filter_map(documents::binding_from_document).any(|binding| binding.proxy_id == *proxy_id)
        })
    }

    fn was_archived(&self, key_id: &KeyId, replaced_by: &KeyId) -> bool {
        let filter = documents::archive_filter(key_id, replaced_by);
        self.archive.iter().any(|record| matches_filter(record, &filter))
    }

    fn retire(&mut self, retirement: &Retirement) {
        let id = retirement.key_id.as_str();
        if let Some(old) = self.keys.get(id).cloned()
            && !self.was_archived(&retirement.key_id, &retirement.replaced_by)
        {
            self.archive.push(documents::archive_document(old, &retirement.replaced_by, retirement.at));
        }
        self.bindings_by_key_id.remove(id);
        self.remove_key(id);
    }

    fn documents(&self, collection: &str) -> Vec<Document> {
        match collection {
            KEYS => self.keys.values().cloned().collect(),
            BINDINGS => self.bindings_by_key_id.values().flatten().cloned().collect(),
            PROXIES => self.proxies.values().cloned().collect(),
            ARCHIVE => self.archive.clone(),
            other => self.others.get(other).cloned().unwrap_or_default(),
        }
    }
}

/// Equality on dotted paths: enough for the archive filter, the only one used here.
fn matches_filter(document: &Document, filter: &Document) -> bool {
    filter.iter().all(|(path, expected)| {
        let mut parts = path.split('.');
        let first = parts.next().and_then(|part| document.get(part));
        let found = parts.try_fold(first, |value, part| match value {
            Some(bson::Bson::Document(inner)) => Some(inner.get(part)),
            _ => None,
        });
        found.flatten() == Some(expected)
    })
}

impl KeyPool for MemoryStore {
    async fn keys_needing_refresh(&self) -> Result<Vec<OpenHandsKey>, StoreError> {
        let collections = self.lock();
        Ok(collections.need_refresh.values().cloned().collect())
    }

    async fn status_summary(&self) -> Result<StatusSummary, StoreError> {
        let mut summary = StatusSummary::default();
        for (status, count) in &self.lock().status_counts {
            summary.add(status, *count);
        }
        Ok(summary)
    }

    async fn proxy_exists(&self, proxy_id: &ProxyId) -> Result<bool, StoreError> {
        Ok(self.lock().proxies.contains_key(proxy_id.as_str()))
    }

    async fn find_key(&self, key_id: &KeyId) -> Result<Option<OpenHandsKey>, StoreError> {
        Ok(self.lock().key(key_id.as_str()))
    }

    async fn find_by_api_key(&self, api_key: &ApiKey) -> Result<Option<PooledKey>, StoreError> {
        let collections = self.lock();
        let Some(ids) = collections.key_ids_by_api_key.get(api_key.expose()) else { return Ok(None) };
        Ok(ids
            .iter()
            .filter_map(|id| Some(PooledKey { key: collections.key(id)?, binding: collections.binding_of(id) }))
            .min_by(|a, b| {
                (a.binding.is_none(), a.key.created_at, &a.key.id).cmp(&(
                    b.binding.is_none(),
                    b.key.created_at,
                    &b.key.id,
                ))
            }))
    }

    async fn was_retired_by(&self, key_id: &KeyId, replaced_by: &KeyId) -> Result<bool, StoreError> {
        Ok(self.lock().was_archived(key_id, replaced_by))
    }

    async fn provision(&self, plan: &ProvisionPlan) -> Result<(), ProvisionError> {
        let mut collections = self.lock();
        if let Some(key) = &plan.new_key {
            if let Some(existing) = collections.key_ids_by_api_key.get(key.api_key.expose()).and_then(|ids| ids.first())
            {
                return Err(ProvisionError::ApiKeyTaken(KeyId::from_store(existing.clone())));
            }
            if collections.keys.contains_key(key.id.as_str()) {
                return Err(ProvisionError::KeyIdTaken(key.id.clone()));
            }
            collections.insert_key(documents::new_key_document(key));
        }
        if let Some(binding) = &plan.new_binding
            && !collections.has_binding(&binding.key_id, &binding.proxy_id)
        {
            collections.insert(BINDINGS, documents::new_binding_document(binding));
        }
        if let Some(retirement) = &plan.retirement {
            collections.retire(retirement);
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl IdempotencyStore for MemoryStore {
    async fn begin(&self, claim: &IdempotencyClaim) -> Result<Begun, StoreError> {
        Ok(self.idempotency().begin(claim))
    }

    async fn complete(&self, key: &IdempotencyKey, lease: &Lease, response: &StoredResponse) -> Result<(), StoreError> {
        self.idempotency().complete(key, lease, response);
        Ok(())
    }

    async fn release(&self, key: &IdempotencyKey, lease: &Lease) -> Result<(), StoreError> {
        self.idempotency().release(key, lease);
        Ok(())
    }
}

impl RawDocuments for MemoryStore {
    async fn insert_documents(&self, collection: &str, documents: Vec<Document>) -> Result<(), StoreError> {
        let mut collections = self.lock();
        for document in documents {
            collections.insert(collection, document);
        }
        Ok(())
    }

    async fn documents(&self, collection: &str) -> Result<Vec<Document>, StoreError> {
        Ok(self.lock().documents(collection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn filters_on_nested_paths() {
        let record = doc! { "a": 1, "metadata": { "replacedBy": "new" } };
        assert!(matches_filter(&record, &doc! { "a": 1, "metadata.replacedBy": "new" }));
        assert!(!matches_filter(&record, &doc! { "metadata.replacedBy": "other" }));
        assert!(!matches_filter(&record, &doc! { "a.b": 1 }));
        assert!(!matches_filter(&record, &doc! { "missing": 1 }));
    }
}
