//! Calls this service makes to other programs.

mod reload;

pub use reload::{ReloadEvent, ReloadHook};
