//! The operations settings: `[metrics]` and `[integrations]`.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::{SettingsError, invalid};

/// The longest `integrations.reload_timeout_ms` accepted: the hook must not hold on to
/// connections for long.
const MAX_RELOAD_TIMEOUT_MS: u64 = 60_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `GET /metrics`; when off, the path answers 404.
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct IntegrationsSettings {
    /// Where to POST after a key was provisioned; `None` turns the reload hook off.
    pub reload_url: Option<ReloadUrl>,
    /// How long one attempt of the reload hook may take.
    pub reload_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIntegrationsSettings {
    reload_url: String,
    reload_timeout_ms: u64,
}

impl RawIntegrationsSettings {
    pub(super) fn parse(self) -> Result<IntegrationsSettings, SettingsError> {
        let reload_url = match self.reload_url.trim() {
            "" => None,
            raw => Some(ReloadUrl::parse(raw).map_err(|reason| invalid("integrations.reload_url", reason))?),
        };
        if !(1..=MAX_RELOAD_TIMEOUT_MS).contains(&self.reload_timeout_ms) {
            return Err(invalid(
                "integrations.reload_timeout_ms",
                format!("must be between 1 and {MAX_RELOAD_TIMEOUT_MS}"),
            ));
        }
        Ok(IntegrationsSettings { reload_url, reload_timeout: Duration::from_millis(self.reload_timeout_ms) })
    }
}

/// The reload hook's address. It may carry credentials (`user:password@` or a token in the
/// query), so `Debug` and `Display` show only the scheme, host, port and path.
#[derive(Clone, PartialEq, Eq)]
pub struct ReloadUrl(Url);

impl ReloadUrl {
    /// Plain `http` only: the HTTP client is built without TLS, and the hook is meant for a
    /// gateway on the same private network.
    fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|_| "is not a valid URL".to_owned())?;
        if url.scheme() != "http" || !url.has_host() {
            return Err("must be an http:// URL with a host".to_owned());
        }
        Ok(Self(url))
    }

    pub fn expose(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for ReloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.0;
        let port = url.port().map(|port| format!(":{port}")).unwrap_or_default();
        write!(f, "{}://{}{port}{}", url.scheme(), url.host_str().unwrap_or_default(), url.path())
    }
}

impl fmt::Debug for ReloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReloadUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;
    use crate::configuration::Settings;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<_, _> = vars.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        Settings::load_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"), &env)
    }

    #[test]
    fn defaults_serve_metrics_and_call_no_hook() {
        let settings = load(&[]).unwrap();
        assert!(settings.metrics.enabled);
        assert!(settings.integrations.reload_url.is_none());
        assert_eq!(settings.integrations.reload_timeout, Duration::from_millis(2000));
    }

    #[test]
    fn app_variables_set_them() {
        let settings = load(&[
            ("APP__METRICS__ENABLED", "false"),
            ("APP__INTEGRATIONS__RELOAD_URL", "http://gateway:9090/admin/reload"),
            ("APP__INTEGRATIONS__RELOAD_TIMEOUT_MS", "250"),
        ])
        .unwrap();
        assert!(!settings.metrics.enabled);
        let url = settings.integrations.reload_url.unwrap();
        assert_eq!(url.expose().as_str(), "http://gateway:9090/admin/reload");
        assert_eq!(settings.integrations.reload_timeout, Duration::from_millis(250));
    }

    #[test]
    fn bad_values_name_the_setting() {
        let message = |vars: &[(&str, &str)]| load(vars).unwrap_err().to_string();
        for url in ["gateway/reload", "https://gateway/reload", "ftp://gateway/", "http://"] {
            assert!(message(&[("APP__INTEGRATIONS__RELOAD_URL", url)]).contains("integrations.reload_url"), "{url}");
        }
        for timeout in ["0", "60001", "soon"] {
            let error = message(&[("APP__INTEGRATIONS__RELOAD_TIMEOUT_MS", timeout)]);
            assert!(error.contains("integrations.reload_timeout_ms"), "{timeout}: {error}");
        }
        assert!(message(&[("APP__METRICS__ENABLED", "maybe")]).contains("metrics.enabled"));
        assert!(message(&[("APP__METRICS__PATH", "/m")]).contains("path"));
    }

    #[test]
    fn printing_the_url_hides_credentials_and_query() {
        let settings =
            load(&[("APP__INTEGRATIONS__RELOAD_URL", "http://user:hunter2@gateway:9090/reload?token=t0k3n")]).unwrap();
        let printed = format!("{settings:?}");
        assert!(printed.contains("http://gateway:9090/reload"), "{printed}");
        assert!(!printed.contains("hunter2") && !printed.contains("t0k3n"), "{printed}");
    }
}
