use std::fmt;

/// The prefix of a generated key id: `^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyNameError {
    #[error("must be 1 to {max} characters long", max = KeyName::MAX_LEN)]
    Length,
    #[error("must start with a letter or digit")]
    Start,
    #[error("may contain only letters, digits, '_' and '-'")]
    Characters,
}

impl KeyName {
    pub const MAX_LEN: usize = 24;
    pub const DEFAULT: &'static str = "oh-key";

    pub fn parse(raw: &str) -> Result<Self, KeyNameError> {
        let first = raw.bytes().next().ok_or(KeyNameError::Length)?;
        if raw.len() > Self::MAX_LEN {
            return Err(KeyNameError::Length);
        }
        if !first.is_ascii_alphanumeric() {
            return Err(KeyNameError::Start);
        }
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(KeyNameError::Characters);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for KeyName {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_boundaries() {
        assert!(KeyName::parse("a").is_ok());
        assert!(KeyName::parse(&format!("a{}", "_-9Z".repeat(5) + "bcd")).is_ok());
        assert_eq!(KeyName::parse(&"a".repeat(25)), Err(KeyNameError::Length));
        assert_eq!(KeyName::parse(""), Err(KeyNameError::Length));
    }

    #[test]
    fn checks_first_and_other_characters() {
        assert_eq!(KeyName::parse("-abc"), Err(KeyNameError::Start));
        assert_eq!(KeyName::parse("_abc"), Err(KeyNameError::Start));
        assert_eq!(KeyName::parse("ab c"), Err(KeyNameError::Characters));
        assert_eq!(KeyName::parse("ab.c"), Err(KeyNameError::Characters));
        assert_eq!(KeyName::parse("tai-p4"), Ok(KeyName("tai-p4".into())));
    }

    #[test]
    fn defaults_to_oh_key() {
        assert_eq!(KeyName::default().as_str(), "oh-key");
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_pattern(raw in "\\PC{0,30}") {
            let bytes = raw.as_bytes();
            let expected = !bytes.is_empty()
                && bytes.len() <= 24
                && bytes[0].is_ascii_alphanumeric()
                && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-');
            prop_assert_eq!(KeyName::parse(&raw).is_ok(), expected);
        }
    }
}
