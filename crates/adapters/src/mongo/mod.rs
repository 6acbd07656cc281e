//! The key pool in MongoDB, shared with the Go proxy and the admin backend.
//!
//! [`MongoRepository`] implements the ports with index-backed queries ([`INDEXES`]) and writes
//! exactly the shapes in [`documents`](crate::documents). Provisioning runs in a transaction
//! where the deployment has them and step by step, in a loss-free order, where it does not.

/// Marks a place in the provisioning steps where the adapters' own tests can make it fail.
/// Expands to nothing unless the `fault-injection` feature is on.
#[cfg(feature = "fault-injection")]
macro_rules! fault_point {
    ($repository:expr, $point:ident) => {
        $repository.faults.trip($crate::mongo::FaultPoint::$point)?
    };
}
#[cfg(not(feature = "fault-injection"))]
macro_rules! fault_point {
    ($repository:expr, $point:ident) => {};
}

mod config;
mod errors;
#[cfg(feature = "fault-injection")]
mod faults;
mod idempotency;
mod indexes;
mod provision;
mod repository;

pub use config::{MongoConfig, TransactionMode, redact_uri};
#[cfg(feature = "fault-injection")]
pub use faults::FaultPoint;
pub use indexes::{INDEXES, IndexSpec};
pub use repository::MongoRepository;
