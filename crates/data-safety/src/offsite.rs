//! What may leave the server: a backups folder every one of whose backups is complete and
//! encrypted, holding nothing else but small JSON records (counts, never rows). The deploy
//! workflow runs this check before it uploads the folder as an artifact.

use std::io::Read;
use std::path::Path;

use crate::manifest::{Manifest, MANIFEST_FILE};
use crate::store::VERIFIED_FILE;
use crate::BackupError;

/// The first bytes of every age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// A top-level JSON record larger than this is not a record of counts.
const MAX_RECORD: u64 = 1 << 20;

fn refuse(path: &Path, why: &str) -> BackupError {
    BackupError::Refused(format!(
        "{} {why}: nothing may leave the server unencrypted; take the backup with --encrypt-to (BACKUP_RECIPIENTS) or remove it from the folder",
        path.display()
    ))
}

fn starts_with_age(path: &Path) -> bool {
    let mut head = [0u8; AGE_MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == AGE_MAGIC)
}

/// Checks `root`; returns the ids of its (encrypted) backups. Refuses a folder with no backup.
pub fn check_folder(root: &Path) -> Result<Vec<String>, BackupError> {
    let entries = std::fs::read_dir(root).map_err(BackupError::io("read", root))?;
    let mut ids = Vec::new();
    for entry in entries {
        let path = entry.map_err(BackupError::io("read", root))?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::symlink_metadata(&path).map_err(BackupError::io("read", &path))?;
        if meta.is_file() {
            if !name.ends_with(".json") || meta.len() > MAX_RECORD {
                return Err(refuse(&path, "is not a backup"));
            }
            continue;
        }
        if !meta.is_dir() || name.starts_with('.') {
            return Err(refuse(&path, "is not a complete backup"));
        }
        ids.push(check_backup(&path)?);
    }
    if ids.is_empty() {
        return Err(BackupError::Refused(format!(
            "{} holds no backup: nothing to upload",
            root.display()
        )));
    }
    ids.sort();
    Ok(ids)
}

fn check_backup(dir: &Path) -> Result<String, BackupError> {
    let manifest = Manifest::read(dir).map_err(|_| refuse(dir, "is not a complete backup"))?;
    let snapshot = dir.join(&manifest.snapshot.file);
    if manifest.snapshot.encryption.is_none() || !starts_with_age(&snapshot) {
        return Err(refuse(&snapshot, "is not encrypted"));
    }
    let files = std::fs::read_dir(dir).map_err(BackupError::io("read", dir))?;
    for file in files {
        let path = file.map_err(BackupError::io("read", dir))?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if ![
            MANIFEST_FILE,
            VERIFIED_FILE,
            manifest.snapshot.file.as_str(),
        ]
        .contains(&name.as_str())
        {
            return Err(refuse(&path, "is not part of an encrypted backup"));
        }
    }
    Ok(manifest.id)
}
