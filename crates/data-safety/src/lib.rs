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
mod error;
pub mod export;
pub mod fault;
pub mod hash;
pub mod integrity;
pub mod manifest;
pub mod marker;
pub mod migcheck;
pub mod prune;
pub mod render;
pub mod restore;
pub mod snapshot_postgres;
pub mod snapshot_sqlite;
pub mod store;
pub mod verify;

use std::path::{Path, PathBuf};

use diesel::connection::{Connection, SimpleConnection};
use serde::{Deserialize, Serialize};

pub use error::BackupError;
pub use manifest::Manifest;
pub use restore::{restore, restore_with, RestoreReport, SwapMode};
pub use store::{default_dir, VerifiedRecord};
pub use verify::{verify, verify_and, VerifyReport};

use db_conn::DatabaseTarget;
use db_conn::{self as db, DbConnection};
use manifest::{SnapshotFile, ToolInfo, PG_SNAPSHOT, SQLITE_SNAPSHOT};
use pf_data::migrations;

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

/// Takes a backup of `target` into `backups_dir`: a consistent snapshot and its manifest,
/// visible under its final name only once complete.
pub fn create(target: &DatabaseTarget, backups_dir: &Path) -> Result<BackupInfo, BackupError> {
    create_with_note(target, backups_dir, None)
}

/// [`create`], recording why the backup was taken (e.g. before a restore).
pub fn create_with_note(
    target: &DatabaseTarget,
    backups_dir: &Path,
    note: Option<String>,
) -> Result<BackupInfo, BackupError> {
    let now = chrono::Utc::now();
    store::create_private_dir(backups_dir)?;
    let id = store::new_id(backups_dir, &database_name(target), now);
    let staging = store::Staging::new(backups_dir, &id)?;
    let snapshot = match target {
        DatabaseTarget::Sqlite { path } => snapshot_of_sqlite(target, path, &staging)?,
        DatabaseTarget::Postgres { .. } => snapshot_of_postgres(target, &staging)?,
    };
    let manifest = manifest_for(target, &id, now, snapshot, note)?;
    write_manifest(&staging.file(manifest::MANIFEST_FILE), &manifest)?;
    fault::pause(fault::FaultPoint::BackupAfterSnapshot);
    let path = staging.publish()?;
    Ok(BackupInfo { id, path, manifest })
}

/// A snapshot file in the staging folder and what it holds.
struct Snapshot {
    file: PathBuf,
    applied_versions: Vec<String>,
    tables: std::collections::BTreeMap<String, manifest::TableDigest>,
    engine: String,
}

fn snapshot_of_sqlite(
    target: &DatabaseTarget,
    path: &Path,
    staging: &store::Staging,
) -> Result<Snapshot, BackupError> {
    if !path.is_file() {
        return Err(BackupError::Refused(format!(
            "there is no database at {}: nothing to back up (check DATABASE_URL / DATABASE_PATH)",
            path.display()
        )));
    }
    let file = staging.file(SQLITE_SNAPSHOT);
    let mut conn = db::establish(target)?;
    let DbConnection::Sqlite(live) = &mut conn else {
        unreachable!("a SQLite target opens a SQLite connection")
    };
    snapshot_sqlite::vacuum_into(live, &file)?;
    drop(conn);
    store::make_private_file(&file)?;
    // Counts and hashes come from the snapshot itself: exactly what the backup holds.
    let mut snap = snapshot_sqlite::open_existing(&file)?;
    let engine = snapshot_sqlite::version(&mut snap);
    let mut snap = DbConnection::Sqlite(snap);
    let (applied_versions, tables) = snap.transaction::<_, BackupError, _>(|c| {
        Ok((migrations::status(c)?.applied, hash::digests(c)?))
    })?;
    Ok(Snapshot {
        file,
        applied_versions,
        tables,
        engine,
    })
}

fn snapshot_of_postgres(
    target: &DatabaseTarget,
    staging: &store::Staging,
) -> Result<Snapshot, BackupError> {
    let sh = xshell::Shell::new().map_err(|e| BackupError::Refused(e.to_string()))?;
    let mut conn = db::establish(target)?;
    let DbConnection::Pg(pg) = &mut conn else {
        unreachable!("a PostgreSQL target opens a PostgreSQL connection")
    };
    let (server_major, server_version) = snapshot_postgres::server_version(pg)?;
    let tool_version = snapshot_postgres::check_tool(&sh, "pg_dump", server_major)?;
    let file = staging.file(PG_SNAPSHOT);
    // One REPEATABLE READ transaction exports its snapshot to pg_dump and computes the
    // hashes: the dump and the manifest describe the same commit point.
    let (applied_versions, tables) = conn.transaction::<_, BackupError, _>(|c| {
        c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        let DbConnection::Pg(pg) = c else {
            unreachable!()
        };
        let exported = snapshot_postgres::export_snapshot(pg)?;
        snapshot_postgres::dump(&sh, target, Some(&exported), &file)?;
        Ok((migrations::status(c)?.applied, hash::digests(c)?))
    })?;
    store::make_private_file(&file)?;
    Ok(Snapshot {
        file,
        applied_versions,
        tables,
        engine: format!("pg_dump {tool_version} (server PostgreSQL {server_version})"),
    })
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
