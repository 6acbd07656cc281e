//! Idempotency records for the in-memory store, with the same rules as MongoDB's.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::{IdempotencyKey, KeyId};

use crate::ports::{Begun, IdempotencyClaim, Lease, StoredResponse};

#[derive(Default)]
pub(super) struct IdempotencyRecords {
    records: HashMap<String, Record>,
}

struct Record {
    fingerprint: String,
    planned_key_id: KeyId,
    token: String,
    lease_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    response: Option<StoredResponse>,
}

impl IdempotencyRecords {
    pub(super) fn begin(&mut self, claim: &IdempotencyClaim) -> Begun {
        self.records.retain(|_, record| record.expires_at > claim.now);
        let Some(record) = self.records.get_mut(claim.key.as_str()) else {
            self.records.insert(
                claim.key.as_str().to_owned(),
                Record {
                    fingerprint: claim.fingerprint.clone(),
                    planned_key_id: claim.planned_key_id.clone(),
                    token: claim.token.clone(),
                    lease_until: claim.lease_until,
                    expires_at: claim.expires_at,
                    response: None,
                },
            );
            return Begun::Fresh(Lease { token: claim.token.clone(), planned_key_id: claim.planned_key_id.clone() });
        };
        if record.fingerprint != claim.fingerprint {
            return Begun::KeyReused;
        }
        if let Some(response) = &record.response {
            return Begun::Completed(response.clone());
        }
        if record.lease_until > claim.now {
            return Begun::InFlight { lease_until: record.lease_until };
        }
        record.token = claim.token.clone();
        record.lease_until = claim.lease_until;
        Begun::TakenOver(Lease { token: claim.token.clone(), planned_key_id: record.planned_key_id.clone() })
    }

    pub(super) fn complete(&mut self, key: &IdempotencyKey, lease: &Lease, response: &StoredResponse) {
        if let Some(record) = self.held(key, lease) {
            record.response = Some(response.clone());
        }
    }

    pub(super) fn release(&mut self, key: &IdempotencyKey, lease: &Lease) {
        if let Some(record) = self.held(key, lease) {
            record.lease_until = DateTime::UNIX_EPOCH;
        }
    }

    /// The record while `lease` still holds it: a taken-over attempt changes nothing.
    fn held(&mut self, key: &IdempotencyKey, lease: &Lease) -> Option<&mut Record> {
        self.records.get_mut(key.as_str()).filter(|record| record.token == lease.token && record.response.is_none())
    }
}
