//! The binary on MongoDB: the legacy pool read through the status webhook, and provisioning.

use adapters::seed::Seed;
use bson::{Bson, doc};
use serde_json::{Value, json};

use crate::mongo_pool::fresh_pool;
use crate::service::{SECRET, spawn_service, workspace_root};

#[tokio::test]
async fn reports_the_legacy_pool_stored_in_mongodb() {
    let pool = fresh_pool().await;
    let seed = Seed::from_file(&workspace_root().join("tests/fixtures/legacy-pool.json")).unwrap();
    for (collection, documents) in seed.collections {
        let documents = documents.into_iter().filter(|d| d.get_str("_id") != Ok("proxy-6")).collect::<Vec<_>>();
        pool.insert(&collection, documents).await;
    }
    let mut vars = pool.service_vars();
    vars.push(("OPENHANDS_WEBHOOK_SECRET", SECRET));
    let service = spawn_service(&vars);

    let mut status: Value = service.status().await;

    status["checked_at"] = Value::Null;
    let expected = std::fs::read_to_string(workspace_root().join("tests/fixtures/legacy-pool-status.json")).unwrap();
    assert_eq!(status, serde_json::from_str::<Value>(&expected).unwrap());
    let ready = reqwest::get(service.url("/ready")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

#[tokio::test]
async fn provisions_and_replaces_in_mongodb_in_the_shared_shapes() {
    let pool = fresh_pool().await;
    pool.insert(
        "openhands_keys",
        vec![doc! { "_id": "old-key", "apiKey": "sk-old-0123456789abcdef", "status": "need_refresh", "tokensUsed": 5_i64 }],
    )
    .await;
    pool.insert(
        "openhands_bindings",
        vec![doc! { "_id": bson::oid::ObjectId::new(), "proxyId": "proxy-6", "openhandsKeyId": "old-key", "priority": 1, "isActive": true }],
    )
    .await;
    let mut vars = pool.service_vars();
    vars.push(("OPENHANDS_WEBHOOK_SECRET", SECRET));
    let service = spawn_service(&vars);
    let client = reqwest::Client::new();
    let post = |body: Value| service.post_key(&client, &body).send();

    let created = post(json!({ "apiKey": "sk-new-0123456789abcdef", "replaceKeyId": "old-key" })).await.unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    let new_id = created["key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["replaced_key"], "old-key");
    let again = post(json!({ "apiKey": "sk-new-0123456789abcdef" })).await.unwrap();
    assert_eq!(again.status().as_u16(), 409);

    let keys = pool.documents("openhands_keys", doc! {}).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].get_str("_id"), Ok(new_id.as_str()));
    assert!(matches!(keys[0].get("createdAt"), Some(Bson::DateTime(_))));
    let bindings = pool.documents("openhands_bindings", doc! {}).await;
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].get_str("openhandsKeyId"), Ok(new_id.as_str()));
    let archive = pool.documents("deleted_keys_archive", doc! {}).await;
    assert_eq!(archive.len(), 1);
    assert_eq!(archive[0].get_document("document").unwrap().get("tokensUsed"), Some(&Bson::Int64(5)));
    assert!(!service.logs().contains("sk-new-0123456789abcdef"));
}

#[tokio::test]
async fn start_up_creates_the_indexes_and_no_unique_one() {
    let pool = fresh_pool().await;
    let mut vars = pool.service_vars();
    vars.push(("OPENHANDS_WEBHOOK_SECRET", SECRET));
    let _service = spawn_service(&vars);

    let keys = pool.database.collection::<bson::Document>("openhands_keys");
    let mut names = Vec::new();
    for _ in 0..100 {
        names = keys.list_index_names().await.unwrap_or_default();
        if names.iter().any(|name| name == "webhook_apiKey") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(names.iter().any(|name| name == "webhook_status_createdAt_id"), "{names:?}");
    assert!(names.iter().any(|name| name == "webhook_apiKey"), "{names:?}");
    use futures::TryStreamExt;
    let indexes: Vec<_> = keys.list_indexes().await.unwrap().try_collect().await.unwrap();
    assert!(indexes.iter().all(|index| index.options.as_ref().and_then(|o| o.unique) != Some(true)), "{indexes:?}");
}
