//! The MongoDB repository: connecting, the read side of the pool, and raw documents.

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use bson::{Document, doc};
use futures::TryStreamExt;
use futures::future::try_join_all;
use mongodb::action::Action;
use mongodb::error::ErrorKind;
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use tokio::sync::OnceCell;

use domain::{ApiKey, Binding, KeyId, KeyStatus, OpenHandsKey, ProxyId, StatusSummary};

use super::config::{MongoConfig, TransactionMode};
use super::errors::{invalid_uri, timed_out, unavailable};
use super::indexes::{INDEXES, is_covered_by_an_existing_index};
use super::provision;
use crate::documents::{self, ARCHIVE, BINDINGS, KEYS, PROXIES};
use crate::ports::{KeyPool, PooledKey, ProvisionError, ProvisionPlan, RawDocuments, StoreError};

const APP_NAME: &str = "openhands-key-webhook";

/// The key pool in a MongoDB database. Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct MongoRepository {
    pub(super) client: Client,
    pub(super) database: Database,
    operation_timeout: Duration,
    pub(super) transactions: TransactionMode,
    /// Whether the deployment runs transactions, learnt from the first successful `hello`.
    pub(super) supports_transactions: Arc<OnceCell<bool>>,
    #[cfg(feature = "fault-injection")]
    pub(super) faults: super::faults::Faults,
}

impl MongoRepository {
    /// Prepares a client without waiting for a server: connections are made on first use, so
    /// the service starts (and reports itself not ready) while MongoDB is down.
    ///
    /// A connection string that cannot work fails with [`StoreError::InvalidConfiguration`].
    /// A `mongodb+srv://` string is resolved here, so a failing DNS lookup fails with
    /// [`StoreError::Unavailable`].
    pub async fn connect(config: MongoConfig) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(&config.uri).await.map_err(|error| match &*error.kind {
            ErrorKind::DnsResolve { .. } => unavailable(&error),
            _ => invalid_uri(&config.uri, &error),
        })?;
        options.server_selection_timeout = Some(config.server_selection_timeout);
        options.connect_timeout = Some(config.operation_timeout);
        options.app_name.get_or_insert_with(|| APP_NAME.to_owned());
        let client = Client::with_options(options).map_err(|error| invalid_uri(&config.uri, &error))?;
        Ok(Self {
            database: client.database(&config.db_name),
            client,
            operation_timeout: config.operation_timeout,
            transactions: config.transactions,
            supports_transactions: Arc::new(OnceCell::new()),
            #[cfg(feature = "fault-injection")]
            faults: super::faults::Faults::default(),
        })
    }

    /// Creates the [`INDEXES`] the queries rely on. Safe to repeat: an index that exists is
    /// left as it is, including one on the same fields under another name.
    pub async fn ensure_indexes(&self) -> Result<(), StoreError> {
        for spec in INDEXES {
            let created = self.bounded(async {
                match self.collection(spec.collection).create_index(spec.model()).await {
                    Err(error) if is_covered_by_an_existing_index(&error) => {
                        log::info!(
                            "{}: an equivalent index already exists; {} not created",
                            spec.collection,
                            spec.name
                        );
                        Ok(())
                    }
                    other => other.map(drop).map_err(|error| unavailable(&error)),
                }
            });
            created.await?;
        }
        Ok(())
    }

    /// Makes the next provisioning that reaches `point` fail there, once.
    #[cfg(feature = "fault-injection")]
    pub fn fail_once_at(&self, point: super::FaultPoint) {
        self.faults.arm(point);
    }

    pub(super) fn collection(&self, name: &str) -> Collection<Document> {
        self.database.collection(name)
    }

    /// Bounds one call into the repository by the operation timeout, so a hung server fails a
    /// request with 503 instead of holding it.
    pub(super) async fn bounded<T, E: From<StoreError>>(
        &self,
        operation: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        tokio::time::timeout(self.operation_timeout, operation)
            .await
            .unwrap_or_else(|_| Err(timed_out(self.operation_timeout).into()))
    }

    async fn find_all(
        &self,
        collection: &str,
        filter: Document,
        sort: Option<Document>,
    ) -> Result<Vec<Document>, StoreError> {
        let collection = self.collection(collection);
        let cursor = collection.find(filter).optional(sort, |find, sort| find.sort(sort));
        let documents = async { cursor.await?.try_collect().await };
        documents.await.map_err(|error| unavailable(&error))
    }

    /// The binding that routes traffic through each key: an active one first, then the
    /// preferred priority (as the in-memory store chooses).
    async fn bindings_of(&self, key_ids: Vec<&str>) -> Result<HashMap<String, Binding>, StoreError> {
        let documents = self.find_all(BINDINGS, doc! { "openhandsKeyId": { "$in": key_ids } }, None).await?;
        let mut chosen: HashMap<String, Binding> = HashMap::new();
        for binding in documents.iter().filter_map(documents::binding_from_document) {
            let rank = |binding: &Binding| (!binding.is_active, binding.priority);
            match chosen.get(binding.key_id.as_str()) {
                Some(current) if rank(current) <= rank(&binding) => {}
                _ => {
                    chosen.insert(binding.key_id.as_str().to_owned(), binding);
                }
            }
        }
        Ok(chosen)
    }
}

impl std::fmt::Debug for MongoRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoRepository").field("database", &self.database.name()).finish_non_exhaustive()
    }
}

