//! Settings: `config/default.toml`, overlaid by `config/{APP_ENV}.toml`, overlaid by
//! `APP__SECTION__KEY` environment variables, overlaid by the existing deployment's own names
//! (`OPENHANDS_WEBHOOK_SECRET`, `OPENHANDS_WEBHOOK_SECRET_PREVIOUS`, `MONGODB_URI`,
//! `MONGODB_DB_NAME`).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adapters::TransactionMode;
use domain::{Priority, ProxyId};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Deserialize;

use crate::secrets::WebhookSecrets;

mod operations;
pub use operations::{IntegrationsSettings, MetricsSettings, ReloadUrl};

pub const SECRET_VAR: &str = "OPENHANDS_WEBHOOK_SECRET";
pub const PREVIOUS_SECRET_VAR: &str = "OPENHANDS_WEBHOOK_SECRET_PREVIOUS";
/// The shortest secret production accepts.
pub const MIN_PRODUCTION_SECRET_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Local,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub server: ServerSettings,
    pub webhook: WebhookSettings,
    pub store: StoreSettings,
    pub mongo: MongoSettings,
    pub rate_limit: RateLimitSettings,
    pub idempotency: IdempotencyLeaseSettings,
    pub metrics: MetricsSettings,
    pub integrations: IntegrationsSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyLeaseSettings {
    /// How long an attempt holds its `Idempotency-Key` before a retry may take its work over.
    pub lease_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Take the client address from `X-Forwarded-For` (behind a reverse proxy only).
    pub trust_forwarded_for: bool,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish.
    pub shutdown_timeout_secs: u64,
}

/// Per-address budgets per minute; 0 turns one off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub requests_per_minute: u32,
    pub auth_failures_per_minute: u32,
}

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub target_proxy_id: ProxyId,
    pub default_priority: Priority,
    pub reveal_api_keys: bool,
    pub secrets: WebhookSecrets,
    /// Set when `local` made up a secret because none was given; logged once at start-up.
    pub generated_secret: Option<GeneratedSecret>,
}

#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub seed_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct MongoSettings {
    pub uri: Option<MongoUri>,
    pub db_name: String,
    pub server_selection_timeout: Duration,
    pub operation_timeout: Duration,
    pub ensure_indexes: bool,
    /// Run provisioning in a transaction where the deployment supports one (`auto`), or never.
    pub transactions: TransactionMode,
}

/// A connection string. It may hold a password, so `Debug` prints it without credentials.
#[derive(Clone)]
pub struct MongoUri(String);

impl MongoUri {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MongoUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MongoUri({})", adapters::mongo::redact_uri(&self.0))
    }
}

/// A secret made up for a `local` run.
#[derive(Clone)]
pub struct GeneratedSecret(String);

impl GeneratedSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for GeneratedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GeneratedSecret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("APP_ENV must be \"local\" or \"production\", not {0:?}")]
    UnknownEnvironment(String),
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("setting {setting}: {reason}")]
    Invalid { setting: &'static str, reason: String },
    #[error("{SECRET_VAR} must be set to a secret of at least {MIN_PRODUCTION_SECRET_LEN} characters in production")]
    WeakSecret,
    #[error("{PREVIOUS_SECRET_VAR}, when set, must hold at least {MIN_PRODUCTION_SECRET_LEN} characters in production")]
    WeakPreviousSecret,
}

