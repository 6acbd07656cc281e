//! How keys and dates appear in response bodies.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::ApiKey;
use serde_json::Value;

/// Whether responses carry whole API keys (`webhook.reveal_api_keys`) or masked ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDisplay {
    pub reveal_api_keys: bool,
}

impl KeyDisplay {
    pub fn api_key(&self, api_key: &ApiKey) -> String {
        if self.reveal_api_keys { api_key.expose().to_owned() } else { api_key.masked() }
    }
}

/// RFC 3339 in UTC, or null.
pub fn date(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_dates_as_rfc3339_utc() {
        assert_eq!(date(Some(Utc.timestamp_millis_opt(1_767_225_600_000).unwrap())), "2026-01-01T00:00:00Z");
        assert_eq!(date(Some(Utc.timestamp_millis_opt(1_767_225_600_123).unwrap())), "2026-01-01T00:00:00.123Z");
        assert_eq!(date(None), Value::Null);
    }

    #[test]
    fn masks_unless_revealing() {
        let key = ApiKey::parse("sk-abcd1234567890wxyz").unwrap();
        assert_eq!(KeyDisplay { reveal_api_keys: false }.api_key(&key), "sk-abcd1...wxyz");
        assert_eq!(KeyDisplay { reveal_api_keys: true }.api_key(&key), "sk-abcd1234567890wxyz");
    }
}
