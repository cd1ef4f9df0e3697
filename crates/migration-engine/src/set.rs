//! A migration tree as diesel reads it: `<version>_<name>/{up.sql, down.sql, metadata.toml}`,
//! from the files (xtask, in the repository) or embedded in the binary (production).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::MigrateError;

/// One migration folder as `build.rs` embeds it.
pub struct EmbeddedFile {
    pub folder: &'static str,
    pub up: &'static str,
    pub down: Option<&'static str>,
    pub metadata: Option<&'static str>,
    pub replaces: Option<&'static str>,
}

/// The file in a consolidated baseline's folder listing the folders it replaces. diesel reads
/// only up.sql, down.sql and metadata.toml, so it ignores this one.
pub const REPLACES_FILE: &str = "replaces.txt";
/// Where replaced chains are kept inside a tree: a dot-folder, which diesel ignores.
pub const ARCHIVE_DIR: &str = ".archive";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// diesel's version: the folder name up to the first `_`, dashes removed.
    pub version: String,
    pub folder: String,
    pub up: String,
    pub down: Option<String>,
    /// diesel's `metadata.toml` key; a file that omits it means false, as in diesel.
    pub run_in_transaction: bool,
    metadata: Option<String>,
    /// SHA-256 of the files, computed once (status compares it for every applied migration).
    checksum: String,
    /// For a consolidated baseline: the folders of the chain it replaces, oldest first.
    pub replaces: Vec<String>,
    /// Where the files are, for messages; None when embedded.
    pub dir: Option<PathBuf>,
}

impl Migration {
    pub fn new(
        folder: &str,
        up: String,
        down: Option<String>,
        metadata: Option<String>,
        replaces: Option<&str>,
        dir: Option<PathBuf>,
    ) -> Self {
        let run_in_transaction = match &metadata {
            None => true,
            Some(text) => text.lines().any(|l| {
                let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                l == "run_in_transaction=true"
            }),
        };
        let replaces: Vec<String> = replaces
            .map(|t| {
                t.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let checksum = checksum_of(&up, down.as_deref(), metadata.as_deref(), &replaces);
        Self {
            version: version_of(folder),
            folder: folder.to_owned(),
            up,
            down,
            run_in_transaction,
            metadata,
            checksum,
            replaces,
            dir,
        }
    }

    /// The part of the folder name after the version.
    pub fn name(&self) -> &str {
        self.folder.split_once('_').map_or("", |(_, n)| n)
    }

    /// SHA-256 over everything that decides what the migration does.
    pub fn checksum(&self) -> String {
        self.checksum.clone()
    }

    /// `migrations/<tree>/<folder>/up.sql` or the embedded name, for messages.
    pub fn up_path(&self) -> String {
        match &self.dir {
            Some(dir) => dir.join("up.sql").display().to_string(),
            None => format!("{}/up.sql (embedded)", self.folder),
        }
    }
}

/// SHA-256 over everything that decides what a migration does.
fn checksum_of(
    up: &str,
    down: Option<&str>,
    metadata: Option<&str>,
    replaces: &[String],
) -> String {
    let mut h = Sha256::new();
    let replaces = replaces.join("\n");
    let mut parts = vec![
        ("up.sql", Some(up)),
        ("down.sql", down),
        ("metadata.toml", metadata),
    ];
    // Only baselines have the list; leaving it out otherwise keeps older checksums valid.
    if !replaces.is_empty() {
        parts.push((REPLACES_FILE, Some(replaces.as_str())));
    }
    for (label, text) in parts {
        h.update(label.as_bytes());
        h.update([0]);
        if let Some(text) = text {
            h.update(text.as_bytes());
        }
        h.update([0]);
    }
    format!("{:x}", h.finalize())
}

/// `2024-03-01-090000_create_core_tables` -> `20240301090000`, as diesel computes it.
pub fn version_of(folder: &str) -> String {
    folder.split('_').next().unwrap_or(folder).replace('-', "")
}

/// Reads every migration folder directly inside `dir` (not the archive).
fn read_folders(dir: &Path) -> Result<Vec<Migration>, MigrateError> {
    let io = |e: std::io::Error| MigrateError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    let mut migrations = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_dir() || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let read = |file: &str| -> Result<Option<String>, MigrateError> {
            let p = path.join(file);
            match std::fs::read_to_string(&p) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(MigrateError::Io {
                    path: p.display().to_string(),
                    source: e,
                }),
            }
        };
        let up = read("up.sql")?.ok_or_else(|| MigrateError::MissingUpSql {
            folder: path.display().to_string(),
        })?;
        let replaces = read(REPLACES_FILE)?;
        migrations.push(Migration::new(
            &name,
            up,
            read("down.sql")?,
            read("metadata.toml")?,
            replaces.as_deref(),
            Some(path),
        ));
    }
    Ok(migrations)
}

