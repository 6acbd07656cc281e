//! Black-box tests: start the built `webhook-api` binary with a seed file and talk HTTP to it.

mod healthcheck;
mod malformed_requests;
mod service;
mod shutdown;
mod start_up;
mod webhooks;
