//! `integrity` and `pre-deploy`: the checks CI runs before a deploy.

use data_safety::integrity;
use xshell::Shell;

use super::*;
use crate::Ctx;

#[derive(clap::Args)]
pub struct IntegrityCmd {
    /// An asset snapshot older than this many days is a problem
    #[arg(long, value_name = "DAYS")]
    pub max_snapshot_age_days: Option<i64>,
}

impl IntegrityCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let report = ctx
            .report
            .step(&format!("check {}", target.display()), |r| {
                let report = integrity::check(&target, self.max_snapshot_age_days)?;
                r.say(&indented(&report, 4));
                Ok(report)
            })?;
        let failure = report.failure();
        ctx.report.set("integrity", report);
        match failure {
            Some(failure) => bail!(failure),
            None => Ok(()),
        }
    }
}

#[derive(clap::Args)]
pub struct PreDeployCmd {
    /// Back up the running service at URL through its admin endpoint (needs ADMIN_TOKEN), e.g. a SQLite database on the platform's volume
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    #[command(flatten)]
    pub dir: DirArg,
    #[command(flatten)]
    pub keys: KeyArgs,
}

impl PreDeployCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let (_, manifest, check) = take(
            ctx,
            self.remote.as_deref(),
            &self.dir.backups_dir,
            Checks::VerifyAndMigrations,
            &self.keys.keys()?,
        )?;
        let check = check.expect("pre-deploy always checks migrations");
        let problems = ctx.report.step(
            "check migrations: pending, out of order, unknown, edited",
            |r| {
                r.say(&indented(&check, 4));
                let problems = check.problems();
                if problems.is_empty() {
                    Ok(problems)
                } else {
                    bail!("{}", problems.join("; "))
                }
            },
        );
        ctx.report.set("migrations", &check);
        problems?;
        ctx.report
            .say(&format!("ready to deploy: backup {} verified", manifest.id));
        Ok(())
    }
}
