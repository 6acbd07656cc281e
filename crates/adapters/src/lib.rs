//! Ports the webhook use-cases need, and the adapters behind them.
//!
//! [`ports`] declares what the application asks of the key pool. [`memory`] holds the pool in
//! the process (demos, fast tests); both stores read and write the documents through
//! [`documents`], so they agree on every shape the existing programs share.

pub mod documents;
pub mod memory;
pub mod ports;
pub mod seed;

pub use memory::MemoryStore;
pub use ports::{
    Begun, IdempotencyClaim, IdempotencyStore, KeyPool, Lease, PooledKey, ProvisionError, ProvisionPlan, RawDocuments,
    Retirement, StoreError, StoredResponse,
};
