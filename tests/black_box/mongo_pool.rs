//! A fresh MongoDB database for one black-box test, seeded and inspected through the driver.

use bson::{Document, doc};
use mongodb::Database;
use test_support::mongo::{HOW_TO_PROVIDE_A_SERVER, fresh_database_name, server_uri};

pub struct TestPool {
    pub uri: String,
    pub db_name: String,
    pub database: Database,
}

/// A fresh database on the test server holding proxy `proxy-6`.
pub async fn fresh_pool() -> TestPool {
    pool_on(server_uri().to_owned()).await
}

pub async fn pool_on(uri: String) -> TestPool {
    pool_on_named(uri, &fresh_database_name()).await
}

/// The database `db_name` on the server at `uri`, holding proxy `proxy-6`.
pub async fn pool_on_named(uri: String, db_name: &str) -> TestPool {
    let db_name = db_name.to_owned();
    let client = mongodb::Client::with_uri_str(&uri).await.expect("the test server's URI is valid");
    let database = client.database(&db_name);
    database
        .collection::<Document>("proxies")
        .insert_one(doc! { "_id": "proxy-6", "name": "OpenHands egress", "isActive": true })
        .await
        .unwrap_or_else(|error| panic!("the test MongoDB server did not answer: {error}\n{HOW_TO_PROVIDE_A_SERVER}"));
    TestPool { uri, db_name, database }
}

impl TestPool {
    /// Settings that point the binary at this database, with the limits off.
    pub fn service_vars(&self) -> Vec<(&str, &str)> {
        vec![
            ("MONGODB_URI", self.uri.as_str()),
            ("MONGODB_DB_NAME", self.db_name.as_str()),
            ("APP__RATE_LIMIT__REQUESTS_PER_MINUTE", "0"),
            ("APP__RATE_LIMIT__AUTH_FAILURES_PER_MINUTE", "0"),
        ]
    }

    pub async fn documents(&self, collection: &str, filter: Document) -> Vec<Document> {
        use futures::TryStreamExt;
        self.database.collection::<Document>(collection).find(filter).await.unwrap().try_collect().await.unwrap()
    }

    pub async fn insert(&self, collection: &str, documents: Vec<Document>) {
        self.database.collection::<Document>(collection).insert_many(documents).await.unwrap();
    }
}
