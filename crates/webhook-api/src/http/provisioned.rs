//! What follows a 201 besides the answer: count the key, and tell the gateway to reload. Both
//! are quick and neither can fail the answer; the reload runs in the background.

use actix_web::{HttpRequest, web};

use crate::application::Provisioned;
use crate::integrations::{ReloadEvent, ReloadHook};
use crate::metrics::Metrics;

pub fn announce_provisioned(request: &HttpRequest, provisioned: &Provisioned) {
    if let Some(metrics) = request.app_data::<web::Data<Metrics>>() {
        metrics.key_provisioned(provisioned.replaced_key.is_some());
    }
    if let Some(reload) = request.app_data::<web::Data<ReloadHook>>() {
        reload.notify(ReloadEvent::key_provisioned(provisioned));
    }
}
