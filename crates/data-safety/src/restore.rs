//! `restore`: verify first, refuse a backup newer than this code's migrations, back up the
//! current state, then put the backup in place atomically; a kill at any moment leaves either
//! the old or the new database, whole.
//!
//! SQLite: the snapshot is copied beside the database file and verified there, then renamed
//! over it when no other process has the database open; while one does (the service is
//! running), the content is replaced in one transaction instead, so the service never keeps
//! writing to a file that was renamed away. PostgreSQL: one transaction (see
//! `postgres_stream::restore_in_transaction`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hash_parallel::{self, Second};
use crate::manifest::Manifest;
use crate::{encryption, hash, postgres_stream, snapshot_sqlite, store, verify};
use crate::{BackupError, CreateOptions, Keys};
use db_conn::DatabaseTarget;
use db_conn::{self as db};
use migration_engine::{version_of, MigrationSet};
use pf_data::migrations;

/// How a SQLite restore may swap the database in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapMode {
    /// Rename the verified copy over the file when nobody else has it open, else a transaction.
    Auto,
    /// Always one transaction (the running service restores this way).
    Transaction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub restored: String,
    pub created_at: String,
    pub rows: u64,
    /// The backup of the state before the restore, when there was a database.
    pub safety_backup: Option<String>,
    /// `rename` or `transaction`.
    pub method: String,
}

/// Every version `set` can have applied: its migrations, and those a consolidated baseline
/// replaced.
pub fn known_versions(set: &MigrationSet) -> (BTreeSet<String>, String) {
    let mut known: BTreeSet<String> = set.migrations.iter().map(|m| m.version.clone()).collect();
    known.extend(
        set.migrations
            .iter()
            .flat_map(|m| m.replaces.iter().map(|f| version_of(f))),
    );
    known.extend(set.archive.iter().map(|m| m.version.clone()));
    let head = set.head().map(|m| m.folder.clone()).unwrap_or_default();
    (known, head)
}

/// Refuses a backup taken at migrations `history` does not know (a newer release's).
pub fn refuse_newer(manifest: &Manifest, history: &MigrationSet) -> Result<(), BackupError> {
    let (known, head) = known_versions(history);
    let unknown: Vec<String> = manifest
        .applied_versions
        .iter()
        .filter(|v| !known.contains(*v))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(BackupError::NewerThanCode {
            id: manifest.id.clone(),
            unknown,
            head,
        })
    }
}

fn staged_path(db: &Path) -> PathBuf {
    let name = db.file_name().unwrap_or_default().to_string_lossy();
    db.with_file_name(format!(".{name}.restore-{}.tmp", std::process::id()))
}