/// Reads key documents, skipping (and logging) any that cannot be read: one odd document must
/// not fail the request.
fn read_keys(documents: &[Document]) -> Vec<OpenHandsKey> {
    documents
        .iter()
        .filter_map(|document| {
            let key = documents::key_from_document(document);
            if key.is_none() {
                log::warn!("skipped a {KEYS} document without an _id");
            }
            key
        })
        .collect()
}

impl KeyPool for MongoRepository {
    async fn keys_needing_refresh(&self) -> Result<Vec<OpenHandsKey>, StoreError> {
        // Served by the (status, createdAt, _id) index: the cost follows the need_refresh keys.
        let filter = doc! { "status": KeyStatus::NeedRefresh.as_str() };
        let documents = self.bounded(self.find_all(KEYS, filter, Some(doc! { "createdAt": 1, "_id": 1 }))).await?;
        Ok(read_keys(&documents))
    }

    async fn status_summary(&self) -> Result<StatusSummary, StoreError> {
        let keys = self.collection(KEYS);
        // Each known status is counted on the status index. The total comes from the
        // collection's metadata, which costs the same for any pool size (counting all
        // documents would scan the collection); it may be briefly off after an unclean
        // shutdown, which a summary can live with.
        let counts = KeyStatus::KNOWN.map(|status| {
            let keys = &keys;
            async move { keys.count_documents(doc! { "status": status.as_str() }).await.map(|count| (status, count)) }
        });
        let total = keys.estimated_document_count().into_future();
        let counted = async { futures::try_join!(total, try_join_all(counts)) };
        let (total, counts) = self.bounded(async { counted.await.map_err(|error| unavailable(&error)) }).await?;

        let mut summary = StatusSummary::default();
        for (status, count) in &counts {
            summary.add(status, *count);
        }
        let other = total.saturating_sub(summary.total);
        summary.add(&KeyStatus::Other(String::new()), other);
        Ok(summary)
    }

    async fn proxy_exists(&self, proxy_id: &ProxyId) -> Result<bool, StoreError> {
        let proxies = self.collection(PROXIES);
        let found = proxies.find_one(doc! { "_id": proxy_id.as_str() }).projection(doc! { "_id": 1 });
        self.bounded(async { found.await.map(|proxy| proxy.is_some()).map_err(|error| unavailable(&error)) }).await
    }

    async fn find_key(&self, key_id: &KeyId) -> Result<Option<OpenHandsKey>, StoreError> {
        let keys = self.collection(KEYS);
        let found = keys.find_one(doc! { "_id": key_id.as_str() });
        let document = self.bounded(async { found.await.map_err(|error| unavailable(&error)) }).await?;
        Ok(document.as_ref().and_then(documents::key_from_document))
    }

    async fn find_by_api_key(&self, api_key: &ApiKey) -> Result<Option<PooledKey>, StoreError> {
        self.bounded(async {
            let copies = read_keys(&self.find_all(KEYS, doc! { "apiKey": api_key.expose() }, None).await?);
            if copies.is_empty() {
                return Ok(None);
            }
            let mut bindings = self.bindings_of(copies.iter().map(|key| key.id.as_str()).collect()).await?;
            // A bound copy wins, then the oldest (undated first), then the smallest id.
            let chosen = copies
                .into_iter()
                .map(|key| PooledKey { binding: bindings.remove(key.id.as_str()), key })
                .min_by(|a, b| {
                    (a.binding.is_none(), a.key.created_at, &a.key.id).cmp(&(
                        b.binding.is_none(),
                        b.key.created_at,
                        &b.key.id,
                    ))
                });
            Ok(chosen)
        })
        .await
    }

    async fn was_retired_by(&self, key_id: &KeyId, replaced_by: &KeyId) -> Result<bool, StoreError> {
        let archive = self.collection(ARCHIVE);
        let found = archive.find_one(documents::archive_filter(key_id, replaced_by)).projection(doc! { "_id": 1 });
        self.bounded(async { found.await.map(|record| record.is_some()).map_err(|error| unavailable(&error)) }).await
    }

    async fn provision(&self, plan: &ProvisionPlan) -> Result<(), ProvisionError> {
        self.bounded(provision::provision(self, plan)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let pinged = self.database.run_command(doc! { "ping": 1 });
        self.bounded(async { pinged.await.map(drop).map_err(|error| unavailable(&error)) }).await
    }
}

impl RawDocuments for MongoRepository {
    async fn insert_documents(&self, collection: &str, documents: Vec<Document>) -> Result<(), StoreError> {
        if documents.is_empty() {
            return Ok(());
        }
        let collection = self.collection(collection);
        let inserted = collection.insert_many(documents);
        self.bounded(async { inserted.await.map(drop).map_err(|error| unavailable(&error)) }).await
    }

    async fn documents(&self, collection: &str) -> Result<Vec<Document>, StoreError> {
        self.bounded(self.find_all(collection, doc! {}, None)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connects_without_a_server_and_refuses_a_malformed_uri() {
        let mut config = MongoConfig::new("mongodb://127.0.0.1:1/", "fproxy");
        config.server_selection_timeout = Duration::from_millis(200);
        let repository = MongoRepository::connect(config.clone()).await.unwrap();
        assert!(matches!(repository.ping().await, Err(StoreError::Unavailable(_))));

        config.uri = "mongodb://admin:hunter2@db:notaport/".to_owned();
        let Err(StoreError::InvalidConfiguration(message)) = MongoRepository::connect(config).await else {
            panic!("a malformed URI is a configuration error");
        };
        assert!(message.contains("mongodb://***@db:notaport/"), "{message}");
        assert!(!message.contains("hunter2") && !message.contains("admin"), "{message}");
    }
}
