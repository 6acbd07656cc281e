//! The proxy reload hook: after a key was provisioned, POST a small event to
//! `integrations.reload_url` so the gateway picks the key up at once instead of at its next
//! reload. It runs in the background and never delays or fails the webhook's answer.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::application::Provisioned;
use crate::configuration::{IntegrationsSettings, ReloadUrl};

/// Attempts per event: the first and two retries.
const ATTEMPTS: u32 = 3;
/// The wait before the first retry; it doubles before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// What the gateway is told. Ids only: never the API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadEvent {
    event: &'static str,
    key_id: String,
    proxy_id: String,
    replaced_key: Option<String>,
}

impl ReloadEvent {
    pub fn key_provisioned(provisioned: &Provisioned) -> Self {
        Self {
            event: "key_provisioned",
            key_id: provisioned.key.id.as_str().to_owned(),
            proxy_id: provisioned.binding.proxy_id.as_str().to_owned(),
            replaced_key: provisioned.replaced_key.as_ref().map(|id| id.as_str().to_owned()),
        }
    }
}

/// The hook, or nothing when `integrations.reload_url` is empty.
#[derive(Clone)]
pub struct ReloadHook(Option<Arc<Target>>);

struct Target {
    client: reqwest::Client,
    url: ReloadUrl,
}

impl ReloadHook {
    pub fn new(settings: &IntegrationsSettings) -> Result<Self, reqwest::Error> {
        let Some(url) = &settings.reload_url else { return Ok(Self(None)) };
        let client = reqwest::Client::builder()
            .timeout(settings.reload_timeout)
            // A redirect could carry the event somewhere the operator did not configure.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self(Some(Arc::new(Target { client, url: url.clone() }))))
    }

    /// Sends `event` in the background and returns at once.
    pub fn notify(&self, event: ReloadEvent) {
        if let Some(target) = &self.0 {
            let target = Arc::clone(target);
            tokio::spawn(async move { target.deliver(&event).await });
        }
    }
}

impl Target {
    async fn deliver(&self, event: &ReloadEvent) {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let failure = match self.post(event).await {
                Ok(()) => return log::info!("reload hook {} notified of key {}", self.url, event.key_id),
                Err(failure) => failure,
            };
            if attempt == ATTEMPTS {
                log::error!(
                    "reload hook {} gave up on key {} after {ATTEMPTS} attempts: {failure}",
                    self.url,
                    event.key_id
                );
                return;
            }
            log::warn!(
                "reload hook {} failed (attempt {attempt} of {ATTEMPTS}): {failure}; retrying in {backoff:?}",
                self.url
            );
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }

    /// One attempt. The failure names the kind of error only: reqwest's own text would
    /// repeat the URL, which may hold credentials.
    async fn post(&self, event: &ReloadEvent) -> Result<(), String> {
        let response = self.client.post(self.url.expose().clone()).json(event).send().await.map_err(|error| {
            if error.is_timeout() {
                "timed out".to_owned()
            } else if error.is_connect() {
                "could not connect".to_owned()
            } else {
                error.without_url().to_string()
            }
        })?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("answered {status}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use domain::{ApiKey, Binding, KeyId, OpenHandsKey, Priority, ProxyId};

    #[test]
    fn the_event_names_ids_and_never_the_key() {
        let key_id = KeyId::parse("oh-key-1767225600000-k3j9x2").unwrap();
        let key = OpenHandsKey::new(key_id.clone(), ApiKey::parse("sk-secret-0123456789abcdef").unwrap(), Utc::now());
        let binding = Binding::new(ProxyId::parse("proxy-6").unwrap(), key_id, Priority::parse(1).unwrap(), Utc::now());
        let provisioned = Provisioned { key, binding, replaced_key: Some(KeyId::parse("old-key").unwrap()) };

        let body = serde_json::to_value(ReloadEvent::key_provisioned(&provisioned)).unwrap();

        assert_eq!(
            body,
            serde_json::json!({"event": "key_provisioned", "keyId": "oh-key-1767225600000-k3j9x2",
                               "proxyId": "proxy-6", "replacedKey": "old-key"})
        );
    }
}
