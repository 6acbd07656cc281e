use std::fmt;

/// A key's `status`. The existing programs may have written values we do not know; those are
/// kept as they are so nothing is lost or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyStatus {
    Healthy,
    NeedRefresh,
    RateLimited,
    Exhausted,
    Error,
    Other(String),
}

impl KeyStatus {
    /// The five statuses the existing programs agree on, in the order summaries list them.
    pub const KNOWN: [KeyStatus; 5] =
        [KeyStatus::Healthy, KeyStatus::NeedRefresh, KeyStatus::RateLimited, KeyStatus::Exhausted, KeyStatus::Error];

    pub fn parse(raw: &str) -> Self {
        match raw {
            "healthy" => Self::Healthy,
            "need_refresh" => Self::NeedRefresh,
            "rate_limited" => Self::RateLimited,
            "exhausted" => Self::Exhausted,
            "error" => Self::Error,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Healthy => "healthy",
            Self::NeedRefresh => "need_refresh",
            Self::RateLimited => "rate_limited",
            Self::Exhausted => "exhausted",
            Self::Error => "error",
            Self::Other(raw) => raw,
        }
    }

    /// A key in one of these states still serves traffic, so retiring it needs `force`.
    pub fn is_serving(&self) -> bool {
        matches!(self, Self::Healthy | Self::RateLimited)
    }
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_and_unknown_values() {
        for status in KeyStatus::KNOWN {
            assert_eq!(KeyStatus::parse(status.as_str()), status);
        }
        assert_eq!(KeyStatus::parse("disabled"), KeyStatus::Other("disabled".into()));
        assert_eq!(KeyStatus::parse("disabled").as_str(), "disabled");
        assert_eq!(KeyStatus::parse("Healthy"), KeyStatus::Other("Healthy".into()));
    }

    #[test]
    fn only_healthy_and_rate_limited_keys_are_serving() {
        let serving: Vec<_> = KeyStatus::KNOWN.iter().filter(|s| s.is_serving()).collect();
        assert_eq!(serving, [&KeyStatus::Healthy, &KeyStatus::RateLimited]);
        assert!(!KeyStatus::Other("disabled".into()).is_serving());
    }
}