/// Copies left beside the database by restores that were killed.
fn remove_stale_staged(db: &Path) {
    let name = db
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let prefix = format!(".{name}.restore-");
    let folder = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('.').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !safe_fs::process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Restores the backup in `dir` into `target`; the safety backup goes to `backups_dir`. A
/// backup taken at migrations this code's own history does not know is refused.
pub fn restore(
    target: &DatabaseTarget,
    backups_dir: &Path,
    dir: &Path,
    mode: SwapMode,
) -> Result<RestoreReport, BackupError> {
    let history = pf_data::migrations::embedded(target.backend());
    restore_with(target, backups_dir, dir, mode, history, &Keys::default())
}

/// [`restore`] against another migration history (a project's own tree: a backup taken at
/// migrations `history` does not know is refused), opening an encrypted snapshot with
/// `keys.identity`. The safety backup is encrypted to `keys.recipients`, or, when the backup
/// restored is encrypted and no recipient is given, to the identity's own public keys.
pub fn restore_with(
    target: &DatabaseTarget,
    backups_dir: &Path,
    dir: &Path,
    mode: SwapMode,
    history: &MigrationSet,
    keys: &Keys,
) -> Result<RestoreReport, BackupError> {
    let manifest = Manifest::read(dir)?;
    if manifest.backend != target.backend() {
        return Err(BackupError::BackendMismatch {
            id: manifest.id.clone(),
            backup: manifest.backend.tree_name(),
            target: target.backend_name(),
        });
    }
    refuse_newer(&manifest, history)?;
    let job = Restoring {
        target,
        backups_dir,
        dir,
        snapshot: verify::check_file(dir, &manifest)?,
        safety: CreateOptions {
            note: Some(format!(
                "safety backup taken before restoring {}",
                manifest.id
            )),
            encrypt_to: keys.recipients.clone().or_else(|| {
                let sealed = manifest.snapshot.encryption.is_some();
                keys.identity
                    .as_ref()
                    .filter(|_| sealed)
                    .map(|i| i.recipients())
            }),
        },
        manifest: &manifest,
        keys,
    };
    let (safety, method) = match target {
        DatabaseTarget::Sqlite { path } => job.into_sqlite(path, mode)?,
        DatabaseTarget::Postgres { .. } => job.into_postgres()?,
    };
    let mut conn = db::establish(target)?;
    // A renamed-in file is the very copy whose every table was just verified: hashing it
    // again would read the same bytes twice. A transaction swap wrote new pages: check them.
    let open = || Ok(db::establish(target)?);
    let second = Second::reopening(&open);
    let rehash = (method != "rename").then_some(&second);
    check_matches(&mut conn, &manifest, safety.as_deref(), rehash)?;
    crate::marker::record(target, &mut conn);
    Ok(RestoreReport {
        restored: manifest.id.clone(),
        created_at: manifest.created_at.clone(),
        rows: manifest.total_rows(),
        safety_backup: safety,
        method: method.to_owned(),
    })
}

/// One restore under way: the checked backup and where its safety backup goes.
struct Restoring<'a> {
    target: &'a DatabaseTarget,
    backups_dir: &'a Path,
    dir: &'a Path,
    manifest: &'a Manifest,
    snapshot: PathBuf,
    safety: CreateOptions,
    keys: &'a Keys,
}

impl Restoring<'_> {
    /// Verifies a private copy beside the database, backs the database up, then swaps the
    /// copy in by rename (nobody has it open) or inside one transaction.
    fn into_sqlite(
        self,
        path: &Path,
        mode: SwapMode,
    ) -> Result<(Option<String>, &'static str), BackupError> {
        let folder = safe_fs::folder_of(path);
        std::fs::create_dir_all(folder).map_err(BackupError::io("create the folder", folder))?;
        remove_stale_staged(path);
        let staged = staged_path(path);
        let cleanup = StagedFile(staged.clone());
        encryption::materialize(&self.snapshot, self.manifest, self.keys, &staged)?;
        // Verification, on the very copy that will become the database.
        let verification = || {
            let copy = DatabaseTarget::sqlite(&staged);
            let open = || Ok(db::establish(&copy)?);
            let second = Second::reopening(&open);
            let mut conn = db::establish(&copy)?;
            verify::check_restored(&mut conn, self.manifest, Some(&second)).map(drop)
        };
        let safety_backup = || {
            if !path.is_file() {
                return Ok(None);
            }
            Ok(Some(
                match crate::create_with(self.target, self.backups_dir, &self.safety) {
                    Ok(info) => info.id,
                    // A database too damaged to back up is what restores are for: keep its
                    // files as they are instead, then go on.
                    Err(e) => raw_copy(path, self.backups_dir, &e)?,
                },
            ))
        };
        let safety = verified_with_safety(self.backups_dir, verification, safety_backup)?;
        store::record_verified(
            self.dir.parent().unwrap_or(Path::new(".")),
            Some(self.dir),
            self.manifest,
        );
        let renameable = mode == SwapMode::Auto
            && !snapshot_sqlite::in_use_after_checkpoint(path).unwrap_or(true)
            && snapshot_sqlite::same_owner_and_mode(path, &staged);
        let method = if renameable {
            snapshot_sqlite::remove_sidecars(path)?;
            snapshot_sqlite::replace_by_rename(path, &staged)?;
            "rename"
        } else {
            let mut conn = db::establish(self.target)?;
            snapshot_sqlite::replace_in_transaction(&mut conn, &staged)?;
            "transaction"
        };
        drop(cleanup);
        Ok((safety, method))
    }

    /// Verifies into a scratch database, backs up, then restores in one transaction.
    fn into_postgres(self) -> Result<(Option<String>, &'static str), BackupError> {
        let safety = verified_with_safety(
            self.backups_dir,
            || verify::verify_with(self.dir, self.target, self.keys).map(drop),
            || {
                Ok(Some(
                    crate::create_with(self.target, self.backups_dir, &self.safety)?.id,
                ))
            },
        )?;
        let source = encryption::open_snapshot(&self.snapshot, self.manifest, self.keys)?;
        postgres_stream::restore_in_transaction(self.target, source, |e| {
            encryption::unreadable(self.manifest, e)
        })?;
        Ok((safety, "transaction"))
    }
}