/// A whole tree, ordered by version as diesel orders it (plain string order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationSet {
    pub migrations: Vec<Migration>,
    /// Migrations replaced by a consolidated baseline, from `.archive/*/`: run only to bring a
    /// database that is behind the baseline up to it.
    pub archive: Vec<Migration>,
}

impl MigrationSet {
    /// A tree compiled into a binary (an application's `build.rs` embeds its folders).
    pub fn from_embedded(files: &[EmbeddedFile], archive: &[EmbeddedFile]) -> Self {
        let load = |files: &[EmbeddedFile]| -> Vec<Migration> {
            files
                .iter()
                .map(|f| {
                    Migration::new(
                        f.folder,
                        f.up.to_owned(),
                        f.down.map(str::to_owned),
                        f.metadata.map(str::to_owned),
                        f.replaces,
                        None,
                    )
                })
                .collect()
        };
        Self::sorted(load(files), load(archive))
    }

    /// Reads a tree from disk with diesel's rules: plain files and dot-folders are ignored, a
    /// sub-folder without up.sql is an error.
    pub fn from_dir(dir: &Path) -> Result<Self, MigrateError> {
        let migrations = read_folders(dir)?;
        let mut archive = Vec::new();
        let archive_dir = dir.join(ARCHIVE_DIR);
        if archive_dir.is_dir() {
            for batch in std::fs::read_dir(&archive_dir).map_err(|e| MigrateError::Io {
                path: archive_dir.display().to_string(),
                source: e,
            })? {
                let batch = batch
                    .map_err(|e| MigrateError::Io {
                        path: archive_dir.display().to_string(),
                        source: e,
                    })?
                    .path();
                if batch.is_dir() {
                    archive.extend(read_folders(&batch)?);
                }
            }
        }
        Ok(Self::sorted(migrations, archive))
    }

    fn sorted(mut migrations: Vec<Migration>, mut archive: Vec<Migration>) -> Self {
        migrations.sort_by(|a, b| a.version.cmp(&b.version));
        archive.sort_by(|a, b| a.version.cmp(&b.version));
        Self {
            migrations,
            archive,
        }
    }

    pub fn head(&self) -> Option<&Migration> {
        self.migrations.last()
    }

    /// Finds a migration by diesel version (`20240301090000`), dashed version, folder or name.
    pub fn find(&self, key: &str) -> Option<&Migration> {
        let key = key.trim();
        let version = key.replace('-', "");
        self.migrations
            .iter()
            .find(|m| m.version == version || m.folder == key || m.name() == key)
    }

    /// Like [`find`](Self::find), also accepting `head`, failing with a hint.
    pub fn resolve(&self, key: &str) -> Result<&Migration, MigrateError> {
        let found = if key == "head" {
            self.head()
        } else {
            self.find(key)
        };
        found.ok_or_else(|| MigrateError::NoSuchVersion {
            given: key.to_owned(),
        })
    }

    /// The migrations that produced a database with these applied versions, in order: tree
    /// migrations, or archived ones for a database that reached a baseline through its chain.
    pub fn applied_chain(&self, applied: &[String]) -> Vec<&Migration> {
        let is_applied = |v: &str| applied.iter().any(|a| a == v);
        let via_chain = |m: &Migration| {
            m.replaces
                .iter()
                .map(|f| version_of(f))
                .any(|v| v != m.version && is_applied(&v))
        };
        let mut out: Vec<&Migration> = Vec::new();
        for version in applied {
            let in_tree = self.migrations.iter().find(|m| &m.version == version);
            let archived = self.archive.iter().find(|m| &m.version == version);
            let chosen = match (in_tree, archived) {
                (Some(m), Some(a)) if via_chain(m) => Some(a),
                (Some(m), _) => Some(m),
                (None, Some(a)) => Some(a),
                (None, None) => None,
            };
            out.extend(chosen);
        }
        out.sort_by(|a, b| a.version.cmp(&b.version));
        out
    }

    /// One hash over every migration's version and checksum, in order (like atlas.sum's).
    pub fn chain_hash(&self) -> String {
        let mut h = Sha256::new();
        for m in &self.migrations {
            h.update(format!("{} {}\n", m.folder, m.checksum()).as_bytes());
        }
        format!("{:x}", h.finalize())
    }
}
