/// Why a document id given in a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be 1 to {0} characters long")]
    Length(usize),
    #[error("must contain only visible ASCII characters, without spaces")]
    Characters,
}

pub(crate) fn check_id(raw: &str, max_len: usize) -> Result<(), IdError> {
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IdError::Characters);
    }
    if raw.is_empty() || raw.len() > max_len {
        return Err(IdError::Length(max_len));
    }
    Ok(())
}

/// Declares a string `_id` newtype: `parse` for ids named in requests (1 to `$max` visible
/// ASCII characters) and `from_store` for ids read back from the pool, which the existing
/// programs may have written without our rules.
macro_rules! store_id {
    ($(#[$doc:meta])* $name:ident, max = $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, $crate::store_id::IdError> {
                $crate::store_id::check_id(raw, Self::MAX_LEN).map(|()| Self(raw.to_owned()))
            }

            pub fn from_store(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use store_id;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checks_length_then_characters() {
        assert_eq!(check_id("k", 3), Ok(()));
        assert_eq!(check_id("kkk", 3), Ok(()));
        assert_eq!(check_id("", 3), Err(IdError::Length(3)));
        assert_eq!(check_id("kkkk", 3), Err(IdError::Length(3)));
        assert_eq!(check_id("a b", 3), Err(IdError::Characters));
        assert_eq!(check_id("é", 3), Err(IdError::Characters));
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_rule(raw in "\\PC{0,140}") {
            let expected = !raw.is_empty() && raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_graphic());
            prop_assert_eq!(check_id(&raw, 128).is_ok(), expected);
        }
    }
}
