//! Builds the HTTP server around a key pool, separately from `main`, so tests can start the
//! real application on a random port.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use adapters::{IdempotencyStore, KeyPool};
use domain::KeyIdGenerator;

use crate::application::KeyService;
use crate::configuration::Settings;
use crate::http::{self, ClientLimits, IdempotencySettings, KeyDisplay, Operations};

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one) and serves `pool`. On SIGTERM
    /// or SIGINT it stops accepting, lets in-flight requests finish within
    /// `server.shutdown_timeout_secs`, and returns.
    pub fn build<P: KeyPool + IdempotencyStore>(settings: &Settings, pool: P) -> std::io::Result<Self> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let service = web::Data::new(KeyService::new(
            pool,
            KeyIdGenerator::system(),
            settings.webhook.target_proxy_id.clone(),
            settings.webhook.default_priority,
        ));
        let secrets = web::Data::new(settings.webhook.secrets.clone());
        let limits = web::Data::new(ClientLimits::new(
            settings.rate_limit.requests_per_minute,
            settings.rate_limit.auth_failures_per_minute,
            settings.server.trust_forwarded_for,
        ));
        let display = KeyDisplay { reveal_api_keys: settings.webhook.reveal_api_keys };
        let idempotency = IdempotencySettings { lease: Duration::from_secs(settings.idempotency.lease_secs) };
        let operations = Operations::new(settings).map_err(std::io::Error::other)?;
        let server = HttpServer::new(move || {
            http::app(service.clone(), secrets.clone(), limits.clone(), display, idempotency, operations.clone())
        })
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
