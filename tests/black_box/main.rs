//! Black-box tests: start the built `webhook-api` binary with a seed file and talk HTTP to it.

mod healthcheck;
mod service;
mod start_up;
mod webhooks;
