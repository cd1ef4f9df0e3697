//! The checksum file of a tree (`migrations/<tree>/migrations.sum`, which diesel ignores as a
//! plain file): SHA-256 per migration plus a chain hash, like Atlas's atlas.sum. `create` and
//! `check --fix` rewrite it; `check` and CI verify it.

use std::path::{Path, PathBuf};

use crate::MigrationSet;

pub const FILE_NAME: &str = "migrations.sum";

pub fn path(tree_dir: &Path) -> PathBuf {
    tree_dir.join(FILE_NAME)
}

pub fn render(set: &MigrationSet) -> String {
    let mut out = String::from("# Checksums of this migration tree. Rewritten by `cargo xtask check --fix` and `cargo xtask create`.\n");
    out.push_str(&format!("chain {}\n", set.chain_hash()));
    for m in &set.migrations {
        out.push_str(&format!("{} {}\n", m.folder, m.checksum()));
    }
    for m in &set.archive {
        out.push_str(&format!("archive/{} {}\n", m.folder, m.checksum()));
    }
    out
}

/// Differences between the file and the tree; empty when current.
pub fn verify(tree_dir: &Path, set: &MigrationSet) -> Vec<String> {
    let file = path(tree_dir);
    let Ok(text) = std::fs::read_to_string(&file) else {
        return vec![format!(
            "{} is missing: run `cargo xtask check --fix`",
            file.display()
        )];
    };
    let mut problems = Vec::new();
    let mut listed = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let Some((key, sum)) = line.split_once(' ') else {
            problems.push(format!("{}: unreadable line `{line}`", file.display()));
            continue;
        };
        if key == "chain" {
            if sum != set.chain_hash() {
                problems.push(format!(
                    "{}: chain hash differs (a migration was added, removed, reordered or edited)",
                    file.display()
                ));
            }
            continue;
        }
        listed.push(key.to_owned());
        let found = match key.strip_prefix("archive/") {
            Some(folder) => set.archive.iter().find(|m| m.folder == folder),
            None => set.migrations.iter().find(|m| m.folder == key),
        };
        match found {
            None => problems.push(format!(
                "{}: lists {key}, which no longer exists",
                file.display()
            )),
            Some(m) if m.checksum() != sum => problems.push(format!(
                "{key} was edited: {} records {sum}, the files now hash to {}",
                file.display(),
                m.checksum()
            )),
            Some(_) => {}
        }
    }
    for m in set
        .migrations
        .iter()
        .filter(|m| !listed.contains(&m.folder))
    {
        problems.push(format!("{} is not in {}", m.folder, file.display()));
    }
    if !problems.is_empty() {
        problems.push(
            "if these changes are intended, run `cargo xtask check --fix` and commit the file"
                .into(),
        );
    }
    problems
}

/// Rewrites the file atomically: a killed writer leaves the old file whole.
pub fn write(tree_dir: &Path, set: &MigrationSet) -> std::io::Result<()> {
    safe_fs::write_atomic(
        &path(tree_dir),
        render(set).as_bytes(),
        safe_fs::Access::Shared,
    )
}
