use std::future::Future;

use chrono::{DateTime, Utc};
use domain::{ApiKey, Binding, IdempotencyKey, KeyId, OpenHandsKey, ProxyId, StatusSummary};

/// The key pool as the use-cases need it. Implemented by the MongoDB repository and by the
/// in-memory store; both pass the same contract suite.
pub trait KeyPool: Clone + Send + Sync + 'static {
    /// Every key whose status is `need_refresh`, oldest `createdAt` first (keys without a date
    /// first), then by id. Costs in proportion to those keys, not to the pool.
    fn keys_needing_refresh(&self) -> impl Future<Output = Result<Vec<OpenHandsKey>, StoreError>> + Send;

    /// How many keys are in each status.
    fn status_summary(&self) -> impl Future<Output = Result<StatusSummary, StoreError>> + Send;

    fn proxy_exists(&self, proxy_id: &ProxyId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn find_key(&self, key_id: &KeyId) -> impl Future<Output = Result<Option<OpenHandsKey>, StoreError>> + Send;

    /// The key holding `api_key`, if any. The existing data may hold the same key more than
    /// once: a bound copy wins over an unbound one, then the oldest.
    fn find_by_api_key(&self, api_key: &ApiKey) -> impl Future<Output = Result<Option<PooledKey>, StoreError>> + Send;

    /// Whether `key_id` was archived as replaced by `replaced_by`.
    fn was_retired_by(
        &self,
        key_id: &KeyId,
        replaced_by: &KeyId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Carries out the plan's writes as one unit: the new key, then its binding, then the
    /// retirement. Whatever is interrupted can be finished by applying the rest of the plan.
    fn provision(&self, plan: &ProvisionPlan) -> impl Future<Output = Result<(), ProvisionError>> + Send;

    /// Answers when the store is reachable.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A key of the pool and the binding that routes traffic through it, if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledKey {
    pub key: OpenHandsKey,
    pub binding: Option<Binding>,
}

/// The writes of one provisioning request. Each part is optional so that a retry can finish
/// what an interrupted request left undone.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionPlan {
    /// A key to insert. Refused with [`ProvisionError::ApiKeyTaken`] when its `apiKey` is
    /// already in the pool, and with [`ProvisionError::KeyIdTaken`] when its id is.
    pub new_key: Option<OpenHandsKey>,
    pub new_binding: Option<Binding>,
    pub retirement: Option<Retirement>,
}

/// Retire a key replaced by another: archive its whole document, delete its bindings, delete
/// it. Archiving is keyed by (`key_id`, `replaced_by`), so repeating a retirement never
/// archives twice.
#[derive(Debug, Clone, PartialEq)]
pub struct Retirement {
    pub key_id: KeyId,
    pub replaced_by: KeyId,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer, or answered too late. Nothing is known to be written.
    #[error("the key store is unavailable: {0}")]
    Unavailable(String),
    /// The store's settings cannot work (a malformed connection string). Only returned when
    /// the store is set up, never by a call on a running store.
    #[error("the key store is misconfigured: {0}")]
    InvalidConfiguration(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisionError {
    #[error("a key with id {0} already exists")]
    KeyIdTaken(KeyId),
    #[error("the API key is already in the pool as {0}")]
    ApiKeyTaken(KeyId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whole documents of any collection, for loading a seed and for tests and benchmarks that
/// need to look at exactly what was written.
pub trait RawDocuments: Clone + Send + Sync + 'static {
    fn insert_documents(
        &self,
        collection: &str,
        documents: Vec<bson::Document>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn documents(&self, collection: &str) -> impl Future<Output = Result<Vec<bson::Document>, StoreError>> + Send;
}

/// Remembers requests sent with an `Idempotency-Key` and the answers they got, in the store, so
/// that every replica sees the same records.
pub trait IdempotencyStore: Clone + Send + Sync + 'static {
    /// Claims the key for this request, or says what became of it before.
    fn begin(&self, claim: &IdempotencyClaim) -> impl Future<Output = Result<Begun, StoreError>> + Send;

    /// Keeps the answer that ended the request holding `lease`, until the claim expires.
    fn complete(
        &self,
        key: &IdempotencyKey,
        lease: &Lease,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Ends the lease at once, keeping no answer (the request failed before it had one), so a
    /// retry takes over without waiting for the lease to run out.
    fn release(&self, key: &IdempotencyKey, lease: &Lease) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A request's claim on its `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyClaim {
    pub key: IdempotencyKey,
    /// Identifies the request's meaning: a retry must send the same.
    pub fingerprint: String,
    /// The id of the key this request will create, recorded before anything is written so that
    /// a retry taking over finishes the same work.
    pub planned_key_id: KeyId,
    /// Unique per attempt: proves which attempt holds the lease.
    pub token: String,
    pub now: DateTime<Utc>,
    /// Until then no retry may take over, unless the lease is released.
    pub lease_until: DateTime<Utc>,
    /// When the record, and the answer it keeps, is forgotten.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Begun {
    /// The key was new: go ahead.
    Fresh(Lease),
    /// An earlier attempt's lease ran out before it answered: finish its work.
    TakenOver(Lease),
    /// An earlier attempt with the same fingerprint answered this.
    Completed(StoredResponse),
    /// An earlier attempt still holds the lease.
    InFlight { lease_until: DateTime<Utc> },
    /// The key was used for a request with another fingerprint.
    KeyReused,
}

/// The right to carry out the request, and the key id it creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub token: String,
    pub planned_key_id: KeyId,
}

/// An answer kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}
