use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use rand::Rng;

use crate::{KeyId, KeyName};

/// The time source, injectable so tests can fix "now".
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The randomness in an id, injectable so tests can force collisions.
pub trait RandomSuffix: Send + Sync {
    /// Six random lowercase base36 characters.
    fn suffix(&self) -> String;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadRngSuffix;

impl RandomSuffix for ThreadRngSuffix {
    fn suffix(&self) -> String {
        const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut rng = rand::rng();
        (0..KeyIdGenerator::SUFFIX_LEN).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
    }
}

/// Makes key ids `{name}-{unix milliseconds}-{6 random lowercase base36 characters}`.
#[derive(Clone)]
pub struct KeyIdGenerator {
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSuffix>,
}

impl KeyIdGenerator {
    pub const SUFFIX_LEN: usize = 6;

    pub fn new(clock: Arc<dyn Clock>, random: Arc<dyn RandomSuffix>) -> Self {
        Self { clock, random }
    }

    pub fn system() -> Self {
        Self::new(Arc::new(SystemClock), Arc::new(ThreadRngSuffix))
    }

    /// Now, to the millisecond: the precision of BSON dates and of the id.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(3)
    }

    pub fn generate(&self, name: &KeyName) -> KeyId {
        let millis = self.now().timestamp_millis();
        KeyId::from_store(format!("{}-{millis}-{}", name.as_str(), self.random.suffix()))
    }
}

impl std::fmt::Debug for KeyIdGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyIdGenerator")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    struct FixedClock(DateTime<Utc>);
    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    struct FixedSuffix(&'static str);
    impl RandomSuffix for FixedSuffix {
        fn suffix(&self) -> String {
            self.0.to_owned()
        }
    }

    #[test]
    fn formats_name_millis_and_suffix() {
        let clock = FixedClock(Utc.timestamp_millis_opt(1_767_225_600_000).unwrap());
        let generator = KeyIdGenerator::new(Arc::new(clock), Arc::new(FixedSuffix("k3j9x2")));
        let id = generator.generate(&KeyName::parse("tai-p4").unwrap());
        assert_eq!(id.as_str(), "tai-p4-1767225600000-k3j9x2");
        assert_eq!(generator.generate(&KeyName::default()).as_str(), "oh-key-1767225600000-k3j9x2");
    }

    #[test]
    fn now_is_truncated_to_milliseconds() {
        let clock = FixedClock(Utc.timestamp_nanos(1_767_225_600_123_456_789));
        let generator = KeyIdGenerator::new(Arc::new(clock), Arc::new(FixedSuffix("k3j9x2")));
        assert_eq!(generator.now(), Utc.timestamp_millis_opt(1_767_225_600_123).unwrap());
    }

    #[test]
    fn system_ids_have_a_fresh_base36_suffix() {
        let generator = KeyIdGenerator::system();
        let ids: Vec<_> = (0..50).map(|_| generator.generate(&KeyName::default())).collect();
        for id in &ids {
            let suffix = id.as_str().rsplit('-').next().unwrap();
            assert_eq!(suffix.len(), 6);
            assert!(suffix.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()), "{id}");
        }
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert!(distinct.len() > 45, "suffixes should almost never repeat: {ids:?}");
    }
}
