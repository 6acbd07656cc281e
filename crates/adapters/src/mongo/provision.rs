//! Provisioning as one unit of work: in a transaction where the deployment has them, else step
//! by step in an order that never leaves the pool with fewer usable keys (the new key and its
//! binding go in before the old key goes out), each step idempotent so that applying the rest
//! of the plan again finishes an interrupted request without duplicates.

use bson::{Document, doc};
use mongodb::ClientSession;
use mongodb::action::Action;
use mongodb::error::{Error, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};

use super::errors::{is_command_not_found, is_duplicate_key, unavailable};
use super::{MongoRepository, TransactionMode};
use crate::documents::{self, API_KEY_CLAIMS, ARCHIVE, BINDINGS, KEYS};
use crate::ports::{ProvisionError, ProvisionPlan, Retirement, StoreError};
use chrono::{DateTime, Utc};
use domain::{Binding, KeyId, OpenHandsKey};

/// How often a transaction, or its commit, is tried when the server says trying again is safe.
/// Concurrent requests for one API key conflict on its claim, and each conflict costs a retry,
/// so there are enough for a burst of them; the operation timeout bounds them all.
const MAX_TRANSACTION_ATTEMPTS: usize = 10;
/// The pause before retrying a conflicting transaction, times the attempt, so the transaction
/// it conflicted with can commit first.
const CONFLICT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(10);
/// How long a claim whose key is not in the pool still counts as a request in progress: longer
/// than any provisioning can take under the operation timeout.
const CLAIM_PATIENCE: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

fn taken(holder: KeyId) -> StepError {
    StepError::Final(ProvisionError::ApiKeyTaken(holder))
}

/// Why a step stopped.
pub(super) enum StepError {
    /// The driver failed; inside a transaction its labels say whether to try again.
    Driver(Error),
    /// The plan cannot be carried out (or a test made it fail); never retried here.
    Final(ProvisionError),
}

impl From<Error> for StepError {
    fn from(error: Error) -> Self {
        Self::Driver(error)
    }
}

impl From<StepError> for ProvisionError {
    fn from(error: StepError) -> Self {
        match error {
            StepError::Driver(error) => unavailable(&error).into(),
            StepError::Final(error) => error,
        }
    }
}

impl MongoRepository {
    /// Whether provisioning runs in a transaction. Asked of the server once, at first use.
    async fn uses_transactions(&self) -> Result<bool, StoreError> {
        if self.transactions == TransactionMode::Never {
            return Ok(false);
        }
        self.supports_transactions.get_or_try_init(|| self.deployment_supports_transactions()).await.copied()
    }

    /// Transactions need a replica set (`setName`) or a sharded cluster (`msg: "isdbgrid"`),
    /// with sessions.
    async fn deployment_supports_transactions(&self) -> Result<bool, StoreError> {
        let hello = match self.database.run_command(doc! { "hello": 1 }).await {
            // Servers before 4.4.2 know the same command as isMaster.
            Err(error) if is_command_not_found(&error) => self.database.run_command(doc! { "isMaster": 1 }).await,
            answered => answered,
        };
        let hello = hello.map_err(|error| unavailable(&error))?;
        let clustered = hello.contains_key("setName") || hello.get_str("msg") == Ok("isdbgrid");
        let supported = clustered && hello.contains_key("logicalSessionTimeoutMinutes");
        log::info!("MongoDB {} transactions", if supported { "supports" } else { "does not support" });
        Ok(supported)
    }
}

pub(super) async fn provision(repository: &MongoRepository, plan: &ProvisionPlan) -> Result<(), ProvisionError> {
    if repository.uses_transactions().await? {
        in_transaction(repository, plan).await
    } else {
        Steps { repository, session: None }.run(plan).await.map_err(ProvisionError::from)
    }
}

