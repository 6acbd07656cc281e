//! What only the MongoDB repository has: the BSON types it stores, its indexes, and how a
//! provisioning interrupted between two writes leaves the pool, with and without transactions.

mod support;

use std::collections::BTreeSet;

use adapters::documents::{ARCHIVE, BINDINGS, KEYS, PROXIES};
use adapters::mongo::{FaultPoint, INDEXES};
use adapters::seed::Seed;
use adapters::{
    KeyPool, MongoRepository, ProvisionError, ProvisionPlan, RawDocuments, Retirement, StoreError, TransactionMode,
};
use bson::spec::ElementType;
use bson::{Document, RawDocumentBuf, doc};
use chrono::{TimeZone, Utc};
use domain::{ApiKey, Binding, KeyId, OpenHandsKey, Priority, ProxyId};
use futures::TryStreamExt;
use support::mongo::{TestDatabase, driver_database, fresh_database, fresh_database_name, server_uri};

/// The fixture's only usable key: healthy, with an active binding.
const OLD: &str = "oh-key-1767225600000-a1b2c3";
const NEW: &str = "oh-key-1767300000000-new001";
const NEW_API_KEY: &str = "sk-live-new0000new0000new0000";

const FAULT_POINTS: [FaultPoint; 4] = [
    FaultPoint::AfterKeyInsert,
    FaultPoint::AfterBindingInsert,
    FaultPoint::AfterArchive,
    FaultPoint::AfterBindingsDelete,
];

async fn repository_with_legacy_pool(mode: TransactionMode) -> (MongoRepository, mongodb::Database) {
    let TestDatabase { repository, database } = fresh_database(mode).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/legacy-pool.json");
    let seed = Seed::from_file(std::path::Path::new(path)).expect("the legacy fixture parses");
    for (collection, documents) in seed.collections {
        repository.insert_documents(&collection, documents).await.expect("seeding works");
    }
    (repository, database)
}

/// Adds a key, binds it to proxy-6 and retires the fixture's usable key, as a `force`d
/// replacement does.
fn replacement_plan() -> ProvisionPlan {
    let now = Utc.timestamp_millis_opt(1_767_300_000_000).unwrap();
    let new_id = KeyId::parse(NEW).unwrap();
    ProvisionPlan {
        new_key: Some(OpenHandsKey::new(new_id.clone(), ApiKey::parse(NEW_API_KEY).unwrap(), now)),
        new_binding: Some(Binding::new(
            ProxyId::parse("proxy-6").unwrap(),
            new_id.clone(),
            Priority::parse(1).unwrap(),
            now,
        )),
        retirement: Some(Retirement { key_id: KeyId::parse(OLD).unwrap(), replaced_by: new_id, at: now }),
    }
}

/// The rest of a plan, as the use-case plans a retry: a key already written is not written
/// again (the adapter refuses a taken API key); the binding and the retirement are idempotent.
async fn rest_of(repository: &MongoRepository, plan: &ProvisionPlan) -> ProvisionPlan {
    let written = repository.find_key(&KeyId::parse(NEW).unwrap()).await.unwrap().is_some();
    ProvisionPlan { new_key: if written { None } else { plan.new_key.clone() }, ..plan.clone() }
}

