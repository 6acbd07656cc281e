//! Ports the webhook use-cases need, and the adapters behind them.
//!
//! [`ports`] declares what the application asks of the key pool. [`mongo`] keeps it in the
//! MongoDB the existing programs share; [`memory`] holds it in the process (demos, fast
//! tests). Both stores read and write the documents through
//! [`documents`], so they agree on every shape the existing programs share.

pub mod documents;
pub mod memory;
pub mod mongo;
pub mod ports;
pub mod seed;

pub use memory::MemoryStore;
pub use mongo::{MongoConfig, MongoRepository, TransactionMode};
pub use ports::{
    Begun, IdempotencyClaim, IdempotencyStore, KeyPool, Lease, PooledKey, ProvisionError, ProvisionPlan, RawDocuments,
    Retirement, StoreError, StoredResponse,
};