/// The settings as the files and `APP__` variables spell them, before they are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    server: ServerSettings,
    webhook: RawWebhookSettings,
    store: RawStoreSettings,
    mongo: RawMongoSettings,
    rate_limit: RateLimitSettings,
    idempotency: IdempotencyLeaseSettings,
    metrics: MetricsSettings,
    integrations: operations::RawIntegrationsSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhookSettings {
    target_proxy_id: String,
    default_priority: i64,
    reveal_api_keys: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStoreSettings {
    seed_file: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMongoSettings {
    uri: String,
    db_name: String,
    server_selection_timeout_ms: u64,
    operation_timeout_ms: u64,
    ensure_indexes: bool,
    transactions: String,
}

impl Settings {
    /// Loads the settings from `config/` (or `APP_CONFIG_DIR`) and the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let config_dir = env.get("APP_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from);
        Self::load_from(&config_dir, &env)
    }

    pub fn load_from(config_dir: &Path, env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let var = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
        let environment = match var("APP_ENV").as_deref() {
            None | Some("local") => Environment::Local,
            Some("production") => Environment::Production,
            Some(other) => return Err(SettingsError::UnknownEnvironment(other.to_owned())),
        };
        let raw: RawSettings = config::Config::builder()
            .add_source(config::File::from(config_dir.join("default.toml")))
            .add_source(config::File::from(config_dir.join(format!("{}.toml", environment.as_str()))).required(false))
            .add_source(
                config::Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(env.clone().into_iter().collect())),
            )
            .set_override_option("mongo.uri", var("MONGODB_URI"))?
            .set_override_option("mongo.db_name", var("MONGODB_DB_NAME"))?
            .build()?
            .try_deserialize()?;

        let (secrets, generated_secret) = webhook_secrets(environment, var(SECRET_VAR), var(PREVIOUS_SECRET_VAR))?;
        Ok(Self {
            environment,
            server: raw.server,
            webhook: WebhookSettings {
                target_proxy_id: ProxyId::parse(&raw.webhook.target_proxy_id)
                    .map_err(|error| invalid("webhook.target_proxy_id", error))?,
                default_priority: Priority::parse(raw.webhook.default_priority)
                    .map_err(|error| invalid("webhook.default_priority", error))?,
                reveal_api_keys: raw.webhook.reveal_api_keys,
                secrets,
                generated_secret,
            },
            store: StoreSettings { seed_file: non_empty(raw.store.seed_file).map(PathBuf::from) },
            mongo: MongoSettings {
                uri: non_empty(raw.mongo.uri).map(MongoUri),
                db_name: non_empty(raw.mongo.db_name).ok_or_else(|| invalid("mongo.db_name", "must not be empty"))?,
                server_selection_timeout: positive_millis(
                    "mongo.server_selection_timeout_ms",
                    raw.mongo.server_selection_timeout_ms,
                )?,
                operation_timeout: positive_millis("mongo.operation_timeout_ms", raw.mongo.operation_timeout_ms)?,
                ensure_indexes: raw.mongo.ensure_indexes,
                transactions: match raw.mongo.transactions.as_str() {
                    "auto" => TransactionMode::Auto,
                    "never" => TransactionMode::Never,
                    _ => return Err(invalid("mongo.transactions", "must be \"auto\" or \"never\"")),
                },
            },
            rate_limit: raw.rate_limit,
            idempotency: raw.idempotency,
            metrics: raw.metrics,
            integrations: raw.integrations.parse()?,
        })
    }
}

fn webhook_secrets(
    environment: Environment,
    current: Option<String>,
    previous: Option<String>,
) -> Result<(WebhookSecrets, Option<GeneratedSecret>), SettingsError> {
    if environment == Environment::Production {
        if current.as_ref().is_none_or(|secret| secret.chars().count() < MIN_PRODUCTION_SECRET_LEN) {
            return Err(SettingsError::WeakSecret);
        }
        if previous.as_ref().is_some_and(|secret| secret.chars().count() < MIN_PRODUCTION_SECRET_LEN) {
            return Err(SettingsError::WeakPreviousSecret);
        }
    }
    let generated = current
        .is_none()
        .then(|| GeneratedSecret(rand::rng().sample_iter(Alphanumeric).take(48).map(char::from).collect()));
    let current = current.or_else(|| generated.as_ref().map(|secret| secret.0.clone()));
    let secrets = WebhookSecrets::new(current.iter().chain(previous.iter()).map(String::as_str));
    Ok((secrets, generated))
}

fn invalid(setting: &'static str, reason: impl fmt::Display) -> SettingsError {
    SettingsError::Invalid { setting, reason: reason.to_string() }
}

fn positive_millis(setting: &'static str, millis: u64) -> Result<Duration, SettingsError> {
    if millis == 0 {
        return Err(invalid(setting, "must be at least 1"));
    }
    Ok(Duration::from_millis(millis))
}

