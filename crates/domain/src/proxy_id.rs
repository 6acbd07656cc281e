use crate::store_id::store_id;

store_id!(
    /// The `_id` of a document in `proxies`, such as `proxy-6`.
    ProxyId,
    max = 64
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdError;

    #[test]
    fn accepts_the_boundaries() {
        assert!(ProxyId::parse("p").is_ok());
        assert!(ProxyId::parse(&"p".repeat(64)).is_ok());
        assert_eq!(ProxyId::parse(""), Err(IdError::Length(64)));
        assert_eq!(ProxyId::parse(&"p".repeat(65)), Err(IdError::Length(64)));
        assert_eq!(ProxyId::parse("proxy 6"), Err(IdError::Characters));
        assert_eq!(ProxyId::parse("proxy-6").unwrap().as_str(), "proxy-6");
    }
}
