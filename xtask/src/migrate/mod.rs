//! The day-to-day migration commands (`status`, `apply`, `create`, ...), thin over
//! `migration_engine`, which the backend's own startup uses too.

pub mod adopt;
pub mod apply;
pub mod check;
pub mod create;
mod destructive;
pub mod history;
pub mod pgscratch;
pub mod reset;
pub mod sql;
pub mod stamp;
pub mod status;

use anyhow::Context;
use db_conn::DatabaseTarget;
use db_conn::{self as db, DbConnection};
use migration_engine::MigrationSet;

use crate::Ctx;

/// The tree for `target`'s backend, read from the repository.
pub fn tree(ctx: &Ctx, target: &DatabaseTarget) -> anyhow::Result<MigrationSet> {
    let dir = ctx.tree(target)?.dir;
    MigrationSet::from_dir(&dir)
        .with_context(|| format!("cannot read the migration tree {}", dir.display()))
}

/// A connection that may create the database (commands that write).
pub fn connect(ctx: &mut Ctx, target: &DatabaseTarget) -> anyhow::Result<DbConnection> {
    ctx.report.say(&format!(
        "    database: {} ({})",
        target.display(),
        target.backend_name()
    ));
    Ok(db::establish(target)?)
}

/// A connection that changes nothing; `None` for a SQLite file that does not exist yet.
pub fn connect_read_only(
    ctx: &mut Ctx,
    target: &DatabaseTarget,
) -> anyhow::Result<Option<DbConnection>> {
    ctx.report.say(&format!(
        "    database: {} ({})",
        target.display(),
        target.backend_name()
    ));
    Ok(db::establish_read_only(target)?)
}

/// `--to V` / `--steps N` as the library's target.
#[derive(clap::Args, Debug, Clone)]
pub struct TargetArgs {
    /// Stop at this version (diesel version, dashed version, folder or name)
    #[arg(long, conflicts_with = "steps")]
    pub to: Option<String>,
    /// Run this many migrations
    #[arg(long)]
    pub steps: Option<usize>,
}

impl TargetArgs {
    pub fn target(&self, default: migration_engine::Target) -> migration_engine::Target {
        match (&self.to, self.steps) {
            (Some(v), _) => migration_engine::Target::To(v.clone()),
            (None, Some(n)) => migration_engine::Target::Steps(n),
            (None, None) => default,
        }
    }
}