fn non_empty(value: String) -> Option<String> {
    (!value.trim().is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
    }

    fn load(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env = vars.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        Settings::load_from(&config_dir(), &env)
    }

    const STRONG: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn local_defaults() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.environment, Environment::Local);
        assert_eq!(settings.webhook.target_proxy_id.as_str(), "proxy-6");
        assert_eq!(settings.webhook.default_priority.value(), 1);
        assert!(!settings.webhook.reveal_api_keys);
        assert_eq!(settings.store.seed_file, Some(PathBuf::from("config/dev-seed.json")));
        assert!(settings.mongo.uri.is_none());
        assert_eq!(settings.mongo.db_name, "fproxy");
        assert_eq!(settings.rate_limit.requests_per_minute, 120);
        assert_eq!(settings.rate_limit.auth_failures_per_minute, 10);
        assert!(!settings.server.trust_forwarded_for);
    }

    #[test]
    fn local_generates_a_secret_when_none_is_given() {
        let settings = load(&[]).unwrap();
        let generated = settings.webhook.generated_secret.expect("a generated secret");
        assert!(generated.expose().len() >= MIN_PRODUCTION_SECRET_LEN);
        assert!(settings.webhook.secrets.accepts(generated.expose().as_bytes()));
        assert!(!format!("{generated:?}").contains(generated.expose()));
    }

    #[test]
    fn app_variables_override_the_files() {
        let settings = load(&[
            ("APP__SERVER__PORT", "9123"),
            ("APP__WEBHOOK__TARGET_PROXY_ID", "proxy-9"),
            ("APP__WEBHOOK__DEFAULT_PRIORITY", "4"),
            ("APP__WEBHOOK__REVEAL_API_KEYS", "true"),
            ("APP__STORE__SEED_FILE", "other.json"),
            ("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "0"),
            ("APP__RATE_LIMIT__AUTH_FAILURES_PER_MINUTE", "3"),
            ("APP__SERVER__TRUST_FORWARDED_FOR", "true"),
        ])
        .unwrap();
        assert_eq!(settings.rate_limit.requests_per_minute, 0);
        assert_eq!(settings.rate_limit.auth_failures_per_minute, 3);
        assert!(settings.server.trust_forwarded_for);
        assert_eq!(settings.server.port, 9123);
        assert_eq!(settings.webhook.target_proxy_id.as_str(), "proxy-9");
        assert_eq!(settings.webhook.default_priority.value(), 4);
        assert!(settings.webhook.reveal_api_keys);
        assert_eq!(settings.store.seed_file, Some(PathBuf::from("other.json")));
    }

    #[test]
    fn honours_the_existing_deployment_names() {
        let settings = load(&[
            (SECRET_VAR, "current"),
            (PREVIOUS_SECRET_VAR, "previous"),
            ("MONGODB_URI", "mongodb://user:pw@db:27017"),
            ("MONGODB_DB_NAME", "pool"),
        ])
        .unwrap();
        assert!(settings.webhook.generated_secret.is_none());
        assert!(settings.webhook.secrets.accepts(b"current"));
        assert!(settings.webhook.secrets.accepts(b"previous"));
        assert_eq!(settings.mongo.uri.as_ref().unwrap().expose(), "mongodb://user:pw@db:27017");
        assert_eq!(settings.mongo.db_name, "pool");
        assert_eq!(settings.mongo.server_selection_timeout, Duration::from_secs(2));
        assert_eq!(settings.mongo.operation_timeout, Duration::from_secs(3));
        assert!(settings.mongo.ensure_indexes);
        assert_eq!(settings.mongo.transactions, TransactionMode::Auto);
        let printed = format!("{settings:?}");
        assert!(!printed.contains("pw@") && !printed.contains("current") && !printed.contains("previous"), "{printed}");
    }

    #[test]
    fn production_requires_a_strong_secret() {
        let weak = &STRONG[1..];
        for vars in [vec![("APP_ENV", "production")], vec![("APP_ENV", "production"), (SECRET_VAR, weak)]] {
            let error = load(&vars).unwrap_err();
            assert!(matches!(error, SettingsError::WeakSecret));
            assert!(error.to_string().contains(SECRET_VAR));
        }
        let weak_previous = load(&[("APP_ENV", "production"), (SECRET_VAR, STRONG), (PREVIOUS_SECRET_VAR, weak)]);
        assert!(matches!(weak_previous, Err(SettingsError::WeakPreviousSecret)));
        let settings = load(&[("APP_ENV", "production"), (SECRET_VAR, STRONG)]).unwrap();
        assert_eq!(settings.environment, Environment::Production);
        assert_eq!(settings.server.host, "0.0.0.0");
        assert_eq!(settings.store.seed_file, None);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let message = |vars: &[(&str, &str)]| load(vars).unwrap_err().to_string();
        assert!(message(&[("APP__SERVER__PORT", "high")]).contains("server.port"));
        assert!(message(&[("APP__WEBHOOK__DEFAULT_PRIORITY", "11")]).contains("webhook.default_priority"));
        assert!(message(&[("APP__WEBHOOK__TARGET_PROXY_ID", "has space")]).contains("webhook.target_proxy_id"));
        assert!(message(&[("APP__WEBHOOK__REVEAL_API_KEYS", "maybe")]).contains("webhook.reveal_api_keys"));
        assert!(message(&[("APP__WEBHOOK__TYPO", "1")]).contains("typo"));
        assert!(message(&[("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "-1")]).contains("rate_limit.requests_per_minute"));
        assert!(message(&[("APP_ENV", "staging")]).contains("APP_ENV"));
        assert!(message(&[("APP__MONGO__TRANSACTIONS", "sometimes")]).contains("mongo.transactions"));
        assert!(message(&[("APP__MONGO__OPERATION_TIMEOUT_MS", "0")]).contains("mongo.operation_timeout_ms"));
    }

    #[test]
    fn a_broken_config_file_names_the_file() {
        let dir = std::env::temp_dir().join(format!("webhook-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("default.toml"), "[server\nport = 1").unwrap();
        let error = Settings::load_from(&dir, &HashMap::new()).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error.contains("default.toml"), "{error}");
    }
}
