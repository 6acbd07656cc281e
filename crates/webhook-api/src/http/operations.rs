//! The operations side of the app: `/metrics`, `/openapi.json`, and the shared state that the
//! request metrics and the reload hook use.

use actix_web::web;
use adapters::KeyPool;

use super::{endpoint, metrics_endpoint, openapi};
use crate::configuration::Settings;
use crate::integrations::ReloadHook;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Operations {
    pub metrics: web::Data<Metrics>,
    pub reload: web::Data<ReloadHook>,
    /// `metrics.enabled`: when off, `/metrics` is not routed and answers 404.
    pub metrics_enabled: bool,
}

impl Operations {
    pub fn new(settings: &Settings) -> Result<Self, reqwest::Error> {
        Ok(Self {
            metrics: web::Data::new(Metrics::default()),
            reload: web::Data::new(ReloadHook::new(&settings.integrations)?),
            metrics_enabled: settings.metrics.enabled,
        })
    }

    /// Registers the state and the routes; for `App::configure`.
    pub fn configure<P: KeyPool>(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<P> {
        let operations = self.clone();
        move |config| {
            config.app_data(operations.metrics).app_data(operations.reload);
            if operations.metrics_enabled {
                config.service(endpoint("/metrics", web::get().to(metrics_endpoint::metrics::<P>)));
            }
            config.service(endpoint("/openapi.json", web::get().to(openapi::openapi_json)));
        }
    }
}
