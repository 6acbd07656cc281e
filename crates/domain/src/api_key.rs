use std::fmt;

/// An upstream OpenHands API key. A secret: neither `Debug` nor `Display` prints it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("must be {min} to {max} characters long", min = ApiKey::MIN_LEN, max = ApiKey::MAX_LEN)]
    Length,
    #[error("must contain only visible ASCII characters, without spaces")]
    Characters,
}

impl ApiKey {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 512;

    /// Parses a key submitted to the webhook: 8 to 512 visible ASCII characters, no spaces.
    pub fn parse(raw: &str) -> Result<Self, ApiKeyError> {
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiKeyError::Characters);
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&raw.len()) {
            return Err(ApiKeyError::Length);
        }
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a key read back from the pool. The existing programs wrote keys without our
    /// rules, so a stored key is taken as it is rather than rejected.
    pub fn from_store(raw: String) -> Self {
        Self(raw)
    }

    /// The whole key. Call only where the key must leave the process: the store, or a
    /// response when revealing keys is switched on.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_api_key(&self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks a key for display: the first 8 and last 4 characters around `...` when the key has at
/// least 20 characters, otherwise `...` and the last 4; keys under 8 characters show only `...`.
pub fn mask_api_key(key: &str) -> String {
    // Byte offsets of character boundaries, so multi-byte keys are cut between characters.
    let length = key.chars().count();
    let tail = |n: usize| key.char_indices().nth(length - n).map_or("", |(at, _)| &key[at..]);
    match length {
        n if n >= 20 => {
            let head_end = key.char_indices().nth(8).map_or(key.len(), |(at, _)| at);
            format!("{}...{}", &key[..head_end], tail(4))
        }
        n if n >= 8 => format!("...{}", tail(4)),
        _ => "...".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_length_boundaries() {
        assert!(ApiKey::parse(&"a".repeat(8)).is_ok());
        assert!(ApiKey::parse(&"a".repeat(512)).is_ok());
        assert_eq!(ApiKey::parse(&"a".repeat(7)), Err(ApiKeyError::Length));
        assert_eq!(ApiKey::parse(&"a".repeat(513)), Err(ApiKeyError::Length));
        assert_eq!(ApiKey::parse(""), Err(ApiKeyError::Length));
    }

    #[test]
    fn rejects_spaces_control_and_non_ascii_characters() {
        for bad in ["sk-abc def12", "sk-abc\tdef12", "sk-abc\ndef12", "sk-abcdéf12", "sk-abc\u{7f}def"] {
            assert_eq!(ApiKey::parse(bad), Err(ApiKeyError::Characters), "{bad:?}");
        }
    }

    #[test]
    fn masks_long_keys_with_head_and_tail() {
        assert_eq!(mask_api_key("sk-abcd1234567890wxyz"), "sk-abcd1...wxyz");
        assert_eq!(mask_api_key(&"x".repeat(19)), "...xxxx");
        assert_eq!(mask_api_key("12345678901234567890"), "12345678...7890");
    }

    #[test]
    fn masks_short_keys_to_the_tail_or_nothing() {
        assert_eq!(mask_api_key("short-key9"), "...key9");
        assert_eq!(mask_api_key("12345678"), "...5678");
        assert_eq!(mask_api_key("1234567"), "...");
        assert_eq!(mask_api_key(""), "...");
    }

    #[test]
    fn masks_stored_non_ascii_keys_by_character() {
        assert_eq!(mask_api_key("ключ-ключ-ключ-ключ-"), "ключ-клю...люч-");
    }

    #[test]
    fn debug_and_display_never_print_the_key() {
        let key = ApiKey::parse("sk-live-secret-value-1234").unwrap();
        assert!(!format!("{key:?}").contains("secret-value"));
        assert!(!format!("{key}").contains("secret-value"));
        assert_eq!(key.expose(), "sk-live-secret-value-1234");
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_rule(raw in "\\PC{0,600}") {
            let expected = raw.len() >= 8 && raw.len() <= 512 && raw.bytes().all(|b| b.is_ascii_graphic());
            prop_assert_eq!(ApiKey::parse(&raw).is_ok(), expected);
        }

        #[test]
        fn mask_never_reveals_the_middle(raw in "[!-~]{8,80}") {
            let masked = mask_api_key(&raw);
            prop_assert!(masked.len() <= 15);
            prop_assert!(masked.contains("..."));
            prop_assert!(masked.ends_with(&raw[raw.len() - 4..]));
        }
    }
}
