//! What every command gets: the database it works on, where the migration trees live, and
//! the reporter.

use std::path::{Path, PathBuf};

use db_conn::DatabaseTarget;

use crate::layout::{Layout, Tree};
use crate::report::{Output, Reporter};

pub struct Ctx {
    database_url: Option<String>,
    pub layout: Layout,
    pub report: Reporter,
}

impl Ctx {
    pub fn new(
        database_url: Option<String>,
        layout: Layout,
        command: &str,
        output: Output,
    ) -> Self {
        Self {
            database_url,
            layout,
            report: Reporter::new(command, output),
        }
    }

    /// `--database-url`, else `DATABASE_URL`, else the SQLite default (relative to the repo).
    pub fn target(&self) -> anyhow::Result<DatabaseTarget> {
        Ok(DatabaseTarget::resolve(self.database_url.as_deref())?)
    }

    /// The migration tree `target` runs, e.g. `<root>/sqlite` or the one `--migrations-dir`.
    pub fn tree(&self, target: &DatabaseTarget) -> anyhow::Result<Tree> {
        self.layout.tree(target.backend())
    }

    /// Every tree of the layout; a single tree is the database URL's backend's.
    pub fn trees(&self) -> anyhow::Result<Vec<Tree>> {
        self.layout.trees(self.target()?.backend())
    }

    /// True when working on the repository's own trees, the only trees
    /// `crates/pf-data/src/schema.rs` describes.
    pub fn uses_repo_trees(&self) -> bool {
        self.layout.is_repo()
    }
}

/// The workspace root, wherever cargo was invoked from.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
