//! `cargo xtask stamp <V|head>`: record versions as applied without running them; `stamp
//! --adopt`: record the checksums of what another tool applied, after checking the schema.

use migration_engine::{Migrator, StampOptions};
use xshell::Shell;

use crate::Ctx;

#[derive(clap::Args)]
pub struct StampCmd {
    /// Version, folder or name to stamp up to; `head` for the newest
    #[arg(required_unless_present = "adopt", conflicts_with = "adopt")]
    pub version: Option<String>,
    /// Record checksums for the migrations another tool (the plain diesel CLI) applied, after
    /// checking that the live schema is what they build; runs no SQL, applies nothing pending
    #[arg(long, conflicts_with_all = ["prune", "force"])]
    pub adopt: bool,
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
        let Some(version) = &self.version else {
            let unrecorded = super::adopt::checked_unrecorded(ctx, &mut conn, &target, &set)?;
            let recorded = if unrecorded.is_empty() {
                ctx.report
                    .say("    nothing to adopt: every applied migration has its checksum recorded");
                Vec::new()
            } else {
                ctx.report
                    .step("record their checksums (no SQL runs)", |_| {
                        Ok(migrator.adopt(&mut conn)?)
                    })?
            };
            super::adopt::say_recorded(ctx, &recorded);
            ctx.report.set("stamped", &recorded);
            return Ok(());
        };
        let options = StampOptions {
            prune: self.prune,
            force: self.force,
        };
        let changed = ctx.report.step(&format!("stamp {version}"), |_| {
            Ok(migrator.stamp(&mut conn, version, options)?)
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
