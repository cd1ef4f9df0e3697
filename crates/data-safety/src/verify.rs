//! `backup verify`: the snapshot file against its recorded size and SHA-256, then a restore
//! into a scratch database (a temporary SQLite file; a PostgreSQL database created and dropped
//! on the server) compared with the manifest: engine checks, applied migrations, every table's
//! row count and content hash.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hash_parallel::{self, Second};
use crate::manifest::{Manifest, TableDigest};
use crate::{encryption, hash, postgres_stream, snapshot_postgres, snapshot_sqlite, store};
use crate::{BackupError, Keys};
use db_conn::{self as db, DbConnection};
use db_conn::{Backend, DatabaseTarget};
use pf_data::migrations;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub id: String,
    pub backend: Backend,
    pub created_at: String,
    pub tables: usize,
    pub rows: u64,
    /// Tables whose content hash was recomputed and matched.
    pub hashes_matched: usize,
    pub applied_versions: usize,
    /// Things checked only partly (e.g. a table of another release's schema: rows only).
    pub notes: Vec<String>,
}

/// The snapshot file: present, of the recorded size, with the recorded SHA-256.
pub fn check_file(dir: &Path, manifest: &Manifest) -> Result<PathBuf, BackupError> {
    checked(dir, manifest, None)
}

/// [`check_file`], copying the snapshot to `scratch` (0600, a new file) as it is read: one
/// read of it instead of two. Not fsynced: a scratch copy is thrown away.
fn check_file_into(dir: &Path, manifest: &Manifest, scratch: &Path) -> Result<(), BackupError> {
    checked(dir, manifest, Some(scratch)).map(drop)
}

fn checked(dir: &Path, manifest: &Manifest, copy: Option<&Path>) -> Result<PathBuf, BackupError> {
    let path = dir.join(&manifest.snapshot.file);
    let damaged = |what: String| BackupError::Damaged {
        id: manifest.id.clone(),
        what,
    };
    let read = match copy {
        None => hash::file_sha256(&path),
        Some(dest) => {
            use std::io::Write;
            let mut out = std::io::BufWriter::new(store::create_private_file(dest)?);
            let write = |e| BackupError::io("write the scratch copy", dest)(e);
            let read = hash::file_sha256_into(&path, |chunk| out.write_all(chunk).map_err(write))?;
            out.flush().map_err(write)?;
            read
        }
    };
    let (bytes, sha) = match read {
        Ok(found) => found,
        Err(e) => return Err(damaged(format!("cannot read {}: {e}", path.display()))),
    };
    if bytes != manifest.snapshot.bytes {
        return Err(damaged(format!(
            "{} is {bytes} bytes but the manifest records {}: the file is truncated or was changed",
            manifest.snapshot.file, manifest.snapshot.bytes
        )));
    }
    if sha != manifest.snapshot.sha256 {
        return Err(damaged(format!(
            "the SHA-256 of {} is {}, the manifest records {}: the file was changed or corrupted",
            manifest.snapshot.file,
            hash::short(&sha),
            hash::short(&manifest.snapshot.sha256)
        )));
    }
    Ok(path)
}

/// Compares a restored copy with the manifest; returns notes on what was only partly checked.
/// With `second`, the tables are hashed on two connections (see `hash_parallel`).
pub fn check_restored(
    conn: &mut DbConnection,
    manifest: &Manifest,
    second: Option<&Second>,
) -> Result<Vec<String>, BackupError> {
    let mismatch = |differences: Vec<String>| BackupError::Mismatch {
        id: manifest.id.clone(),
        differences,
    };
    let (problems, actual) = checks_and_digests(conn, second);
    let problems = problems?;
    if !problems.is_empty() {
        return Err(mismatch(problems));
    }
    let applied = migrations::status(conn)?.applied;
    let mut differences = Vec::new();
    if applied != manifest.applied_versions {
        differences.push(format!(
            "the restored copy has {} applied migration(s) up to {}, the manifest records {} up to {}",
            applied.len(),
            applied.last().map_or("(none)", String::as_str),
            manifest.applied_versions.len(),
            manifest.head()
        ));
    }
    let (diffs, notes) = hash::compare(&manifest.tables, &actual?);
    differences.extend(diffs);
    if differences.is_empty() {
        Ok(notes)
    } else {
        Err(mismatch(differences))
    }
}

type Digests = BTreeMap<String, TableDigest>;

/// SQLite's own checks (none on PostgreSQL) and every table's digest. The checks read every
/// b-tree once more (about a third of the hashing's time): with a second connection they run
/// beside the hashing, on a third one.
fn checks_and_digests(
    conn: &mut DbConnection,
    second: Option<&Second>,
) -> (
    Result<Vec<String>, BackupError>,
    Result<Digests, BackupError>,
) {
    match (&mut *conn, second) {
        (DbConnection::Sqlite(_), Some(second)) => std::thread::scope(|s| {
            let checking = s.spawn(|| match (second.open)()? {
                DbConnection::Sqlite(mut c) => snapshot_sqlite::engine_checks(&mut c),
                DbConnection::Pg(_) => unreachable!("another connection to a SQLite file"),
            });
            let actual = hash_parallel::digests(conn, Some(second));
            (checking.join().expect("the checks do not panic"), actual)
        }),
        (DbConnection::Sqlite(c), None) => match snapshot_sqlite::engine_checks(c) {
            Ok(problems) if problems.is_empty() => {
                (Ok(problems), hash_parallel::digests(conn, None))
            }
            problems => (problems, Ok(Digests::new())),
        },
        (DbConnection::Pg(_), _) => (Ok(Vec::new()), hash_parallel::digests(conn, second)),
    }
}

