//! The schema history compiled into the binary, applied through the migration manager (lock,
//! checksums, refusal of edited or unknown migrations): the same code `cargo xtask apply` uses.

use serde::{Deserialize, Serialize};

use db_conn::{Backend, DbConnection};
use migration_engine::{EmbeddedFile, MigrateError, MigrationSet, Migrator, Target};

pub use migration_engine::MigrateError as MigrationError;

/// Applied and pending versions, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
}

mod files {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/embedded_migrations.rs"));
}

/// The tree compiled into this binary for `backend`, built once per process (startup and
/// every `/health/data` read it).
pub fn embedded(backend: Backend) -> &'static MigrationSet {
    static SQLITE: std::sync::OnceLock<MigrationSet> = std::sync::OnceLock::new();
    static POSTGRES: std::sync::OnceLock<MigrationSet> = std::sync::OnceLock::new();
    let (cell, tree, archive) = match backend {
        Backend::Postgres => (&POSTGRES, files::POSTGRES, files::POSTGRES_ARCHIVE),
        Backend::Sqlite => (&SQLITE, files::SQLITE, files::SQLITE_ARCHIVE),
    };
    cell.get_or_init(|| MigrationSet::from_embedded(tree, archive))
}

/// The embedded tree for the connected backend.
pub fn embedded_for(conn: &DbConnection) -> &'static MigrationSet {
    embedded(conn.backend())
}

/// Applies every pending embedded migration under the migration lock; returns what it applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrateError> {
    let set = embedded_for(conn);
    Migrator::new(set, "backend").apply(conn, &Target::Head)
}

pub fn status(conn: &mut DbConnection) -> Result<MigrationStatus, MigrateError> {
    let set = embedded_for(conn);
    let status = migration_engine::status(conn, set)?;
    Ok(MigrationStatus {
        applied: status.applied.into_iter().map(|a| a.version).collect(),
        pending: status
            .pending
            .iter()
            .map(|f| migration_engine::version_of(f))
            .collect(),
    })
}
