//! How to reach MongoDB: the settings the binary maps its configuration onto.

use std::fmt;
use std::time::Duration;

/// Where the pool lives and how long to wait for it.
#[derive(Clone, PartialEq, Eq)]
pub struct MongoConfig {
    /// A MongoDB connection string; it may hold credentials, so `Debug` redacts them.
    pub uri: String,
    pub db_name: String,
    /// How long an operation waits for a usable server before failing (default 2 s).
    pub server_selection_timeout: Duration,
    /// The connect timeout, and the bound on each call into the repository (default 3 s).
    pub operation_timeout: Duration,
    pub transactions: TransactionMode,
}

/// Whether provisioning runs in a transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TransactionMode {
    /// Use a transaction when the deployment supports one (a replica set or a sharded
    /// cluster); otherwise write step by step in the order that never loses a usable key.
    #[default]
    Auto,
    /// Always write step by step, even where transactions exist.
    Never,
}

impl MongoConfig {
    pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(2);
    pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

    pub fn new(uri: impl Into<String>, db_name: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            db_name: db_name.into(),
            server_selection_timeout: Self::DEFAULT_SERVER_SELECTION_TIMEOUT,
            operation_timeout: Self::DEFAULT_OPERATION_TIMEOUT,
            transactions: TransactionMode::Auto,
        }
    }
}

impl fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoConfig")
            .field("uri", &redact_uri(&self.uri))
            .field("db_name", &self.db_name)
            .field("server_selection_timeout", &self.server_selection_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("transactions", &self.transactions)
            .finish()
    }
}

/// The connection string without secrets: the user information becomes `***` and option
/// values are dropped (some, like `authMechanismProperties`, carry tokens). Hosts, database
/// and option names stay, which is what a reader of a log needs.
pub fn redact_uri(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("", uri));
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = before_query.split_once('/').map_or((before_query, None), |(a, p)| (a, Some(p)));
    let hosts = authority.rsplit_once('@').map_or_else(|| authority.to_owned(), |(_, hosts)| format!("***@{hosts}"));
    let mut redacted = if scheme.is_empty() { hosts } else { format!("{scheme}://{hosts}") };
    if let Some(path) = path {
        redacted.push('/');
        redacted.push_str(path);
    }
    if !query.is_empty() {
        let names: Vec<_> = query.split('&').map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name)).collect();
        redacted.push('?');
        redacted.push_str(&names.iter().map(|name| format!("{name}=***")).collect::<Vec<_>>().join("&"));
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design() {
        let config = MongoConfig::new("mongodb://localhost:27017", "fproxy");
        assert_eq!(config.server_selection_timeout, Duration::from_secs(2));
        assert_eq!(config.operation_timeout, Duration::from_secs(3));
        assert_eq!(config.transactions, TransactionMode::Auto);
    }

    #[test]
    fn debug_never_shows_credentials_or_option_values() {
        let config = MongoConfig::new(
            "mongodb://admin:s3cret-pass@db1:27017,db2:27017/fproxy?authSource=admin&authMechanismProperties=TOKEN:t0k",
            "fproxy",
        );
        let debug = format!("{config:?}");
        assert!(debug.contains("mongodb://***@db1:27017,db2:27017/fproxy?authSource=***&authMechanismProperties=***"));
        for secret in ["admin:", "s3cret-pass", "t0k"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }

    #[test]
    fn redaction_keeps_a_uri_without_secrets_readable() {
        assert_eq!(redact_uri("mongodb://127.0.0.1:27017/"), "mongodb://127.0.0.1:27017/");
        assert_eq!(redact_uri("mongodb+srv://u:p@cluster.example.net"), "mongodb+srv://***@cluster.example.net");
        assert_eq!(redact_uri("not a uri"), "not a uri");
    }
}
