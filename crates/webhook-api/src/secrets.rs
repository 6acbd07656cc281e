//! The shared webhook secrets, kept only as SHA-256 digests.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// The secrets a caller may present: the current one and, during a rotation, the previous one.
#[derive(Clone)]
pub struct WebhookSecrets {
    digests: Vec<[u8; 32]>,
}

impl WebhookSecrets {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        Self { digests: secrets.into_iter().map(digest).collect() }
    }

    /// Whether `presented` is one of the secrets. Compares digests in constant time against
    /// every secret, so neither the content nor the length of a secret leaks through timing.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        let presented = digest(presented);
        let matched = self.digests.iter().fold(Choice::from(0), |matched, secret| matched | secret.ct_eq(&presented));
        matched.into()
    }
}

fn digest(secret: impl AsRef<[u8]>) -> [u8; 32] {
    Sha256::digest(secret).into()
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets([{} redacted])", self.digests.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_current_and_previous_secret_only() {
        let secrets = WebhookSecrets::new(["current-secret", "previous-secret"]);
        assert!(secrets.accepts(b"current-secret"));
        assert!(secrets.accepts(b"previous-secret"));
        assert!(!secrets.accepts(b"current-secre"));
        assert!(!secrets.accepts(b"current-secret "));
        assert!(!secrets.accepts(b""));
    }

    #[test]
    fn debug_redacts_the_secrets() {
        let printed = format!("{:?}", WebhookSecrets::new(["current-secret"]));
        assert!(!printed.contains("current"), "{printed}");
    }
}
