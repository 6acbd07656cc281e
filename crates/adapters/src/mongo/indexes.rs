//! The indexes behind the repository's queries. All are plain (non-unique) indexes: the shared
//! collections may already hold duplicates, and the other programs own their shape.

use bson::Document;
use mongodb::IndexModel;
use mongodb::error::{Error, ErrorKind};
use mongodb::options::IndexOptions;

use crate::documents::{ARCHIVE, BINDINGS, IDEMPOTENCY, KEYS};

/// One index the repository creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub collection: &'static str,
    pub name: &'static str,
    /// Fields and directions, in order.
    pub keys: &'static [(&'static str, i32)],
    /// The query it serves, for the documentation.
    pub serves: &'static str,
    /// A TTL index: MongoDB deletes each document once the date in its (single) field passes.
    pub expires_documents: bool,
}

/// Every index [`MongoRepository::ensure_indexes`](super::MongoRepository::ensure_indexes)
/// creates.
pub const INDEXES: &[IndexSpec] = &[
    IndexSpec {
        collection: KEYS,
        name: "webhook_status_createdAt_id",
        keys: &[("status", 1), ("createdAt", 1), ("_id", 1)],
        serves: "the need_refresh list in its order, and the per-status counts",
        expires_documents: false,
    },
    IndexSpec {
        collection: KEYS,
        name: "webhook_apiKey",
        keys: &[("apiKey", 1)],
        serves: "finding a key by its API key",
        expires_documents: false,
    },
    IndexSpec {
        collection: BINDINGS,
        name: "webhook_openhandsKeyId",
        keys: &[("openhandsKeyId", 1)],
        serves: "a key's bindings",
        expires_documents: false,
    },
    IndexSpec {
        collection: ARCHIVE,
        name: "webhook_sourceId",
        keys: &[("sourceId", 1)],
        serves: "whether a retirement was already archived",
        expires_documents: false,
    },
    IndexSpec {
        collection: IDEMPOTENCY,
        name: "webhook_idempotency_expiresAt",
        keys: &[("expiresAt", 1)],
        serves: "forgetting Idempotency-Key records after 24 hours (TTL)",
        expires_documents: true,
    },
];

/// The server already has an index on these fields under another name or with other options
/// (one the other programs made, say). It serves our queries as well, so it is left alone.
const INDEX_OPTIONS_CONFLICT: i32 = 85;

impl IndexSpec {
    pub(crate) fn model(&self) -> IndexModel {
        let keys: Document =
            self.keys.iter().map(|(field, direction)| ((*field).to_owned(), (*direction).into())).collect();
        let expire_after = self.expires_documents.then_some(std::time::Duration::ZERO);
        let options = IndexOptions::builder().name(self.name.to_owned()).expire_after(expire_after).build();
        IndexModel::builder().keys(keys).options(options).build()
    }
}

pub(crate) fn is_covered_by_an_existing_index(error: &Error) -> bool {
    matches!(&*error.kind, ErrorKind::Command(command) if command.code == INDEX_OPTIONS_CONFLICT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_index_is_unique_and_keys_keep_their_order() {
        for spec in INDEXES {
            let model = spec.model();
            let options = model.options.unwrap();
            assert_eq!(options.unique, None, "{}", spec.name);
            assert_eq!(options.name.as_deref(), Some(spec.name));
            let fields: Vec<_> = model.keys.keys().map(String::as_str).collect();
            let expected: Vec<_> = spec.keys.iter().map(|(field, _)| *field).collect();
            assert_eq!(fields, expected);
        }
    }

    #[test]
    fn only_the_idempotency_records_expire() {
        let expiring: Vec<_> = INDEXES
            .iter()
            .filter(|spec| spec.model().options.unwrap().expire_after == Some(std::time::Duration::ZERO))
            .map(|spec| (spec.collection, spec.keys))
            .collect();
        assert_eq!(expiring, [(IDEMPOTENCY, &[("expiresAt", 1)][..])]);
    }
}
