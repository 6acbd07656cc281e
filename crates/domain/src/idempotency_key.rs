use std::fmt;

/// The `Idempotency-Key` a client sends to make a retry safe: 1 to 255 visible ASCII characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    #[error("must be 1 to {max} characters long", max = IdempotencyKey::MAX_LEN)]
    Length,
    #[error("must contain only visible ASCII characters, without spaces")]
    Characters,
}

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &[u8]) -> Result<Self, IdempotencyKeyError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(IdempotencyKeyError::Length);
        }
        match std::str::from_utf8(raw) {
            Ok(text) if raw.iter().all(u8::is_ascii_graphic) => Ok(Self(text.to_owned())),
            _ => Err(IdempotencyKeyError::Characters),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_boundaries() {
        assert_eq!(IdempotencyKey::parse(b"a").unwrap().as_str(), "a");
        assert!(IdempotencyKey::parse("k".repeat(255).as_bytes()).is_ok());
        assert_eq!(IdempotencyKey::parse(b""), Err(IdempotencyKeyError::Length));
        assert_eq!(IdempotencyKey::parse("k".repeat(256).as_bytes()), Err(IdempotencyKeyError::Length));
        assert_eq!(IdempotencyKey::parse(b"a b"), Err(IdempotencyKeyError::Characters));
        assert_eq!(IdempotencyKey::parse(b"a\xffb"), Err(IdempotencyKeyError::Characters));
        assert_eq!(IdempotencyKey::parse("é".as_bytes()), Err(IdempotencyKeyError::Characters));
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_rule(raw in prop::collection::vec(any::<u8>(), 0..300)) {
            let expected = !raw.is_empty() && raw.len() <= 255 && raw.iter().all(u8::is_ascii_graphic);
            prop_assert_eq!(IdempotencyKey::parse(&raw).is_ok(), expected);
        }
    }
}
