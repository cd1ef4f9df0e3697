//! Where the migration trees are. A plain diesel project has one tree (`--migrations-dir`, or
//! diesel.toml's `[migrations_directory]`), used for whichever backend the database URL names;
//! a multi-backend project has a root holding any of `sqlite/` and `postgres/`
//! (`--migrations-root`, by default the repository's own `migrations/`). Commands work on the
//! trees that exist: lockstep is only ever required between trees that are there.

use std::path::{Path, PathBuf};

use anyhow::Context;
use db_conn::Backend;

use crate::project_root;

const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One plain diesel tree, for the database URL's backend.
    Single { dir: PathBuf },
    /// `sqlite/` and/or `postgres/` below `root`.
    Root { root: PathBuf },
}

/// One migration tree of a layout.
#[derive(Debug, Clone)]
pub struct Tree {
    pub backend: Backend,
    pub dir: PathBuf,
    /// The tree's path inside [`Layout::unit`] (empty for a single tree).
    pub rel: PathBuf,
    /// How reports name it: `sqlite`, `postgres`, or a single tree's folder name.
    pub label: String,
}

/// The `[migrations_directory]` table of a diesel.toml.
#[derive(serde::Deserialize)]
struct DieselToml {
    migrations_directory: Option<MigrationsDirectory>,
}

#[derive(serde::Deserialize)]
struct MigrationsDirectory {
    dir: PathBuf,
}

impl Layout {
    /// From the command line: `--migrations-dir`, else `--migrations-root`, else `--config-file`
    /// (a diesel.toml), else the repository's own root. Relative paths are the caller's.
    pub fn from_args(
        dir: Option<PathBuf>,
        root: Option<PathBuf>,
        config_file: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        if let Some(dir) = dir {
            return Ok(Self::Single { dir: cwd.join(dir) });
        }
        if let Some(root) = root {
            return Ok(Self::Root {
                root: cwd.join(root),
            });
        }
        if let Some(file) = config_file {
            return Self::from_diesel_toml(&cwd.join(file));
        }
        Ok(Self::Root {
            root: project_root().join("migrations"),
        })
    }

    /// diesel.toml's `[migrations_directory] dir`, relative to the file's folder as diesel reads it.
    fn from_diesel_toml(file: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(file).with_context(|| {
            format!(
                "cannot read {}: pass the project's diesel.toml",
                file.display()
            )
        })?;
        let parsed: DieselToml = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", file.display()))?;
        let dir = parsed.migrations_directory.with_context(|| {
            format!(
                "{} has no [migrations_directory] dir = \"...\": add it or pass --migrations-dir",
                file.display()
            )
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        Ok(Self::Single {
            dir: base.join(dir.dir),
        })
    }

    /// The folder that holds every tree: what consolidation backs up and swaps in one step.
    pub fn unit(&self) -> &Path {
        match self {
            Self::Single { dir } => dir,
            Self::Root { root } => root,
        }
    }

    /// True for the repository's own trees, the only ones `crates/pf-data/src/schema.rs` describes.
    pub fn is_repo(&self) -> bool {
        *self
            == Self::Root {
                root: project_root().join("migrations"),
            }
    }

    /// The tree a database of `backend` runs.
    pub fn tree(&self, backend: Backend) -> anyhow::Result<Tree> {
        match self {
            Self::Single { dir } => {
                anyhow::ensure!(
                    dir.is_dir(),
                    "no migration tree at {}: pass --migrations-dir DIR (a folder of <version>_<name>/up.sql)",
                    dir.display()
                );
                Ok(Tree {
                    backend,
                    dir: dir.clone(),
                    rel: PathBuf::new(),
                    label: dir
                        .file_name()
                        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into()),
                })
            }
            Self::Root { root } => {
                let name = backend.tree_name();
                let dir = root.join(name);
                anyhow::ensure!(
                    dir.is_dir(),
                    "{} has no {name}/ tree for this {name} database: add one, or pass --migrations-dir DIR for a one-tree project",
                    root.display()
                );
                Ok(Tree {
                    backend,
                    dir,
                    rel: PathBuf::from(name),
                    label: name.to_owned(),
                })
            }
        }
    }

    /// Every tree there is; a single tree counts as `single_backend`'s (the database URL's).
    pub fn trees(&self, single_backend: Backend) -> anyhow::Result<Vec<Tree>> {
        match self {
            Self::Single { .. } => Ok(vec![self.tree(single_backend)?]),
            Self::Root { root } => {
                let trees: Vec<Tree> = BACKENDS
                    .into_iter()
                    .filter(|b| root.join(b.tree_name()).is_dir())
                    .map(|b| self.tree(b))
                    .collect::<anyhow::Result<_>>()?;
                anyhow::ensure!(
                    !trees.is_empty(),
                    "{} holds neither sqlite/ nor postgres/: pass --migrations-dir DIR for a one-tree project",
                    root.display()
                );
                Ok(trees)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_offers_only_the_trees_it_has() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("postgres")).unwrap();
        let layout = Layout::Root {
            root: dir.path().to_path_buf(),
        };
        let trees = layout.trees(Backend::Sqlite).unwrap();
        assert_eq!(trees.len(), 1);
        assert_eq!(trees[0].backend, Backend::Postgres);
        let missing = layout.tree(Backend::Sqlite).unwrap_err().to_string();
        assert!(missing.contains("no sqlite/ tree"), "{missing}");
    }

    #[test]
    fn diesel_toml_names_one_tree_relative_to_itself() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("diesel.toml");
        std::fs::write(&toml, "[print_schema]\nfile = \"src/schema.rs\"\n\n[migrations_directory]\ndir = \"db/migrations\"\n").unwrap();
        let layout = Layout::from_args(None, None, Some(toml.clone())).unwrap();
        assert_eq!(
            layout,
            Layout::Single {
                dir: dir.path().join("db/migrations")
            }
        );
        std::fs::write(&toml, "[print_schema]\n").unwrap();
        let err = Layout::from_args(None, None, Some(toml)).unwrap_err();
        assert!(err.to_string().contains("[migrations_directory]"), "{err}");
    }
}
