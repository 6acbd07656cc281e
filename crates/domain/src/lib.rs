//! The OpenHands key pool as the webhook service sees it.
//!
//! Everything here is plain data and pure functions: no I/O, no framework or driver types.
//! Input from the outside world becomes one of the value types through its `parse`
//! constructor, so code that holds an [`ApiKey`] or a [`Priority`] never checks it again.

mod api_key;
mod binding;
mod idempotency_key;
mod key;
mod key_id;
mod key_id_generator;
mod key_name;
mod key_status;
mod priority;
mod proxy_id;
mod store_id;

pub use api_key::{ApiKey, ApiKeyError, mask_api_key};
pub use binding::Binding;
pub use idempotency_key::{IdempotencyKey, IdempotencyKeyError};
pub use key::{OpenHandsKey, StatusSummary};
pub use key_id::KeyId;
pub use key_id_generator::{Clock, KeyIdGenerator, RandomSuffix, SystemClock, ThreadRngSuffix};
pub use key_name::{KeyName, KeyNameError};
pub use key_status::KeyStatus;
pub use priority::{Priority, PriorityError};
pub use proxy_id::ProxyId;
pub use store_id::IdError;
