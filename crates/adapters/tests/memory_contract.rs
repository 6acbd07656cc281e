//! The key pool contract on the in-memory store.

mod contract;

async fn new_pool() -> adapters::MemoryStore {
    adapters::MemoryStore::new()
}

contract_tests!(new_pool);
