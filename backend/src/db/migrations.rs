//! The schema history, embedded in the binary: one tree per backend, same versions in both.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use serde::Serialize;

use super::DbConnection;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}; nothing after the failing migration was applied (each runs in its own transaction); fix it and start again")]
pub struct MigrationError(String);

/// Applied and pending versions, oldest first.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
}

pub fn embedded_for(conn: &DbConnection) -> EmbeddedMigrations {
    match conn {
        DbConnection::Pg(_) => POSTGRES_MIGRATIONS,
        DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    }
}

/// Runs every pending migration; returns the versions it applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let source = embedded_for(conn);
    let applied = conn
        .run_pending_migrations(source)
        .map_err(|e| MigrationError(e.to_string()))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

pub fn status(conn: &mut DbConnection) -> Result<MigrationStatus, MigrationError> {
    let source = embedded_for(conn);
    let mut applied: Vec<String> = conn
        .applied_migrations()
        .map_err(|e| MigrationError(e.to_string()))?
        .iter()
        .map(|v| v.to_string())
        .collect();
    applied.sort();
    let pending = conn
        .pending_migrations(source)
        .map_err(|e| MigrationError(e.to_string()))?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    Ok(MigrationStatus { applied, pending })
}
