//! Seed files: a JSON object mapping collection names to arrays of MongoDB Extended JSON
//! documents, as `mongoexport --jsonArray` writes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::fmt;

use bson::{Bson, Document};
use serde::de::{Deserialize, DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

/// The documents of a seed file, by collection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seed {
    pub collections: BTreeMap<String, Vec<Document>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid seed file: {0}")]
    Invalid(#[from] serde_json::Error),
}

impl Seed {
    pub fn from_file(path: &Path) -> Result<Self, SeedError> {
        let file = std::fs::File::open(path).map_err(|source| SeedError::Read { path: path.to_owned(), source })?;
        Ok(serde_json::from_reader(std::io::BufReader::new(file))?)
    }

    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        Ok(serde_json::from_str(text)?)
    }
}

// Each document is converted to BSON as soon as it is read, so a large seed never sits in
// memory twice (as JSON values and as documents).
impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeedVisitor;
        impl<'de> Visitor<'de> for SeedVisitor {
            type Value = Seed;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a JSON object mapping collection names to arrays of documents")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seed, A::Error> {
                let mut collections = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let documents = map.next_value_seed(Collection { name: &name })?;
                    collections.insert(name, documents);
                }
                Ok(Seed { collections })
            }
        }
        deserializer.deserialize_map(SeedVisitor)
    }
}

/// One collection's array of Extended JSON documents.
struct Collection<'a> {
    name: &'a str,
}

impl<'de> DeserializeSeed<'de> for Collection<'_> {
    type Value = Vec<Document>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Collection<'_> {
    type Value = Vec<Document>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "seed collection {:?} to be an array of documents", self.name)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut documents = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(json) = seq.next_element::<serde_json::Value>()? {
            let document = parse_document(json).map_err(|reason| {
                A::Error::custom(format!("seed collection {:?}, document {}: {reason}", self.name, documents.len()))
            })?;
            documents.push(document);
        }
        Ok(documents)
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
        assert!(error(r#"{"proxies": {}}"#).contains("\"proxies\" to be an array"));
        assert!(error(r#"{"proxies": [{"_id": "p"}, {"name": "x"}]}"#).contains("\"proxies\", document 1: has no _id"));
        assert!(error(r#"{"proxies": [1]}"#).contains("document 0: is not an object"));
        assert!(error("{").starts_with("invalid seed file"));
    }
}
