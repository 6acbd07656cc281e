//! A fresh database of the test server for each test, through the repository and the driver.

use adapters::{MongoConfig, MongoRepository, TransactionMode};
pub use test_support::mongo::{HOW_TO_PROVIDE_A_SERVER, fresh_database_name, server_uri};

/// A fresh database of the test server, through the repository (with its indexes) and through
/// the driver itself, to look at exactly what was stored.
pub struct TestDatabase {
    pub repository: MongoRepository,
    pub database: mongodb::Database,
}

pub async fn fresh_database(transactions: TransactionMode) -> TestDatabase {
    let db_name = fresh_database_name();
    let config = MongoConfig { transactions, ..MongoConfig::new(server_uri(), db_name.clone()) };
    let repository = MongoRepository::connect(config).await.expect("the test server's URI is valid");
    if let Err(error) = repository.ensure_indexes().await {
        panic!("the test MongoDB server did not answer: {error}\n{HOW_TO_PROVIDE_A_SERVER}");
    }
    TestDatabase { repository, database: driver_database(&db_name).await }
}

pub async fn driver_database(db_name: &str) -> mongodb::Database {
    let client = mongodb::Client::with_uri_str(server_uri()).await.expect("the test server's URI is valid");
    client.database(db_name)
}
