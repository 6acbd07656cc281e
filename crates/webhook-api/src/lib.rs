//! The OpenHands key webhook service: lets a key-rotation service watch and refill the pool
//! of OpenHands API keys shared with the admin backend and the Go proxy.

pub mod application;
pub mod configuration;
pub mod healthcheck;
pub mod http;
pub mod integrations;
pub mod metrics;
pub mod secrets;
pub mod startup;
pub mod store;
