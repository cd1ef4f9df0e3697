//! `integrity` and `pre-deploy`: the checks CI runs before a deploy.

use anyhow::bail;
use backend::backup::integrity;
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
        let report =
            ctx.report
                .step(&format!("check {}", target.display()), |r| {
                    let report = integrity::check(&target, self.max_snapshot_age_days)?;
                    for (table, rows) in &report.tables {
                        r.say(&format!("    {table:28} {rows:>10}"));
                    }
                    r.say(&format!(
                "    {} foreign key(s) checked, {} orphaned row(s); newest asset snapshot: {}",
                report.foreign_keys_checked,
                report.orphans.iter().map(|o| o.rows).sum::<i64>(),
                report.newest_asset_snapshot.map_or("none".to_owned(), |d| format!(
                    "{d} ({} day(s) old)",
                    report.newest_asset_snapshot_age_days.unwrap_or(0)
                ))
            ));
                    for p in &report.problems {
                        r.say(&format!("    PROBLEM: {p}"));
                    }
                    Ok(report)
                })?;
        let problems = report.problems.clone();
        ctx.report.set("integrity", report);
        if !problems.is_empty() {
            bail!(
                "{} integrity problem(s): {}",
                problems.len(),
                problems.join("; ")
            );
        }
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct PreDeployCmd {
    /// Back up the running service at URL through its admin endpoint (needs ADMIN_TOKEN), e.g. a SQLite database on the platform's volume
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    #[command(flatten)]
    pub dir: DirArg,
}

impl PreDeployCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let (_, manifest, check) = take(
            ctx,
            self.remote.as_deref(),
            &self.dir.backups_dir,
            true,
            true,
        )?;
        let check = check.expect("pre-deploy always checks migrations");
        let problems = ctx.report.step(
            "check migrations: pending, out of order, unknown, edited",
            |r| {
                r.say(&format!(
                    "    {} applied (newest {}), {} pending: {}",
                    check.applied,
                    check.newest_applied.as_deref().unwrap_or("none"),
                    check.pending.len(),
                    if check.pending.is_empty() {
                        "nothing to apply".to_owned()
                    } else {
                        format!("the deploy applies {}", check.pending.join(", "))
                    }
                ));
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