/// Runs the steps in one transaction, retrying as the driver documentation recommends: the
/// whole transaction on `TransientTransactionError`, the commit on
/// `UnknownTransactionCommitResult`, a bounded number of times.
async fn in_transaction(repository: &MongoRepository, plan: &ProvisionPlan) -> Result<(), ProvisionError> {
    let mut session = repository.client.start_session().await.map_err(|error| unavailable(&error))?;
    let mut attempt = 1;
    loop {
        session.start_transaction().await.map_err(|error| unavailable(&error))?;
        if let Err(failure) = (Steps { repository, session: Some(&mut session) }).run(plan).await {
            // The server may have aborted already (a duplicate key does); nothing is left to undo.
            if let Err(error) = session.abort_transaction().await {
                log::debug!("aborting the provisioning transaction: {}", unavailable(&error));
            }
            match failure {
                StepError::Driver(error) if error.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                    if attempt < MAX_TRANSACTION_ATTEMPTS {
                        tokio::time::sleep(CONFLICT_BACKOFF * attempt as u32).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(unavailable(&error).into());
                }
                failure => return Err(failure.into()),
            }
        }
        match commit(&mut session).await {
            Ok(()) => return Ok(()),
            Err(error) if error.contains_label(TRANSIENT_TRANSACTION_ERROR) && attempt < MAX_TRANSACTION_ATTEMPTS => {
                tokio::time::sleep(CONFLICT_BACKOFF * attempt as u32).await;
                attempt += 1;
            }
            Err(error) => return Err(unavailable(&error).into()),
        }
    }
}

