//! The schema history compiled into the binary, applied through the migration manager (lock,
//! checksums, refusal of edited or unknown migrations): the same code `cargo xtask apply` uses.

use serde::Serialize;

use super::DbConnection;
use crate::migrate::{self, MigrateError, MigrationSet, Migrator, Target};

pub use crate::migrate::MigrateError as MigrationError;

/// Applied and pending versions, oldest first.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
}

/// The embedded tree for the connected backend.
pub fn embedded_for(conn: &DbConnection) -> &'static MigrationSet {
    MigrationSet::embedded(conn.backend())
}

/// Applies every pending embedded migration under the migration lock; returns what it applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrateError> {
    let set = embedded_for(conn);
    Migrator::new(set, "backend").apply(conn, &Target::Head)
}

pub fn status(conn: &mut DbConnection) -> Result<MigrationStatus, MigrateError> {
    let set = embedded_for(conn);
    let status = migrate::status(conn, set)?;
    Ok(MigrationStatus {
        applied: status.applied.into_iter().map(|a| a.version).collect(),
        pending: status
            .pending
            .iter()
            .map(|f| migrate::version_of(f))
            .collect(),
    })
}
