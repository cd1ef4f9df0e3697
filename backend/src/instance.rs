//! Which process answers: lets a deploy check tell the new deployment from the old one.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The answering process, as `/health/data` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub started_at: String,
    pub pid: u32,
    pub version: String,
    /// `RAILWAY_DEPLOYMENT_ID` when Railway runs the process.
    pub deployment_id: Option<String>,
}

/// This process's [`Instance`], fixed the first time it is asked for (at startup).
pub fn instance() -> &'static Instance {
    static INSTANCE: OnceLock<Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| Instance {
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        deployment_id: crate::storage::process_env("RAILWAY_DEPLOYMENT_ID"),
    })
}
