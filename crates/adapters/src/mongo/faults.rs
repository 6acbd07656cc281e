//! Failure injection between provisioning steps, for the adapters' own integration tests
//! (cargo feature `fault-injection`, never on in the service).

use std::sync::{Arc, Mutex, PoisonError};

use super::provision::StepError;
use crate::ports::{ProvisionError, StoreError};

/// A point between two provisioning steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    AfterKeyInsert,
    AfterBindingInsert,
    AfterArchive,
    AfterBindingsDelete,
}

/// The fault armed for the next provisioning that reaches it; it fires once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults(Arc<Mutex<Option<FaultPoint>>>);

impl Faults {
    pub(crate) fn arm(&self, point: FaultPoint) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(point);
    }

    pub(crate) fn trip(&self, point: FaultPoint) -> Result<(), StepError> {
        let mut armed = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if *armed != Some(point) {
            return Ok(());
        }
        *armed = None;
        let failure = StoreError::Unavailable(format!("injected failure at {point:?}"));
        Err(StepError::Final(ProvisionError::Store(failure)))
    }
}
