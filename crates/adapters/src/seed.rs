//! Seed files: a JSON object mapping collection names to arrays of MongoDB Extended JSON
//! documents, as `mongoexport --jsonArray` writes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bson::{Bson, Document};

/// The documents of a seed file, by collection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seed {
    pub collections: BTreeMap<String, Vec<Document>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("seed file is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a seed file must be a JSON object mapping collection names to arrays of documents")]
    NotAnObject,
    #[error("seed collection {0:?} must be an array of documents")]
    NotAnArray(String),
    #[error("seed collection {collection:?}, document {index}: {reason}")]
    Document { collection: String, index: usize, reason: String },
}

impl Seed {
    pub fn from_file(path: &Path) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read { path: path.to_owned(), source })?;
        Self::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        let serde_json::Value::Object(collections) = serde_json::from_str(text)? else {
            return Err(SeedError::NotAnObject);
        };
        let collections = collections
            .into_iter()
            .map(|(name, documents)| {
                let serde_json::Value::Array(documents) = documents else {
                    return Err(SeedError::NotAnArray(name));
                };
                let documents = documents
                    .into_iter()
                    .enumerate()
                    .map(|(index, json)| {
                        parse_document(json).map_err(|reason| SeedError::Document {
                            collection: name.clone(),
                            index,
                            reason,
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok((name, documents))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { collections })
    }
}

fn parse_document(json: serde_json::Value) -> Result<Document, String> {
    match Bson::try_from(json).map_err(|error| format!("invalid Extended JSON: {error}"))? {
        Bson::Document(document) if document.contains_key("_id") => Ok(document),
        Bson::Document(_) => Err("has no _id".to_owned()),
        _ => Err("is not an object".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics_and_keeps_every_document_it_accepts(text in "\\PC{0,200}") {
            if let Ok(seed) = Seed::from_json(&text) {
                prop_assert!(seed.collections.values().flatten().all(|document| document.contains_key("_id")));
            }
        }

        #[test]
        fn accepts_any_documents_with_ids(ids in prop::collection::vec("[a-z0-9-]{1,12}", 0..8)) {
            let documents: Vec<_> = ids.iter().map(|id| serde_json::json!({ "_id": id, "n": 1 })).collect();
            let seed = Seed::from_json(&serde_json::json!({ "openhands_keys": documents }).to_string()).unwrap();
            prop_assert_eq!(seed.collections["openhands_keys"].len(), ids.len());
        }
    }

    #[test]
    fn parses_extended_json_types() {
        let seed = Seed::from_json(
            r#"{"openhands_keys": [{"_id": "k", "tokensUsed": {"$numberLong": "5"}, "n": 3, "d": 1.5,
                "createdAt": {"$date": "2026-11-01T00:00:00Z"}, "b": {"$oid": "6750a1000000000000000001"}}]}"#,
        )
        .unwrap();
        let document = &seed.collections["openhands_keys"][0];
        assert_eq!(document.get("tokensUsed"), Some(&Bson::Int64(5)));
        assert_eq!(document.get("n"), Some(&Bson::Int32(3)));
        assert_eq!(document.get("d"), Some(&Bson::Double(1.5)));
        assert!(matches!(document.get("createdAt"), Some(Bson::DateTime(_))));
        assert!(matches!(document.get("b"), Some(Bson::ObjectId(_))));
    }

    #[test]
    fn names_what_is_wrong() {
        let error = |text: &str| Seed::from_json(text).unwrap_err().to_string();
        assert!(error("[1]").contains("JSON object"));
        assert!(error(r#"{"proxies": {}}"#).contains("\"proxies\" must be an array"));
        assert!(error(r#"{"proxies": [{"name": "x"}]}"#).contains("document 0: has no _id"));
        assert!(error(r#"{"proxies": [1]}"#).contains("document 0: is not an object"));
        assert!(error("{").contains("not valid JSON"));
    }
}
