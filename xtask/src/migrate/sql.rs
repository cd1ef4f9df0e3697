//! `cargo xtask sql [apply|downgrade]`: prints exactly what would run, touching nothing.

use migration_engine::{self as migrate, Migrator, OutOfOrder, Target};
use xshell::Shell;

use super::TargetArgs;
use crate::Ctx;

#[derive(clap::Args)]
pub struct SqlCmd {
    #[command(subcommand)]
    pub what: Option<SqlWhat>,
}

#[derive(clap::Subcommand)]
pub enum SqlWhat {
    /// What `apply` would run (the default)
    Apply {
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long)]
        allow_out_of_order: bool,
    },
    /// What `downgrade` would run
    Downgrade {
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long)]
        all: bool,
    },
}

impl SqlCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let status = match super::connect_read_only(ctx, &target)? {
            Some(mut conn) => migrate::status(&mut conn, &set)?,
            None => migrate::compare(Vec::new(), &set),
        };
        let mut migrator = Migrator::new(&set, "xtask apply");
        let plan = match &self.what {
            None => migrator.plan_apply(target.backend(), &status, &Target::Head)?,
            Some(SqlWhat::Apply {
                target: t,
                allow_out_of_order,
            }) => {
                if *allow_out_of_order {
                    migrator.out_of_order = OutOfOrder::Allow;
                }
                migrator.plan_apply(target.backend(), &status, &t.target(Target::Head))?
            }
            Some(SqlWhat::Downgrade { target: t, all }) => {
                let goal = if *all {
                    Target::Zero
                } else {
                    t.target(Target::Head)
                };
                anyhow::ensure!(
                    goal != Target::Head,
                    "say how far to go back: --to VERSION, --steps N or --all"
                );
                migrator.plan_downgrade(target.backend(), &status, &goal)?
            }
        };
        if plan.is_empty() {
            ctx.report.say("-- nothing to run");
        } else {
            ctx.report.print(&plan.to_sql());
        }
        ctx.report.set("sql", plan.to_sql());
        ctx.report.set("plan", &plan);
        Ok(())
    }
}
