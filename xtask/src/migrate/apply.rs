//! `cargo xtask apply`, `downgrade` and `redo`: run migrations under the migration lock.

use migration_engine::{Migrator, OutOfOrder, Target};
use xshell::Shell;

use super::TargetArgs;
use crate::Ctx;

#[derive(clap::Args)]
pub struct ApplyCmd {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Apply pending migrations older than the newest applied one (diesel would, silently)
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Seconds to wait for another migrator holding the lock
    #[arg(long, default_value_t = 120)]
    pub lock_wait: u64,
}

impl ApplyCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let mut conn = super::connect(ctx, &target)?;
        let mut migrator = Migrator::new(&set, "xtask apply");
        if self.allow_out_of_order {
            migrator.out_of_order = OutOfOrder::Allow;
        }
        migrator.wait = std::time::Duration::from_secs(self.lock_wait);
        let goal = self.target.target(Target::Head);
        super::adopt::checked_unrecorded(ctx, &mut conn, &target, &set)?;
        let applied = ctx
            .report
            .step("apply migrations (under the migration lock)", |_| {
                Ok(migrator.apply_detailed(&mut conn, &goal)?)
            })?;
        if applied.ran.is_empty() && !applied.recorded.is_empty() {
            ctx.report.say("    applied: nothing ran");
            ctx.report.set("applied", &applied.ran);
        } else {
            report(ctx, "applied", &applied.ran);
        }
        super::adopt::say_recorded(ctx, &applied.recorded);
        ctx.report.set("recorded", &applied.recorded);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct DowngradeCmd {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Revert every applied migration
    #[arg(long, conflicts_with_all = ["to", "steps"])]
    pub all: bool,
    #[arg(long, default_value_t = 120)]
    pub lock_wait: u64,
}

impl DowngradeCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let goal = if self.all {
            Target::Zero
        } else {
            self.target.target(Target::Head)
        };
        anyhow::ensure!(
            goal != Target::Head,
            "say how far to go back: --to VERSION, --steps N or --all"
        );
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let mut conn = super::connect(ctx, &target)?;
        let mut migrator = Migrator::new(&set, "xtask downgrade");
        migrator.wait = std::time::Duration::from_secs(self.lock_wait);
        let reverted = ctx
            .report
            .step("revert migrations (under the migration lock)", |_| {
                Ok(migrator.downgrade(&mut conn, &goal)?)
            })?;
        report(ctx, "reverted", &reverted);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct RedoCmd {}

impl RedoCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let mut conn = super::connect(ctx, &target)?;
        let migrator = Migrator::new(&set, "xtask redo");
        let reverted = ctx.report.step("revert the latest migration", |_| {
            Ok(migrator.downgrade(&mut conn, &Target::Steps(1))?)
        })?;
        anyhow::ensure!(
            !reverted.is_empty(),
            "nothing is applied, so there is nothing to redo"
        );
        let applied = ctx.report.step("apply it again", |_| {
            Ok(migrator.apply(&mut conn, &Target::Steps(1))?)
        })?;
        report(ctx, "redone", &applied);
        Ok(())
    }
}

fn report(ctx: &mut Ctx, verb: &str, folders: &[String]) {
    if folders.is_empty() {
        ctx.report
            .say(&format!("    {verb}: nothing (already there)"));
    }
    for f in folders {
        ctx.report.say(&format!("    {verb} {f}"));
    }
    ctx.report.set(verb, folders);
}
