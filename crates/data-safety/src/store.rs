//! The backups folder: ids, listing, and how a backup appears. A backup is built in a
//! dot-named temporary folder, every file fsynced, then renamed to its final name and the
//! parent fsynced: a backup is never visible under its final name until complete, and a killed
//! one leaves only a temporary folder that listings skip and the next backup removes.
//! Folders are 0700 and files 0600 whatever the umask (they hold every row of the database).

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::manifest::{Manifest, MANIFEST_FILE};
use crate::BackupError;

pub const TEMP_PREFIX: &str = ".tmp-";
pub const DELETING_PREFIX: &str = ".deleting-";
pub const VERIFIED_FILE: &str = "verified.json";
pub const LAST_VERIFIED_FILE: &str = "last-verified.json";

/// `BACKUPS_DIR`, else `backups` in the working directory.
pub fn default_dir() -> PathBuf {
    std::env::var_os("BACKUPS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("backups"))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Makes a file 0600 (the umask cannot widen what `set_permissions` sets).
pub fn make_private_file(path: &Path) -> Result<(), BackupError> {
    set_mode(path, 0o600).map_err(BackupError::io("set permissions on", path))
}

/// Creates `dir` (and missing parents) with every folder it creates 0700.
pub fn create_private_dir(dir: &Path) -> Result<(), BackupError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => set_mode(dir, 0o700).map_err(BackupError::io("set permissions on", dir)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(BackupError::io("create the folder", dir)(e)),
    }
}

/// A new file, 0600 from its first byte.
pub fn create_private_file(path: &Path) -> Result<File, BackupError> {
    let file = safe_fs::create_new(path, safe_fs::Access::Private)
        .map_err(BackupError::io("create", path))?;
    make_private_file(path)?;
    Ok(file)
}

pub fn fsync_file(path: &Path) -> Result<(), BackupError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(BackupError::io("fsync", path))
}

pub fn fsync_dir(dir: &Path) -> Result<(), BackupError> {
    safe_fs::fsync_dir(dir).map_err(BackupError::io("fsync the folder", dir))
}

/// Writes a small file atomically (temporary name, fsync, rename, fsync of the folder), 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    safe_fs::write_atomic(path, bytes, safe_fs::Access::Private)
        .map_err(BackupError::io("write", path))
}

/// A backup being built: a temporary folder beside its final name, removed when dropped
/// unless published.
pub struct Staging {
    pub dir: PathBuf,
    pub final_dir: PathBuf,
    published: bool,
}

impl Staging {
    /// A fresh temporary folder under `root` for the backup `id`.
    pub fn new(root: &Path, id: &str) -> Result<Self, BackupError> {
        Self::for_final(&root.join(id))
    }

