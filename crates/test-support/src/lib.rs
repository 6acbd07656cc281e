//! What the workspace's tests share: finding the MongoDB-wire server they run against.

pub mod mongo;
