//! Data safety: backups (consistent snapshot + manifest), verification by restoring into a
//! scratch database, retention, atomic restore, logical export/import/transfer, integrity
//! checks, and the remote archive format. One implementation behind two front doors: the
//! `backend` binary (production has no cargo) and `cargo xtask`.
//!
//! A backup is the folder `<backups>/<database>_<YYYYMMDD_HHMMSS>/` holding the snapshot
//! (`snapshot.db` from SQLite's `VACUUM INTO`, or `snapshot.pgdump` from `pg_dump -Fc`) and
//! `manifest.json` (see [`manifest::Manifest`]).

pub mod archive;
pub mod catalog;
pub mod encryption;
mod error;
pub mod export;
pub mod fault;
pub mod hash;
pub mod hash_parallel;
pub mod hash_sql;
pub mod integrity;
pub mod manifest;
pub mod marker;
pub mod migcheck;
pub mod offsite;
pub mod postgres_stream;
pub mod prune;
pub mod render;
pub mod restore;
mod snapshot;
pub mod snapshot_postgres;
pub mod snapshot_sqlite;
mod sqlite_lines;
pub mod store;
pub mod verify;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use encryption::Keys;
pub use error::BackupError;
pub use manifest::Manifest;
pub use restore::{restore, restore_with, RestoreReport, SwapMode};
pub use store::{default_dir, VerifiedRecord};
pub use verify::{verify, verify_and, verify_with, VerifyReport};

use db_conn::DatabaseTarget;
use manifest::{SnapshotFile, ToolInfo};
use snapshot::Snapshot;

impl From<diesel::result::Error> for BackupError {
    fn from(source: diesel::result::Error) -> Self {
        Self::Query {
            context: "reading the database".into(),
            source,
        }
    }
}

/// A backup that exists under its final name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    pub id: String,
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// The database's name as backup ids use it: the SQLite file's stem, the PostgreSQL database.
pub fn database_name(target: &DatabaseTarget) -> String {
    match target {
        DatabaseTarget::Sqlite { path } => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "database".into()),
        DatabaseTarget::Postgres { url } => snapshot_postgres::split_url(url).database,
    }
}

/// How a backup is taken: why (recorded in the manifest), and to whom it is encrypted.
#[derive(Clone, Default)]
pub struct CreateOptions {
    /// Why it was taken when not by hand, e.g. before a restore.
    pub note: Option<String>,
    /// Encrypt the snapshot to these keys (see [`encryption`]); plaintext when None.
    pub encrypt_to: Option<encryption::Recipients>,
}

/// Takes a plaintext backup of `target` into `backups_dir`: a consistent snapshot and its
/// manifest, visible under its final name only once complete.
pub fn create(target: &DatabaseTarget, backups_dir: &Path) -> Result<BackupInfo, BackupError> {
    create_with(target, backups_dir, &CreateOptions::default())
}

/// [`create`] with a note and, when asked, the snapshot encrypted while it is written.
pub fn create_with(
    target: &DatabaseTarget,
    backups_dir: &Path,
    options: &CreateOptions,
) -> Result<BackupInfo, BackupError> {
    let now = chrono::Utc::now();
    store::create_private_dir(backups_dir)?;
    let id = store::new_id(backups_dir, &database_name(target), now);
    let staging = store::Staging::new(backups_dir, &id)?;
    let sealed = options.encrypt_to.as_ref();
    let snapshot = match target {
        DatabaseTarget::Sqlite { path } => snapshot::of_sqlite(target, path, &staging, sealed)?,
        DatabaseTarget::Postgres { .. } => snapshot::of_postgres(target, &staging, sealed)?,
    };
    let manifest = manifest_for(target, &id, now, snapshot, options.note.clone())?;
    write_manifest(&staging.file(manifest::MANIFEST_FILE), &manifest)?;
    fault::pause(fault::FaultPoint::BackupAfterSnapshot);
    let path = staging.publish()?;
    Ok(BackupInfo { id, path, manifest })
}

fn manifest_for(
    target: &DatabaseTarget,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
    snapshot: Snapshot,
    note: Option<String>,
) -> Result<Manifest, BackupError> {
    let (bytes, sha256) =
        hash::file_sha256(&snapshot.file).map_err(BackupError::io("read", &snapshot.file))?;
    Ok(Manifest {
        format: manifest::FORMAT.into(),
        id: id.to_owned(),
        database: database_name(target),
        source: match target {
            DatabaseTarget::Sqlite { path } => db_conn::paths::resolve(path).display().to_string(),
            DatabaseTarget::Postgres { .. } => target.display(),
        },
        backend: target.backend(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        applied_versions: snapshot.applied_versions,
        tables: snapshot.tables,
        snapshot: SnapshotFile {
            file: snapshot
                .file
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned(),
            format: match target.backend() {
                db_conn::Backend::Sqlite => "sqlite".into(),
                db_conn::Backend::Postgres => "pg_dump-custom".into(),
            },
            bytes,
            sha256,
            encryption: snapshot.encryption,
        },
        tool: ToolInfo {
            name: "personalfinance backend".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            engine: snapshot.engine,
        },
        note,
    })
}

fn write_manifest(path: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    use std::io::Write;
    let text = serde_json::to_vec_pretty(manifest).expect("a manifest serializes");
    let mut file = store::create_private_file(path)?;
    file.write_all(&text)
        .and_then(|_| file.write_all(b"\n"))
        .and_then(|_| file.sync_all())
        .map_err(BackupError::io("write", path))
}
