//! What the workspace's tests share: the MongoDB-wire server they run against, and private
//! servers for outage tests.

pub mod mongo;
pub mod private_server;
