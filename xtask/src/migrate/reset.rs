//! `cargo xtask reset`: drop everything and re-apply the whole history. Backs up first, and
//! refuses a database that is not on this machine unless forced.

use std::path::PathBuf;

use db_conn::DatabaseTarget;
use migration_engine::{wipe, Migrator, Target};
use xshell::Shell;

use crate::Ctx;

#[derive(clap::Args)]
pub struct ResetCmd {
    /// Reset a database that is not on this machine (a backup is still taken first)
    #[arg(long)]
    pub force: bool,
    /// Where the safety backup goes
    #[arg(long, default_value = "backups")]
    pub backups_dir: PathBuf,
}

/// SQLite files and PostgreSQL on loopback or a Unix socket count as local.
pub fn is_local(target: &DatabaseTarget) -> bool {
    match target {
        DatabaseTarget::Sqlite { .. } => true,
        DatabaseTarget::Postgres { url } => match url::Url::parse(url) {
            Ok(u) => matches!(
                u.host_str(),
                None | Some("")
                    | Some("localhost")
                    | Some("127.0.0.1")
                    | Some("[::1]")
                    | Some("::1")
            ),
            Err(_) => false,
        },
    }
}

impl ResetCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        anyhow::ensure!(
            is_local(&target) || self.force,
            "refusing to reset {}: it is not a local database; pass --force if you mean it (a backup is taken first)",
            target.display()
        );
        let set = super::tree(ctx, &target)?;
        let exists = target.sqlite_path().is_none_or(|p| p.exists());
        if exists {
            let backup = ctx.report.step("back up the database first", |_| {
                Ok(data_safety::create(&target, &self.backups_dir)?)
            })?;
            ctx.report.say(&format!(
                "    backup {} at {}",
                backup.id,
                backup.path.display()
            ));
            ctx.report.set("backup", &backup.id);
        } else {
            ctx.report
                .say("    the database file does not exist yet: nothing to back up");
        }
        let mut conn = super::connect(ctx, &target)?;
        let dropped = ctx.report.step("drop every table and view", |_| {
            Ok(wipe::drop_everything(&mut conn)?)
        })?;
        let applied = ctx.report.step("apply the whole history", |_| {
            Ok(Migrator::new(&set, "xtask reset").apply(&mut conn, &Target::Head)?)
        })?;
        // The database is empty on purpose now: the data-loss marker must not refuse it.
        if let Some(path) = target.sqlite_path() {
            let _ = std::fs::remove_file(data_safety::marker::path(path));
        }
        ctx.report.say(&format!(
            "    dropped {dropped} objects, applied {} migrations",
            applied.len()
        ));
        ctx.report.set("applied", &applied);
        Ok(())
    }
}
