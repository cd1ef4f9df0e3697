//! `cargo xtask status`: where the database stands against the tree.

use migration_engine::{self as migrate, scratch, MigrationSet, OutOfOrder, Status};
use xshell::Shell;

use crate::report::Reporter;
use crate::Ctx;

#[derive(clap::Args)]
pub struct StatusCmd {
    /// Skip building the history's schema in a scratch area to detect drift
    #[arg(long)]
    pub no_drift: bool,
}

impl StatusCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let Some(mut conn) = super::connect_read_only(ctx, &target)? else {
            ctx.report.say(&format!(
                "    the database file does not exist yet: nothing applied, {} pending",
                set.migrations.len()
            ));
            ctx.report.set(
                "pending",
                set.migrations.iter().map(|m| &m.folder).collect::<Vec<_>>(),
            );
            return Ok(());
        };
        let status = ctx.report.step("read applied migrations", |_| {
            Ok(migrate::status(&mut conn, &set)?)
        })?;
        let lock = migrate::lock::holder(&mut conn)?;
        let drift = if self.no_drift {
            None
        } else {
            let versions: Vec<String> = status.applied.iter().map(|a| a.version.clone()).collect();
            let applied = set.applied_chain(&versions);
            Some(
                ctx.report
                    .step("compare the live schema with the history", |_| {
                        Ok(scratch::drift(
                            &mut conn,
                            &scratch::ScratchPlace::beside(&target),
                            &applied,
                        )?)
                    })?,
            )
        };
        say_status(&ctx.report, &set, &status);
        say_drift_and_lock(&ctx.report, drift.as_deref(), lock.as_deref());
        ctx.report.set("status", &status);
        ctx.report.set("drift", &drift);
        ctx.report.set("lock", &lock);
        let problems = problems(&status, drift.as_deref());
        anyhow::ensure!(problems.is_empty(), "{}", problems.join("; "));
        Ok(())
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The history lines: what is applied, pending, out of order, unknown, edited, unrecorded.
fn say_status(r: &Reporter, set: &MigrationSet, status: &Status) {
    // After a consolidation the version table also holds the replaced chain's rows, so
    // the tree's migrations and the recorded rows are counted apart.
    let in_tree = set
        .migrations
        .iter()
        .filter(|m| !status.pending.contains(&m.folder))
        .count();
    r.say(&format!(
        "    applied:      {in_tree} of {} migration(s) in the tree (latest {}; {} version row(s) recorded)",
        set.migrations.len(),
        status.applied.last().map_or("none", |a| a.version.as_str()),
        status.applied.len(),
    ));
    r.say(&format!("    pending:      {}", list(&status.pending)));
    r.say(&format!("    out of order: {}", list(&status.out_of_order)));
    r.say(&format!("    unknown:      {}", list(&status.unknown)));
    let edited: Vec<String> = status
        .edited
        .iter()
        .map(|e| {
            format!(
                "{} (recorded {}, file {})",
                e.folder,
                &e.recorded[..12],
                &e.current[..12]
            )
        })
        .collect();
    r.say(&format!("    edited:       {}", list(&edited)));
    if !status.unrecorded.is_empty() {
        r.say(&format!(
            "    applied by another tool, no checksum recorded: {}\n                  `cargo xtask stamp --adopt` (or `apply`) records their checksums once the live schema is checked equal to what they build; none of their SQL runs",
            list(&status.unrecorded)
        ));
    }
}

/// The drift line (when drift was compared) and the lock line.
fn say_drift_and_lock(r: &Reporter, drift: Option<&[String]>, lock: Option<&str>) {
    if let Some(drift) = drift {
        r.say(&format!(
            "    drift:        {}",
            if drift.is_empty() {
                "none".to_owned()
            } else {
                drift.join("\n                  ")
            }
        ));
    }
    r.say(&format!("    lock:         {}", lock.unwrap_or("free")));
}

/// What makes `status` fail: anything that would refuse an apply, and drift.
fn problems(status: &Status, drift: Option<&[String]>) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(refusal) = status.refusal(OutOfOrder::Refuse) {
        problems.push(refusal.to_string());
    }
    if drift.is_some_and(|d| !d.is_empty()) {
        problems.push("the live schema differs from what its applied migrations produce (drift above): put the manual change in a migration, or revert it".into());
    }
    problems
}
