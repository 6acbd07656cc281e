//! `Idempotency-Key` records in `webhook_idempotency`, shared by every replica. Each change is
//! conditional on the attempt's token, so two replicas never both hold a key.

use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use domain::{IdempotencyKey, KeyId};

use super::MongoRepository;
use super::errors::{is_duplicate_key, unavailable};
use crate::documents::{IDEMPOTENCY, bson_date};
use crate::ports::{Begun, IdempotencyClaim, IdempotencyStore, Lease, StoreError, StoredResponse};

/// How often `begin` retries after losing a race for a record to another replica.
const MAX_BEGIN_ATTEMPTS: usize = 3;

fn new_record(claim: &IdempotencyClaim) -> Document {
    doc! {
        "_id": claim.key.as_str(),
        "fingerprint": &claim.fingerprint,
        "plannedKeyId": claim.planned_key_id.as_str(),
        "token": &claim.token,
        "leaseUntil": bson_date(claim.lease_until),
        "expiresAt": bson_date(claim.expires_at),
        "response": Bson::Null,
        "createdAt": bson_date(claim.now),
    }
}

/// Only the attempt that holds the lease, while no answer is kept, may change the record.
fn held(key: &IdempotencyKey, lease: &Lease) -> Document {
    doc! { "_id": key.as_str(), "token": &lease.token, "response": Bson::Null }
}

fn date(record: &Document, field: &str) -> DateTime<Utc> {
    record.get_datetime(field).map_or(DateTime::<Utc>::MIN_UTC, |at| at.to_chrono())
}

impl MongoRepository {
    async fn update_held(&self, key: &IdempotencyKey, lease: &Lease, update: Document) -> Result<(), StoreError> {
        let records = self.collection(IDEMPOTENCY);
        let updated = records.update_one(held(key, lease), update);
        self.bounded(async { updated.await.map(drop).map_err(|error| unavailable(&error)) }).await
    }

    async fn begin_once(&self, claim: &IdempotencyClaim) -> Result<Option<Begun>, mongodb::error::Error> {
        let records = self.collection(IDEMPOTENCY);
        let fresh = Lease { token: claim.token.clone(), planned_key_id: claim.planned_key_id.clone() };
        match records.insert_one(new_record(claim)).await {
            Ok(_) => return Ok(Some(Begun::Fresh(fresh))),
            Err(error) if !is_duplicate_key(&error) => return Err(error),
            Err(_) => {}
        }
        let Some(record) = records.find_one(doc! { "_id": claim.key.as_str() }).await? else {
            return Ok(None); // expired and removed meanwhile: try again
        };
        let token = record.get_str("token").unwrap_or_default().to_owned();
        // The TTL monitor runs about once a minute; an expired record is already gone.
        if date(&record, "expiresAt") <= claim.now {
            let replaced = records
                .find_one_and_replace(doc! { "_id": claim.key.as_str(), "token": &token }, new_record(claim))
                .await?;
            return Ok(replaced.map(|_| Begun::Fresh(fresh)));
        }
        if record.get_str("fingerprint") != Ok(claim.fingerprint.as_str()) {
            return Ok(Some(Begun::KeyReused));
        }
        if let Ok(response) = record.get_document("response") {
            let status = response.get_i32("status").ok().and_then(|status| u16::try_from(status).ok());
            let body = response.get_str("body").map(str::to_owned);
            if let (Some(status), Ok(body)) = (status, body) {
                return Ok(Some(Begun::Completed(StoredResponse { status, body })));
            }
        }
        let lease_until = date(&record, "leaseUntil");
        if lease_until > claim.now {
            return Ok(Some(Begun::InFlight { lease_until }));
        }
        let taken = records
            .find_one_and_update(
                doc! { "_id": claim.key.as_str(), "token": &token, "response": Bson::Null },
                doc! { "$set": { "token": &claim.token, "leaseUntil": bson_date(claim.lease_until) } },
            )
            .await?;
        let planned_key_id = record
            .get_str("plannedKeyId")
            .map_or_else(|_| claim.planned_key_id.clone(), |id| KeyId::from_store(id.to_owned()));
        Ok(taken.map(|_| Begun::TakenOver(Lease { token: claim.token.clone(), planned_key_id })))
    }
}

impl IdempotencyStore for MongoRepository {
    async fn begin(&self, claim: &IdempotencyClaim) -> Result<Begun, StoreError> {
        self.bounded(async {
            for _ in 0..MAX_BEGIN_ATTEMPTS {
                if let Some(begun) = self.begin_once(claim).await.map_err(|error| unavailable(&error))? {
                    return Ok(begun);
                }
            }
            // Other replicas kept changing the record: one of them holds it now.
            Ok(Begun::InFlight { lease_until: claim.lease_until })
        })
        .await
    }

    async fn complete(&self, key: &IdempotencyKey, lease: &Lease, response: &StoredResponse) -> Result<(), StoreError> {
        let kept = doc! { "$set": { "response": { "status": i32::from(response.status), "body": &response.body } } };
        self.update_held(key, lease, kept).await
    }

    async fn release(&self, key: &IdempotencyKey, lease: &Lease) -> Result<(), StoreError> {
        let ended = doc! { "$set": { "leaseUntil": bson_date(DateTime::UNIX_EPOCH) } };
        self.update_held(key, lease, ended).await
    }
}
