//! HTTP tests: the real application on a random port, over a store the test controls.

mod failing_pool;
mod health;
mod helpers;
mod idempotency;
mod provision_key;
mod rate_limits;
mod refresh_status;
mod webhook_auth;
