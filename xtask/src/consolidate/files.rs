//! The migration files' side of consolidation: a verified copy before anything changes, the
//! new trees built beside the old ones, and one atomic exchange (renameat2 RENAME_EXCHANGE),
//! so a kill at any moment leaves either the old trees or the new ones, whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use migration_engine::{sumfile, Migration, MigrationSet, ARCHIVE_DIR, REPLACES_FILE};
use sha2::{Digest, Sha256};

use super::squash::Baseline;

pub const MANIFEST: &str = "manifest.json";

fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Relative path -> SHA-256 of every file under `dir`.
pub fn checksums(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for f in files_under(dir)? {
        let rel = f
            .strip_prefix(dir)
            .expect("under dir")
            .display()
            .to_string();
        out.insert(rel, sha256_file(&f)?);
    }
    Ok(out)
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for f in files_under(from)? {
        let dest = to.join(f.strip_prefix(from).expect("under from"));
        std::fs::create_dir_all(dest.parent().expect("has parent"))?;
        std::fs::copy(&f, &dest)
            .with_context(|| format!("cannot copy {} to {}", f.display(), dest.display()))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Step 2: copies the migrations folder to `backups/migrations_<stamp>/` with a manifest of
/// checksums, verified after the copy. Written under a temporary name, then renamed.
pub fn back_up(
    root: &Path,
    backups: &Path,
    stamp: &str,
    data_backup: Option<&str>,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(backups)
        .with_context(|| format!("cannot create {}", backups.display()))?;
    let final_dir = backups.join(format!("migrations_{stamp}"));
    anyhow::ensure!(
        !final_dir.exists(),
        "{} already exists",
        final_dir.display()
    );
    let tmp = backups.join(format!(".migrations_{stamp}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_tree(root, &tmp.join("migrations"))?;
    let sums = checksums(root)?;
    anyhow::ensure!(
        checksums(&tmp.join("migrations"))? == sums,
        "the copy of {} does not match the original",
        root.display()
    );
    let manifest = serde_json::json!({
        "created_at": chrono::Utc::now().to_rfc3339(), "source": root.display().to_string(),
        "data_backup": data_backup, "files": sums,
    });
    std::fs::write(tmp.join(MANIFEST), serde_json::to_string_pretty(&manifest)?)?;
    std::fs::rename(&tmp, &final_dir)?;
    sync_dir(backups);
    Ok(final_dir)
}

/// Checks a files backup against its manifest; returns the manifest.
pub fn verify_backup(backup: &Path) -> anyhow::Result<serde_json::Value> {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(backup.join(MANIFEST)).with_context(|| {
            format!(
                "{} has no {MANIFEST}: not a migrations backup",
                backup.display()
            )
        })?,
    )?;
    let expected: BTreeMap<String, String> =
        serde_json::from_value(manifest["files"].clone()).context("manifest without files")?;
    let actual = checksums(&backup.join("migrations"))?;
    anyhow::ensure!(
        actual == expected,
        "{} does not match its manifest: the backup is damaged",
        backup.display()
    );
    Ok(manifest)
}

/// The new trees, built in `.<root>.consolidating` beside `root`: the first `count` migrations
/// of each tree (at its path inside `root`, empty for a single tree) move to
/// `.archive/<stamp>/`, and the baseline takes their place.
pub fn build(
    root: &Path,
    stamp: &str,
    count: usize,
    baselines: &[(&Path, &MigrationSet, &Baseline)],
) -> anyhow::Result<PathBuf> {
    let staging = staging_dir(root);
    let _ = std::fs::remove_dir_all(&staging);
    copy_tree(root, &staging)?;
    for (tree, set, baseline) in baselines {
        let dir = staging.join(tree);
        let replaced: Vec<&Migration> = set.migrations.iter().take(count).collect();
        let last = replaced.last().context("nothing to consolidate")?;
        let archive = dir.join(ARCHIVE_DIR).join(stamp);
        std::fs::create_dir_all(&archive)?;
        for m in &replaced {
            std::fs::rename(dir.join(&m.folder), archive.join(&m.folder))?;
        }
        let version = last.folder.split('_').next().unwrap_or_default();
        let folder = dir.join(format!("{version}_consolidated_baseline"));
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join("up.sql"), &baseline.up)?;
        std::fs::write(folder.join("down.sql"), &baseline.down)?;
        let list: Vec<&str> = replaced.iter().map(|m| m.folder.as_str()).collect();
        std::fs::write(folder.join(REPLACES_FILE), format!("# The migrations this baseline replaces, oldest first (kept in {ARCHIVE_DIR}/{stamp}/).\n{}\n", list.join("\n")))?;
        let new_set = MigrationSet::from_dir(&dir)?;
        sumfile::write(&dir, &new_set)?;
    }
    Ok(staging)
}

pub fn staging_dir(root: &Path) -> PathBuf {
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "migrations".into());
    root.with_file_name(format!(".{name}.consolidating"))
}

/// Swaps `staging` and `root` in one atomic step, then removes what was `root`.
pub fn exchange(root: &Path, staging: &Path) -> anyhow::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        staging,
        rustix::fs::CWD,
        root,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .with_context(|| format!("cannot swap {} into place atomically", staging.display()))?;
    sync_dir(root.parent().unwrap_or(Path::new(".")));
    data_safety::fault::pause(data_safety::fault::FaultPoint::AfterExchange);
    std::fs::remove_dir_all(staging)
        .with_context(|| format!("cannot remove the old trees at {}", staging.display()))?;
    Ok(())
}

/// Puts the trees of a files backup back in place, atomically.
pub fn restore(root: &Path, backup: &Path) -> anyhow::Result<()> {
    verify_backup(backup)?;
    let staging = staging_dir(root);
    let _ = std::fs::remove_dir_all(&staging);
    copy_tree(&backup.join("migrations"), &staging)?;
    exchange(root, &staging)
}