async fn commit(session: &mut ClientSession) -> Result<(), Error> {
    let mut attempt = 1;
    loop {
        match session.commit_transaction().await {
            Err(error)
                if error.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && attempt < MAX_TRANSACTION_ATTEMPTS =>
            {
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// The writes of a plan, with or without a transaction's session.
struct Steps<'r, 's> {
    repository: &'r MongoRepository,
    session: Option<&'s mut ClientSession>,
}

impl Steps<'_, '_> {
    async fn run(&mut self, plan: &ProvisionPlan) -> Result<(), StepError> {
        if let Some(key) = &plan.new_key {
            self.insert_key(key).await?;
            fault_point!(self.repository, AfterKeyInsert);
        }
        if let Some(binding) = &plan.new_binding {
            self.bind(binding).await?;
            fault_point!(self.repository, AfterBindingInsert);
        }
        if let Some(retirement) = &plan.retirement {
            self.retire(retirement).await?;
        }
        Ok(())
    }

    /// Inserts the key unless its API key is already in the pool (under any id), or another
    /// request is adding it right now.
    async fn insert_key(&mut self, key: &OpenHandsKey) -> Result<(), StepError> {
        if let Some(existing) = self.find_one(KEYS, doc! { "apiKey": key.api_key.expose() }).await? {
            let existing = documents::key_from_document(&existing)
                .map_or_else(|| KeyId::from_store(String::new()), |existing| existing.id);
            return Err(taken(existing));
        }
        self.claim(key).await?;
        let session = self.session.as_deref_mut();
        match self
            .repository
            .collection(KEYS)
            .insert_one(documents::new_key_document(key))
            .optional(session, |insert, session| insert.session(session))
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_duplicate_key(&error) => Err(StepError::Final(ProvisionError::KeyIdTaken(key.id.clone()))),
            Err(error) => Err(error.into()),
        }
    }

    /// Claims the API key for this key id in `webhook_api_key_claims`, keyed by the API key's
    /// SHA-256. Concurrent requests for one API key meet on that `_id`, whose uniqueness
    /// MongoDB always enforces, so one wins without a unique index on the shared collection.
    /// A claim whose key never appeared (its request died) or was deleted since is taken over
    /// once it is older than [`CLAIM_PATIENCE`].
    async fn claim(&mut self, key: &OpenHandsKey) -> Result<(), StepError> {
        let digest = documents::api_key_digest(&key.api_key);
        let now = Utc::now();
        if let Some(claim) = self.find_one(API_KEY_CLAIMS, doc! { "_id": &digest }).await? {
            let holder = KeyId::from_store(claim.get_str("keyId").unwrap_or_default().to_owned());
            if holder == key.id {
                return Ok(()); // an earlier attempt of this request claimed it
            }
            let claimed_at = claim.get_datetime("claimedAt").map_or(DateTime::<Utc>::MIN_UTC, |at| at.to_chrono());
            let holder_exists = self.find_one(KEYS, doc! { "_id": holder.as_str() }).await?.is_some();
            if holder_exists || now - claimed_at < CLAIM_PATIENCE {
                return Err(taken(holder));
            }
            let session = self.session.as_deref_mut();
            let taken_over = self
                .repository
                .collection(API_KEY_CLAIMS)
                .update_one(
                    doc! { "_id": &digest, "keyId": holder.as_str() },
                    doc! { "$set": { "keyId": key.id.as_str(), "claimedAt": documents::bson_date(now) } },
                )
                .optional(session, |update, session| update.session(session))
                .await?;
            return if taken_over.matched_count == 1 { Ok(()) } else { Err(taken(holder)) };
        }
        let record = doc! { "_id": &digest, "keyId": key.id.as_str(), "claimedAt": documents::bson_date(now) };
        let session = self.session.as_deref_mut();
        match self
            .repository
            .collection(API_KEY_CLAIMS)
            .insert_one(record)
            .optional(session, |insert, session| insert.session(session))
            .await
        {
            Ok(_) => Ok(()),
            // Another request claimed it a moment ago; whose key it is may not be visible yet.
            Err(error) if is_duplicate_key(&error) => Err(taken(key.id.clone())),
            Err(error) => Err(error.into()),
        }
    }

    /// Inserts the binding unless the key is already bound to that proxy.
    async fn bind(&mut self, binding: &Binding) -> Result<(), StepError> {
        let same = doc! { "openhandsKeyId": binding.key_id.as_str(), "proxyId": binding.proxy_id.as_str() };
        if self.find_one(BINDINGS, same).await?.is_none() {
            let session = self.session.as_deref_mut();
            self.repository
                .collection(BINDINGS)
                .insert_one(documents::new_binding_document(binding))
                .optional(session, |insert, session| insert.session(session))
                .await?;
        }
        Ok(())
    }

    /// Archives the old key's whole document (once per retirement), then deletes its
    /// bindings, then the key: until the very last write the old key still serves.
    async fn retire(&mut self, retirement: &Retirement) -> Result<(), StepError> {
        let old_id = retirement.key_id.as_str();
        if let Some(old) = self.find_one(KEYS, doc! { "_id": old_id }).await? {
            // An upsert keyed by the retirement: a retry finds the record instead of adding one.
            let record = documents::archive_document(old, &retirement.replaced_by, retirement.at);
            let filter = documents::archive_filter(&retirement.key_id, &retirement.replaced_by);
            let session = self.session.as_deref_mut();
            self.repository
                .collection(ARCHIVE)
                .update_one(filter, doc! { "$setOnInsert": record })
                .upsert(true)
                .optional(session, |update, session| update.session(session))
                .await?;
        }
        fault_point!(self.repository, AfterArchive);

        let session = self.session.as_deref_mut();
        self.repository
            .collection(BINDINGS)
            .delete_many(doc! { "openhandsKeyId": old_id })
            .optional(session, |delete, session| delete.session(session))
            .await?;
        fault_point!(self.repository, AfterBindingsDelete);

        let session = self.session.as_deref_mut();
        self.repository
            .collection(KEYS)
            .delete_one(doc! { "_id": old_id })
            .optional(session, |delete, session| delete.session(session))
            .await?;
        Ok(())
    }

    async fn find_one(&mut self, collection: &str, filter: Document) -> Result<Option<Document>, Error> {
        let session = self.session.as_deref_mut();
        self.repository
            .collection(collection)
            .find_one(filter)
            .optional(session, |find, session| find.session(session))
            .await
    }
}
