//! `cargo xtask stamp <V|head>`: record versions as applied without running them.

use migration_engine::{Migrator, StampOptions};
use xshell::Shell;

use crate::Ctx;

#[derive(clap::Args)]
pub struct StampCmd {
    /// Version, folder or name to stamp up to; `head` for the newest
    pub version: String,
    /// Remove the records of applied versions whose migration no longer exists
    #[arg(long)]
    pub prune: bool,
    /// Stamp even when it leaves the history inconsistent (drops records above the version,
    /// re-records checksums of edited migrations)
    #[arg(long)]
    pub force: bool,
}

impl StampCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let mut conn = super::connect(ctx, &target)?;
        let migrator = Migrator::new(&set, "xtask stamp");
        let options = StampOptions {
            prune: self.prune,
            force: self.force,
        };
        let changed = ctx.report.step(&format!("stamp {}", self.version), |_| {
            Ok(migrator.stamp(&mut conn, &self.version, options)?)
        })?;
        for f in &changed {
            ctx.report
                .say(&format!("    recorded {f} (nothing executed)"));
        }
        if changed.is_empty() {
            ctx.report.say("    nothing to record");
        }
        ctx.report.set("stamped", &changed);
        Ok(())
    }
}
