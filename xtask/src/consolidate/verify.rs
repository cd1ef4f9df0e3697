//! `cargo xtask verify`: the post-consolidation checklist.

use db_conn as db;
use migration_engine::{self as migrate, scratch, sumfile, MigrationSet, OutOfOrder};
use xshell::Shell;

use crate::Ctx;

/// `cargo xtask verify`: the post-consolidation checklist on a live database.
#[derive(clap::Args)]
pub struct VerifyCmd {}

impl VerifyCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let dir = ctx.tree(&target)?.dir;
        let set = MigrationSet::from_dir(&dir)?;
        let mut conn = db::establish(&target)?;
        ctx.report.step("checksum file current", |_| {
            let problems = sumfile::verify(&dir, &set);
            anyhow::ensure!(problems.is_empty(), "{}", problems.join("; "));
            Ok(())
        })?;
        ctx.report.step(
            "history consistent: nothing pending, edited, unknown or out of order",
            |_| {
                let status = migrate::status(&mut conn, &set)?;
                if let Some(refusal) = status.refusal(OutOfOrder::Refuse) {
                    return Err(refusal.into());
                }
                anyhow::ensure!(
                    status.pending.is_empty(),
                    "pending: {}",
                    status.pending.join(", ")
                );
                Ok(())
            },
        )?;
        ctx.report.step(
            "live schema equals what the history (baseline included) builds",
            |_| {
                let versions: Vec<String> = migrate::history::applied(&mut conn)?
                    .into_iter()
                    .map(|a| a.version)
                    .collect();
                let applied = set.applied_chain(&versions);
                let drift =
                    scratch::drift(&mut conn, &scratch::ScratchPlace::beside(&target), &applied)?;
                anyhow::ensure!(drift.is_empty(), "{}", drift.join("; "));
                Ok(())
            },
        )?;
        ctx.report
            .step("every archived chain is complete for its baseline", |_| {
                for m in set.migrations.iter().filter(|m| !m.replaces.is_empty()) {
                    let missing: Vec<&String> = m
                        .replaces
                        .iter()
                        .filter(|f| !set.archive.iter().any(|a| &a.folder == *f))
                        .collect();
                    anyhow::ensure!(
                        missing.is_empty(),
                        "{} replaces {:?}, which are missing from the archive",
                        m.folder,
                        missing
                    );
                }
                Ok(())
            })?;
        Ok(())
    }
}
