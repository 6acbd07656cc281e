//! HTTP tests: the real application on a random port, over a store the test controls.

mod failing_pool;
mod health;
mod helpers;
mod idempotency;
mod metrics;
mod openapi;
mod provision_key;
mod rate_limits;
mod refresh_status;
mod reload_hook;
mod webhook_auth;
