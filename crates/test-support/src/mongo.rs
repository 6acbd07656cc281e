//! The MongoDB server the tests run against, found once per test binary: `TEST_MONGODB_URI`
//! when set, else a single-node replica set in Docker (testcontainers). Without either, every
//! MongoDB test fails and says how to provide a server; none is skipped.

use std::sync::OnceLock;

use testcontainers_modules::mongo::Mongo;
use testcontainers_modules::testcontainers::core::IntoContainerPort;
use testcontainers_modules::testcontainers::runners::SyncRunner;
use testcontainers_modules::testcontainers::{Container, ImageExt};

pub const HOW_TO_PROVIDE_A_SERVER: &str = "The MongoDB tests need a server. Either set TEST_MONGODB_URI \
(e.g. TEST_MONGODB_URI=mongodb://127.0.0.1:27017/), or run `make test`, which starts a local \
MongoDB-wire-compatible server, or start a Docker daemon so the tests run MongoDB in a container.";

/// Labels the container, which outlives the test binary (statics are never dropped):
/// `docker rm -f $(docker ps -q --filter label=openhands-webhook-tests)` removes it.
const CONTAINER_LABEL: &str = "openhands-webhook-tests";

static SERVER_URI: OnceLock<String> = OnceLock::new();
static CONTAINER: OnceLock<Container<Mongo>> = OnceLock::new();

pub fn server_uri() -> &'static str {
    SERVER_URI.get_or_init(|| match std::env::var("TEST_MONGODB_URI") {
        Ok(uri) if !uri.trim().is_empty() => uri,
        // The blocking runner drives a runtime of its own, which cannot start inside the
        // test's runtime: start the container from a plain thread.
        _ => std::thread::spawn(start_container).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
    })
}

fn start_container() -> String {
    let started = Mongo::repl_set().with_label(CONTAINER_LABEL, "mongo").start().and_then(|container| {
        let host = container.get_host()?;
        let port = container.get_host_port_ipv4(27017.tcp())?;
        Ok((container, format!("mongodb://{host}:{port}/?directConnection=true")))
    });
    match started {
        Ok((container, uri)) => {
            // Kept for the whole test binary; the first container started wins.
            let _ = CONTAINER.set(container);
            uri
        }
        Err(error) => panic!(
            "TEST_MONGODB_URI is not set and no MongoDB container could be started ({error}).\n{HOW_TO_PROVIDE_A_SERVER}"
        ),
    }
}

/// A database no other test uses, so tests run in parallel on one server.
pub fn fresh_database_name() -> String {
    format!("test_{}", uuid::Uuid::new_v4().simple())
}
