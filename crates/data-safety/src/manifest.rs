//! `manifest.json`: what a backup holds and how to check it. Written last into the backup's
//! temporary folder, so a folder with a manifest is a complete backup.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BackupError;
use db_conn::Backend;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const FORMAT: &str = "personalfinance-backup/1";
pub const SQLITE_SNAPSHOT: &str = "snapshot.db";
pub const PG_SNAPSHOT: &str = "snapshot.pgdump";

/// Row count and content hash of one table (see `hash.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDigest {
    pub rows: u64,
    /// SHA-256 of the table's canonical rows in id order; None when this code could not read
    /// the table through its model (a schema from another release): then only rows count.
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// File name inside the backup folder.
    pub file: String,
    /// `sqlite` (a database file from `VACUUM INTO`) or `pg_dump-custom` (`pg_dump -Fc`).
    pub format: String,
    /// Size and SHA-256 of the file as stored (the ciphertext when encrypted): checkable
    /// without the key.
    pub bytes: u64,
    pub sha256: String,
    /// Present when the file is encrypted (see `encryption.rs`); absent in plaintext backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

/// How a snapshot is encrypted: the scheme and the public keys that can open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `age-x25519`.
    pub scheme: String,
    /// The recipients (`age1...`) it was encrypted to.
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    /// The engine that wrote the snapshot, e.g. `SQLite 3.46.0` or `pg_dump 15.20 (server 15.20)`.
    pub engine: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub id: String,
    /// The database's name: the SQLite file's stem or the PostgreSQL database.
    pub database: String,
    /// Where it was taken from (passwords masked).
    pub source: String,
    pub backend: Backend,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Migration versions applied in the snapshot, oldest first.
    pub applied_versions: Vec<String>,
    pub tables: BTreeMap<String, TableDigest>,
    pub snapshot: SnapshotFile,
    pub tool: ToolInfo,
    /// Why it was taken when not by hand, e.g. "safety backup before restoring X".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Reads `dir/manifest.json` as `T`; `what` names it in the error ("a backup manifest").
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    dir: &Path,
    what: &str,
) -> Result<T, BackupError> {
    let path = dir.join(MANIFEST_FILE);
    let bad = |reason: String| BackupError::BadManifest {
        path: dir.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("{} is not {what}: {e}", path.display())))
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Self, BackupError> {
        let path = dir.join(MANIFEST_FILE);
        let bad = |reason: String| BackupError::BadManifest {
            path: dir.display().to_string(),
            reason,
        };
        let manifest: Self = read_json(dir, "a backup manifest")?;
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "{} has format `{}`, this code reads `{FORMAT}`",
                path.display(),
                manifest.format
            )));
        }
        if manifest.snapshot.file.contains(['/', '\\']) || manifest.snapshot.file.starts_with('.') {
            return Err(bad(format!(
                "the snapshot file name `{}` is not a plain file name",
                manifest.snapshot.file
            )));
        }
        Ok(manifest)
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.values().map(|t| t.rows).sum()
    }

    pub fn head(&self) -> &str {
        self.applied_versions
            .last()
            .map_or("(none)", String::as_str)
    }
}