    /// A fresh temporary folder beside `final_dir`, renamed to it by [`Self::publish`].
    pub fn for_final(final_dir: &Path) -> Result<Self, BackupError> {
        let root = final_dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let id = final_dir.file_name().unwrap_or_default().to_string_lossy();
        create_private_dir(root)?;
        remove_stale(root);
        let dir = root.join(format!("{TEMP_PREFIX}{id}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(BackupError::io("remove", &dir))?;
        }
        create_private_dir(&dir)?;
        Ok(Self {
            dir,
            final_dir: final_dir.to_path_buf(),
            published: false,
        })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// fsyncs every file and the folder, then renames it to its final name.
    pub fn publish(mut self) -> Result<PathBuf, BackupError> {
        for entry in std::fs::read_dir(&self.dir).map_err(BackupError::io("read", &self.dir))? {
            let path = entry.map_err(BackupError::io("read", &self.dir))?.path();
            make_private_file(&path)?;
            fsync_file(&path)?;
        }
        fsync_dir(&self.dir)?;
        if self.final_dir.exists() {
            return Err(BackupError::Refused(format!(
                "{} already exists: a backup is never overwritten; try again in a second",
                self.final_dir.display()
            )));
        }
        std::fs::rename(&self.dir, &self.final_dir)
            .map_err(BackupError::io("rename into place", &self.final_dir))?;
        fsync_dir(self.final_dir.parent().unwrap_or(Path::new(".")))?;
        self.published = true;
        Ok(self.final_dir.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

use safe_fs::process_alive;

/// Removes temporary folders left by killed backups (their process is gone) and half-deleted
/// backups of an interrupted prune.
pub fn remove_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // `.tmp-<what>-<pid>`: the last dash-separated part names the process.
        let stale = if let Some(rest) = name.strip_prefix(TEMP_PREFIX) {
            rest.rsplit('-')
                .next()
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| pid != std::process::id() && !process_alive(pid))
        } else {
            name.starts_with(DELETING_PREFIX)
        };
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// `<database>_<YYYYMMDD_HHMMSS>`, with `_2`, `_3`, ... when that name is taken.
pub fn new_id(root: &Path, database: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let clean: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = format!("{clean}_{}", at.format("%Y%m%d_%H%M%S"));
    let taken = |id: &str| {
        root.join(id).exists()
            || std::fs::read_dir(root).is_ok_and(|entries| {
                entries.flatten().any(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(&format!("{TEMP_PREFIX}{id}-"))
                })
            })
    };
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|id| !taken(id))
        .expect("an unused id")
}

/// When and by what a backup was last verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedRecord {
    pub id: String,
    pub created_at: String,
    pub verified_at: String,
    pub backend: db_conn::Backend,
    pub rows: u64,
}

/// Notes a successful verification beside the backup and as the folder's latest.
pub fn record_verified(root: &Path, backup_dir: Option<&Path>, manifest: &Manifest) {
    let record = VerifiedRecord {
        id: manifest.id.clone(),
        created_at: manifest.created_at.clone(),
        verified_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        backend: manifest.backend,
        rows: manifest.total_rows(),
    };
    let Ok(bytes) = serde_json::to_vec_pretty(&record) else {
        return;
    };
    // Best effort: a read-only backup folder still verified.
    if let Some(dir) = backup_dir {
        let _ = write_atomic(&dir.join(VERIFIED_FILE), &bytes);
    }
    let newer = last_verified(root).is_none_or(|last| last.created_at <= record.created_at);
    if newer && create_private_dir(root).is_ok() {
        let _ = write_atomic(&root.join(LAST_VERIFIED_FILE), &bytes);
    }
}

/// The most recent backup verified from this folder (`/health/data` shows it).
pub fn last_verified(root: &Path) -> Option<VerifiedRecord> {
    let text = std::fs::read_to_string(root.join(LAST_VERIFIED_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// One folder of the backups folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub id: String,
    pub path: PathBuf,
    pub manifest: Option<Manifest>,
    /// Why the folder is not a readable backup.
    pub problem: Option<String>,
    pub verified: Option<VerifiedRecord>,
    pub bytes: u64,
}

/// Every backup folder under `root`, oldest first (temporary folders skipped).
pub fn list(root: &Path) -> Result<Vec<Listed>, BackupError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(BackupError::io("read the backups folder", root)(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') || !path.is_dir() {
            continue;
        }
        // Folders of other tools (e.g. migration-file backups) have no backup manifest.
        if !path.join(MANIFEST_FILE).exists() {
            continue;
        }
        let (manifest, problem) = match Manifest::read(&path) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let verified = std::fs::read_to_string(path.join(VERIFIED_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let bytes = std::fs::read_dir(&path)
            .map(|files| {
                files
                    .flatten()
                    .filter_map(|f| f.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        out.push(Listed {
            id: name,
            path,
            manifest,
            problem,
            verified,
            bytes,
        });
    }
    out.sort_by(|a, b| {
        let key = |l: &Listed| {
            (
                l.manifest
                    .as_ref()
                    .map(|m| m.created_at.clone())
                    .unwrap_or_default(),
                l.id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(out)
}

/// A backup named by id (a folder of `root`), `latest`, or a path to a backup folder.
pub fn resolve(root: &Path, reference: &str) -> Result<PathBuf, BackupError> {
    let as_path = Path::new(reference);
    if as_path.join(MANIFEST_FILE).exists() {
        return Ok(as_path.to_path_buf());
    }
    if reference == "latest" {
        if let Some(last) = list(root)?.into_iter().rev().find(|l| l.manifest.is_some()) {
            return Ok(last.path);
        }
    } else if !reference.contains(['/', '\\']) && !reference.starts_with('.') {
        let dir = root.join(reference);
        if dir.is_dir() {
            return Ok(dir);
        }
    }
    if as_path.is_dir() {
        // A folder without a manifest: say so rather than "not found".
        return Ok(as_path.to_path_buf());
    }
    Err(BackupError::NotFound {
        reference: reference.to_owned(),
        dir: root.display().to_string(),
    })
}

/// Deletes a backup so that a kill halfway never leaves a partial folder under its name:
/// renamed to a dot-name first, then removed.
pub fn delete(path: &Path) -> Result<(), BackupError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let parent = path.parent().unwrap_or(Path::new("."));
    let doomed = parent.join(format!("{DELETING_PREFIX}{name}"));
    std::fs::rename(path, &doomed).map_err(BackupError::io("delete", path))?;
    fsync_dir(parent)?;
    std::fs::remove_dir_all(&doomed).map_err(BackupError::io("delete", &doomed))
}

/// Where the `backend` binary (its commands and the running service) keeps backups:
/// `BACKUPS_DIR`, else beside a SQLite database (`<its folder>/backups`, on the same volume),
/// else `backups` in the working directory.
pub fn dir_for(target: &db_conn::DatabaseTarget) -> PathBuf {
    if let Some(dir) = std::env::var_os("BACKUPS_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    match target.sqlite_path().and_then(|p| p.parent()) {
        Some(folder) if !folder.as_os_str().is_empty() => folder.join("backups"),
        _ => PathBuf::from("backups"),
    }
}