async fn all(database: &mongodb::Database, collection: &str, filter: Document) -> Vec<Document> {
    database
        .collection::<Document>(collection)
        .find(filter)
        .sort(doc! { "_id": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

/// The keys the Go proxy would load: with an active binding, and not `need_refresh`,
/// `exhausted` or `error`.
async fn usable_keys(database: &mongodb::Database) -> BTreeSet<String> {
    let bound: BTreeSet<String> = all(database, BINDINGS, doc! { "isActive": true })
        .await
        .iter()
        .filter_map(|binding| binding.get_str("openhandsKeyId").ok().map(str::to_owned))
        .collect();
    all(database, KEYS, doc! { "status": { "$nin": ["need_refresh", "exhausted", "error"] } })
        .await
        .iter()
        .filter_map(|key| key.get_str("_id").ok().map(str::to_owned))
        .filter(|id| bound.contains(id))
        .collect()
}

async fn snapshot(database: &mongodb::Database) -> Vec<Vec<Document>> {
    let mut collections = Vec::new();
    for collection in [KEYS, BINDINGS, PROXIES, ARCHIVE] {
        collections.push(all(database, collection, doc! {}).await);
    }
    collections
}

/// Exactly one new key, one binding for it, one archive record; the old key and its bindings
/// gone; the new key the one usable key.
async fn assert_replacement_finished(database: &mongodb::Database, context: &str) {
    let new_keys = all(database, KEYS, doc! { "apiKey": NEW_API_KEY }).await;
    assert_eq!(new_keys.len(), 1, "{context}: {new_keys:?}");
    assert_eq!(new_keys[0].get_str("_id"), Ok(NEW), "{context}");
    assert_eq!(all(database, BINDINGS, doc! { "openhandsKeyId": NEW }).await.len(), 1, "{context}");
    assert_eq!(all(database, ARCHIVE, doc! { "sourceId": OLD }).await.len(), 1, "{context}");
    assert_eq!(all(database, KEYS, doc! { "_id": OLD }).await, vec![], "{context}");
    assert_eq!(all(database, BINDINGS, doc! { "openhandsKeyId": OLD }).await, vec![], "{context}");
    assert_eq!(usable_keys(database).await, BTreeSet::from([NEW.to_owned()]), "{context}");
}

fn assert_injected(result: Result<(), ProvisionError>, point: FaultPoint) {
    match result {
        Err(ProvisionError::Store(StoreError::Unavailable(message))) => {
            assert!(message.contains("injected"), "{message}")
        }
        other => panic!("{point:?}: expected the injected failure, got {other:?}"),
    }
}

#[tokio::test]
async fn stores_the_bson_types_the_other_programs_read() {
    for mode in [TransactionMode::Auto, TransactionMode::Never] {
        let (repository, database) = repository_with_legacy_pool(mode).await;
        let old_document = all(&database, KEYS, doc! { "_id": OLD }).await.remove(0);
        repository.provision(&replacement_plan()).await.unwrap();

        let raw = |collection: &'static str, filter: Document| {
            let database = database.clone();
            async move {
                database
                    .collection::<RawDocumentBuf>(collection)
                    .find_one(filter)
                    .await
                    .unwrap()
                    .expect("the document exists")
            }
        };
        let types = |document: &RawDocumentBuf| -> Vec<(String, ElementType)> {
            document
                .iter()
                .map(|element| element.map(|(name, value)| (name.to_owned(), value.element_type())).unwrap())
                .collect()
        };
        let owned = |expected: &[(&str, ElementType)]| -> Vec<(String, ElementType)> {
            expected.iter().map(|(name, kind)| ((*name).to_owned(), *kind)).collect()
        };

        let key = raw(KEYS, doc! { "_id": NEW }).await;
        assert_eq!(
            types(&key),
            owned(&[
                ("_id", ElementType::String),
                ("apiKey", ElementType::String),
                ("status", ElementType::String),
                ("tokensUsed", ElementType::Int32),
                ("requestsCount", ElementType::Int32),
                ("createdAt", ElementType::DateTime),
            ]),
            "{mode:?}"
        );

        let binding = raw(BINDINGS, doc! { "openhandsKeyId": NEW }).await;
        assert_eq!(
            types(&binding),
            owned(&[
                ("_id", ElementType::ObjectId),
                ("proxyId", ElementType::String),
                ("openhandsKeyId", ElementType::String),
                ("priority", ElementType::Int32),
                ("isActive", ElementType::Boolean),
                ("createdAt", ElementType::DateTime),
            ]),
            "{mode:?}"
        );

        let record = raw(ARCHIVE, doc! { "sourceId": OLD }).await;
        let mut record_types = types(&record);
        record_types.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected = owned(&[
            ("_id", ElementType::ObjectId),
            ("deletedAt", ElementType::DateTime),
            ("deletedBy", ElementType::String),
            ("document", ElementType::EmbeddedDocument),
            ("metadata", ElementType::EmbeddedDocument),
            ("reason", ElementType::String),
            ("sourceCollection", ElementType::String),
            ("sourceId", ElementType::String),
        ]);
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(record_types, expected, "{mode:?}");
        // The whole old document, every value in its original BSON type.
        let archived: Document = record.to_document().unwrap().get_document("document").unwrap().clone();
        assert_eq!(archived, old_document, "{mode:?}");
    }
}

#[tokio::test]
async fn creating_the_indexes_again_changes_nothing_and_adds_no_unique_index() {
    let db_name = fresh_database_name();
    let database = driver_database(&db_name).await;
    // The admin backend may already index apiKey under its own name.
    let existing = mongodb::IndexModel::builder().keys(doc! { "apiKey": 1 }).build();
    database.collection::<Document>(KEYS).create_index(existing).await.unwrap();

    let repository = MongoRepository::connect(adapters::MongoConfig::new(server_uri(), db_name)).await.unwrap();
    repository.ensure_indexes().await.unwrap();
    let list = |collection: &'static str| {
        let database = database.clone();
        async move {
            let indexes: Vec<mongodb::IndexModel> =
                database.collection::<Document>(collection).list_indexes().await.unwrap().try_collect().await.unwrap();
            indexes
        }
    };
    let mut first = Vec::new();
    for collection in [KEYS, BINDINGS, ARCHIVE] {
        first.push(list(collection).await);
    }

    repository.ensure_indexes().await.unwrap();
    for (at, collection) in [KEYS, BINDINGS, ARCHIVE].into_iter().enumerate() {
        let indexes = list(collection).await;
        let names = |indexes: &[mongodb::IndexModel]| -> Vec<Option<String>> {
            indexes.iter().map(|index| index.options.as_ref().and_then(|options| options.name.clone())).collect()
        };
        assert_eq!(names(&indexes), names(&first[at]), "{collection}");
        for index in &indexes {
            let unique = index.options.as_ref().and_then(|options| options.unique);
            assert_ne!(unique, Some(true), "{collection}: {index:?}");
        }
        for spec in INDEXES.iter().filter(|spec| spec.collection == collection) {
            let keys: Document =
                spec.keys.iter().map(|(field, direction)| ((*field).to_owned(), (*direction).into())).collect();
            let matching: Vec<_> = indexes.iter().filter(|index| index.keys == keys).collect();
            assert!(!matching.is_empty(), "{collection}: no index on {keys}");
        }
    }
}

#[tokio::test]
async fn an_interrupted_step_by_step_provisioning_keeps_every_usable_key_and_a_retry_finishes_it() {
    for point in FAULT_POINTS {
        let (repository, database) = repository_with_legacy_pool(TransactionMode::Never).await;
        let before = usable_keys(&database).await;
        assert_eq!(before, BTreeSet::from([OLD.to_owned()]));
        let plan = replacement_plan();

        repository.fail_once_at(point);
        assert_injected(repository.provision(&plan).await, point);

        // Each step before the failure is done, none after it, and the old key still serves.
        let key_written = !all(&database, KEYS, doc! { "_id": NEW }).await.is_empty();
        let bound = !all(&database, BINDINGS, doc! { "openhandsKeyId": NEW }).await.is_empty();
        let archived = !all(&database, ARCHIVE, doc! { "sourceId": OLD }).await.is_empty();
        let old_unbound = all(&database, BINDINGS, doc! { "openhandsKeyId": OLD }).await.is_empty();
        let progress = match point {
            FaultPoint::AfterKeyInsert => (true, false, false, false),
            FaultPoint::AfterBindingInsert => (true, true, false, false),
            FaultPoint::AfterArchive => (true, true, true, false),
            FaultPoint::AfterBindingsDelete => (true, true, true, true),
        };
        assert_eq!((key_written, bound, archived, old_unbound), progress, "{point:?}");
        assert_eq!(all(&database, KEYS, doc! { "_id": OLD }).await.len(), 1, "{point:?}: the old key is kept");
        let after = usable_keys(&database).await;
        assert!(after.len() >= before.len(), "{point:?}: usable keys went from {before:?} to {after:?}");

        repository.provision(&rest_of(&repository, &plan).await).await.unwrap();
        assert_replacement_finished(&database, &format!("{point:?}")).await;
    }
}

#[tokio::test]
async fn an_interrupted_transaction_writes_nothing_and_a_retry_finishes_it() {
    for point in FAULT_POINTS {
        let (repository, database) = repository_with_legacy_pool(TransactionMode::Auto).await;
        let before = snapshot(&database).await;
        let plan = replacement_plan();

        repository.fail_once_at(point);
        assert_injected(repository.provision(&plan).await, point);
        assert!(snapshot(&database).await == before, "{point:?}: the failed transaction left writes behind");

        repository.provision(&plan).await.unwrap();
        assert_replacement_finished(&database, &format!("{point:?}")).await;
    }
}
