//! Black-box tests: start the built `webhook-api` binary and talk HTTP to it, on the in-memory
//! store (seed files) and on MongoDB.

mod crash_recovery;
mod healthcheck;
mod malformed_requests;
mod mongo_outage;
mod mongo_pool;
mod mongo_webhooks;
mod replicas;
mod service;
mod shutdown;
mod start_up;
mod webhooks;