/// A temporary folder for scratch files, removed on drop (or, after a kill, by the next
/// backup's clean-up: it is named `.tmp-scratch<n>-<pid>`).
pub type ScratchDir = safe_fs::RemoveOnDrop;

/// A scratch folder inside `near` (the backups folder: same disk as the backups, rather than a
/// possibly small /tmp) when it can be created there, else in the system's temporary folder.
pub fn scratch_dir(near: &Path) -> Result<ScratchDir, BackupError> {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "{}scratch{}-{}",
        store::TEMP_PREFIX,
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::process::id()
    );
    let mut last = None;
    for base in [near.to_path_buf(), std::env::temp_dir()] {
        let dir = base.join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        match store::create_private_dir(&dir) {
            Ok(()) => return Ok(ScratchDir::new(dir)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("tried at least once"))
}

/// Verifies the plaintext backup in `dir` (an encrypted one needs [`verify_with`]). A
/// PostgreSQL backup needs a PostgreSQL server for its scratch database: `server` (the
/// configured database) must be one.
pub fn verify(dir: &Path, server: &DatabaseTarget) -> Result<VerifyReport, BackupError> {
    verify_with(dir, server, &Keys::default())
}

/// [`verify`], opening an encrypted snapshot with `keys.identity`.
pub fn verify_with(
    dir: &Path,
    server: &DatabaseTarget,
    keys: &Keys,
) -> Result<VerifyReport, BackupError> {
    verify_and(dir, server, keys, |_| Ok(())).map(|(report, ())| report)
}

/// [`verify_with`], then `inspect` on the restored scratch copy before it is removed (e.g. the
/// migration check `pre-deploy` runs on a downloaded backup).
pub fn verify_and<T>(
    dir: &Path,
    server: &DatabaseTarget,
    keys: &Keys,
    inspect: impl FnOnce(&mut DbConnection) -> Result<T, BackupError>,
) -> Result<(VerifyReport, T), BackupError> {
    let manifest = Manifest::read(dir)?;
    let root = dir.parent().unwrap_or(Path::new("."));
    let (notes, extra) = match manifest.backend {
        // An encrypted snapshot is opened in memory only: its plaintext never reaches a disk.
        Backend::Sqlite if manifest.snapshot.encryption.is_some() => {
            let snapshot = check_file(dir, &manifest)?;
            let mut image = Vec::new();
            encryption::open_snapshot(&snapshot, &manifest, keys)?
                .read_to_end(&mut image)
                .map_err(|e| encryption::unreadable(&manifest, e))?;
            let mut conn = DbConnection::Sqlite(snapshot_sqlite::open_in_memory(image)?);
            let notes = check_restored(&mut conn, &manifest, None)?;
            (notes, inspect(&mut conn)?)
        }
        Backend::Sqlite => {
            let scratch = scratch_dir(root)?;
            let copy = scratch.path().join("verify.db");
            check_file_into(dir, &manifest, &copy)?;
            let copy = DatabaseTarget::sqlite(&copy);
            let open = || Ok(db::establish(&copy)?);
            let second = Second::reopening(&open);
            let mut conn = db::establish(&copy)?;
            let notes = check_restored(&mut conn, &manifest, Some(&second))?;
            (notes, inspect(&mut conn)?)
        }
        Backend::Postgres => {
            let snapshot = check_file(dir, &manifest)?;
            if server.backend() != Backend::Postgres {
                return Err(BackupError::NeedsPostgres {
                    id: manifest.id.clone(),
                });
            }
            let source = encryption::open_snapshot(&snapshot, &manifest, keys)?;
            let scratch = snapshot_postgres::scratch_db(server, "verify")?;
            postgres_stream::restore_into(&scratch.target, source, |e| {
                encryption::unreadable(&manifest, e)
            })
            .map_err(|e| match e {
                e @ BackupError::Damaged { .. } => e,
                e => BackupError::Damaged {
                    id: manifest.id.clone(),
                    what: format!("it does not restore into a scratch database: {e}"),
                },
            })?;
            let open = || Ok(db::establish(&scratch.target)?);
            let second = Second::reopening(&open);
            let mut conn = db::establish(&scratch.target)?;
            let notes = check_restored(&mut conn, &manifest, Some(&second))?;
            let extra = inspect(&mut conn)?;
            drop(conn);
            (notes, extra)
        }
    };
    store::record_verified(root, Some(dir), &manifest);
    Ok((report(&manifest, notes), extra))
}

pub fn report(manifest: &Manifest, notes: Vec<String>) -> VerifyReport {
    VerifyReport {
        id: manifest.id.clone(),
        backend: manifest.backend,
        created_at: manifest.created_at.clone(),
        tables: manifest.tables.len(),
        rows: manifest.total_rows(),
        hashes_matched: manifest
            .tables
            .values()
            .filter(|t| t.sha256.is_some())
            .count()
            .saturating_sub(notes.len()),
        applied_versions: manifest.applied_versions.len(),
        notes,
    }
}
