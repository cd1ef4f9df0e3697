//! What every command gets: the database it works on, where the migration trees live, and
//! the reporter.

use std::path::{Path, PathBuf};

use db_conn::DatabaseTarget;

use crate::report::{Output, Reporter};

pub struct Ctx {
    database_url: Option<String>,
    migrations_root: PathBuf,
    pub report: Reporter,
}

impl Ctx {
    pub fn new(
        database_url: Option<String>,
        migrations_root: Option<PathBuf>,
        command: &str,
        output: Output,
    ) -> Self {
        Self {
            database_url,
            migrations_root: migrations_root.unwrap_or_else(|| project_root().join("migrations")),
            report: Reporter::new(command, output),
        }
    }

    /// `--database-url`, else `DATABASE_URL`, else the SQLite default (relative to the repo).
    pub fn target(&self) -> anyhow::Result<DatabaseTarget> {
        Ok(DatabaseTarget::resolve(self.database_url.as_deref())?)
    }

    /// The migration tree for `target`'s backend, e.g. `<root>/sqlite`.
    pub fn tree_dir(&self, target: &DatabaseTarget) -> PathBuf {
        self.migrations_root.join(target.backend_name())
    }

    pub fn migrations_root(&self) -> &Path {
        &self.migrations_root
    }

    /// True when working on the repository's own trees (no `--migrations-root` elsewhere), the
    /// only trees `crates/pf-data/src/schema.rs` describes.
    pub fn uses_repo_trees(&self) -> bool {
        self.migrations_root == project_root().join("migrations")
    }
}

/// The workspace root, wherever cargo was invoked from.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
