//! Black-box tests: start the built `webhook-api` binary and talk HTTP to it.
