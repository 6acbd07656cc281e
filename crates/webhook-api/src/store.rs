//! Chooses and opens the key pool the settings ask for.

use adapters::MemoryStore;
use adapters::seed::{Seed, SeedError};

use crate::configuration::Settings;

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