/// Runs `verification` of the backup while `safety_backup` backs the database up: both only
/// read it, so side by side they take about as long as the longer one. When the backup fails
/// verification nothing is restored, and the safety backup taken for it is removed again.
fn verified_with_safety(
    backups_dir: &Path,
    verification: impl FnOnce() -> Result<(), BackupError> + Send,
    safety_backup: impl FnOnce() -> Result<Option<String>, BackupError> + Send,
) -> Result<Option<String>, BackupError> {
    let (verified, safety) = std::thread::scope(|s| {
        let backing_up = s.spawn(safety_backup);
        let verified = verification();
        (
            verified,
            backing_up.join().expect("the safety backup does not panic"),
        )
    });
    if let Err(e) = verified {
        if let Ok(Some(id)) = &safety {
            let _ = store::delete(&backups_dir.join(id));
        }
        return Err(e);
    }
    safety
}

/// The database now holds what the manifest says, or the restore is reported as failed
/// (naming the safety backup that holds the state before it).
/// Without `rehash` only the applied migrations are compared (the content was verified on
/// the very file now in place).
fn check_matches(
    conn: &mut db_conn::DbConnection,
    manifest: &Manifest,
    safety: Option<&str>,
    rehash: Option<&Second>,
) -> Result<(), BackupError> {
    let applied = migrations::status(conn)?.applied;
    let mut differences = match rehash {
        Some(second) => {
            let actual = hash_parallel::digests(conn, Some(second))?;
            hash::compare(&manifest.tables, &actual).0
        }
        None => Vec::new(),
    };
    if applied != manifest.applied_versions {
        differences.push("the applied migrations differ from the manifest's".into());
    }
    if differences.is_empty() {
        return Ok(());
    }
    Err(BackupError::Refused(format!(
        "the restored database does not match backup {}: {}; the state before the restore is in backup {}",
        manifest.id,
        differences.join("; "),
        safety.unwrap_or("(none: there was no database)")
    )))
}

/// Copies the files of a SQLite database that cannot be backed up (e.g. it is damaged) into
/// `<backups>/<name>_<stamp>_unreadable/`, as they are; returns that folder's name.
fn raw_copy(db: &Path, backups_dir: &Path, why: &BackupError) -> Result<String, BackupError> {
    let name = format!(
        "{}_{}_unreadable",
        db.file_stem().unwrap_or_default().to_string_lossy(),
        chrono::Utc::now().format("%Y%m%d_%H%M%S")
    );
    let staging = store::Staging::new(backups_dir, &name)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut from = db.as_os_str().to_owned();
        from.push(suffix);
        let from = PathBuf::from(from);
        if from.is_file() {
            let file = format!(
                "{}{suffix}",
                db.file_name().unwrap_or_default().to_string_lossy()
            );
            snapshot_sqlite::copy_private(&from, &staging.file(&file))?;
        }
    }
    let note = format!("the database could not be backed up ({why}); these are its files as they were, before a restore replaced them\n");
    std::fs::write(staging.file("README.txt"), note)
        .map_err(BackupError::io("write", &staging.dir))?;
    staging.publish()?;
    tracing::warn!(folder = %name, error = %why, "the database could not be backed up before the restore: its files were copied as they are");
    Ok(name)
}

/// Removes the staged copy on every exit path (after a rename it is already gone).
struct StagedFile(PathBuf);

impl Drop for StagedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        for suffix in ["-wal", "-shm"] {
            let mut side = self.0.clone().into_os_string();
            side.push(suffix);
            let _ = std::fs::remove_file(side);
        }
    }
}
