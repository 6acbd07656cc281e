//! The key pool contract on the MongoDB repository, each case on a fresh database: once with
//! transactions (the test servers are replica sets) and once writing step by step, as on a
//! standalone server.

mod contract;
mod support;

use adapters::{MongoRepository, TransactionMode};

mod with_transactions {
    use super::*;

    async fn new_pool() -> MongoRepository {
        support::mongo::fresh_repository(TransactionMode::Auto).await.0
    }

    contract_tests!(new_pool);
}

mod step_by_step {
    use super::*;

    async fn new_pool() -> MongoRepository {
        support::mongo::fresh_repository(TransactionMode::Never).await.0
    }

    contract_tests!(new_pool);
}
