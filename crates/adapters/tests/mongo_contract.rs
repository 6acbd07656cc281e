//! The key pool contract on the MongoDB repository, each case on a fresh database: once with
//! transactions (the test servers are replica sets) and once writing step by step, as on a
//! standalone server.

mod contract;
#[allow(dead_code, reason = "the contract reaches the server only through the repository")]
mod support;

use adapters::{MongoRepository, TransactionMode};

mod with_transactions {
    use super::*;

    async fn new_pool() -> MongoRepository {
        support::mongo::fresh_database(TransactionMode::Auto).await.repository
    }

    contract_tests!(new_pool);
}

mod step_by_step {
    use super::*;

    async fn new_pool() -> MongoRepository {
        support::mongo::fresh_database(TransactionMode::Never).await.repository
    }

    contract_tests!(new_pool);
}
