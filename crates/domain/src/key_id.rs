use crate::store_id::store_id;

store_id!(
    /// The `_id` of a document in `openhands_keys`, such as `oh-key-1767225600000-k3j9x2`.
    KeyId,
    max = 128
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdError;

    #[test]
    fn accepts_the_boundaries() {
        assert!(KeyId::parse("k").is_ok());
        assert!(KeyId::parse(&"k".repeat(128)).is_ok());
        assert_eq!(KeyId::parse(""), Err(IdError::Length(128)));
        assert_eq!(KeyId::parse(&"k".repeat(129)), Err(IdError::Length(128)));
        assert_eq!(KeyId::parse("a b"), Err(IdError::Characters));
    }

    #[test]
    fn prints_the_id() {
        let id = KeyId::parse("oh-key-1").unwrap();
        assert_eq!(format!("{id} {id:?}"), "oh-key-1 KeyId(oh-key-1)");
    }
}
