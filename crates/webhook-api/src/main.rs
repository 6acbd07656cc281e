//! The composition root: settings, logging, the store, the server.

use std::process::ExitCode;

use adapters::{IdempotencyStore, KeyPool};
use webhook_api::configuration::{SECRET_VAR, Settings};
use webhook_api::healthcheck;
use webhook_api::startup::Application;
use webhook_api::store::{open_memory_store, open_mongo_repository};

#[actix_web::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some(healthcheck::COMMAND) {
        return healthcheck::run();
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            log::error!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    log::info!("starting in {} with {settings:?}", settings.environment.as_str());
    if let Some(secret) = &settings.webhook.generated_secret {
        log::warn!("{SECRET_VAR} is not set; this run accepts the generated secret {}", secret.expose());
    }
    match serve(&settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &Settings) -> Result<(), String> {
    let cannot_open = |error: &dyn std::fmt::Display| format!("cannot open the key store: {error}");
    match &settings.mongo.uri {
        Some(uri) => run(settings, open_mongo_repository(settings, uri).await.map_err(|e| cannot_open(&e))?).await,
        None => run(settings, open_memory_store(settings).map_err(|e| cannot_open(&e))?).await,
    }
}

async fn run<P: KeyPool + IdempotencyStore>(settings: &Settings, pool: P) -> Result<(), String> {
    let application = Application::build(settings, pool)
        .map_err(|error| format!("cannot listen on {}:{}: {error}", settings.server.host, settings.server.port))?;
    log::info!("listening on {}:{}", settings.server.host, application.port());
    application.run_until_stopped().await.map_err(|error| format!("server failed: {error}"))
}
