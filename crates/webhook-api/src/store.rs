//! Opens the key pool the settings ask for: MongoDB when `MONGODB_URI` is set, else memory.

use std::time::Duration;

use adapters::seed::{Seed, SeedError};
use adapters::{MemoryStore, MongoConfig, MongoRepository, StoreError};

use crate::configuration::{MongoUri, Settings};

/// How often index creation is tried again while MongoDB is down at start-up.
const INDEX_RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// Opens the in-memory store, loaded from `store.seed_file` when set.
pub fn open_memory_store(settings: &Settings) -> Result<MemoryStore, SeedError> {
    log::warn!("MONGODB_URI is not set: the key pool lives in memory and nothing is persisted");
    let Some(path) = &settings.store.seed_file else { return Ok(MemoryStore::new()) };
    let seed = Seed::from_file(path)?;
    let counts: Vec<_> =
        seed.collections.iter().map(|(name, documents)| format!("{name}: {}", documents.len())).collect();
    log::info!("loaded seed file {} ({})", path.display(), counts.join(", "));
    Ok(MemoryStore::from_seed(seed))
}

/// Opens the MongoDB repository. MongoDB being down is no reason not to start: the service
/// answers 503 until it returns, and the indexes are created once it does.
pub async fn open_mongo_repository(settings: &Settings, uri: &MongoUri) -> Result<MongoRepository, StoreError> {
    let mongo = &settings.mongo;
    let config = MongoConfig {
        server_selection_timeout: mongo.server_selection_timeout,
        operation_timeout: mongo.operation_timeout,
        transactions: mongo.transactions,
        ..MongoConfig::new(uri.expose(), mongo.db_name.as_str())
    };
    let repository = MongoRepository::connect(config).await?;
    log::info!("the key pool lives in MongoDB database {}", mongo.db_name);
    if mongo.ensure_indexes {
        let indexed = repository.clone();
        actix_rt::spawn(async move {
            while let Err(error) = indexed.ensure_indexes().await {
                log::warn!("could not create the indexes yet ({error}); trying again in {INDEX_RETRY_INTERVAL:?}");
                tokio::time::sleep(INDEX_RETRY_INTERVAL).await;
            }
            log::info!("MongoDB indexes are in place");
        });
    }
    Ok(repository)
}
