//! Adopting a database the plain diesel CLI (or any other tool) migrated: its version rows
//! exist but no checksums. Checksums are recorded only after the live schema is checked to be
//! what the applied migrations build, so adoption never vouches for a schema it has not seen.

use db_conn::{DatabaseTarget, DbConnection};
use migration_engine::{self as migrate, scratch, MigrationSet};

use crate::Ctx;

/// The applied migrations without a recorded checksum, after checking that the live schema
/// equals what the applied history builds in a scratch database. Empty: nothing to adopt.
pub fn checked_unrecorded(
    ctx: &mut Ctx,
    conn: &mut DbConnection,
    target: &DatabaseTarget,
    set: &MigrationSet,
) -> anyhow::Result<Vec<String>> {
    let status = migrate::status(conn, set)?;
    if status.unrecorded.is_empty() {
        return Ok(Vec::new());
    }
    let n = status.unrecorded.len();
    ctx.report.step(
        &format!("{n} migration(s) applied by another tool: compare the live schema with what they build"),
        |_| {
            let versions: Vec<String> = status.applied.iter().map(|a| a.version.clone()).collect();
            let drift = scratch::drift(
                conn,
                &scratch::ScratchPlace::beside(target),
                &set.applied_chain(&versions),
            )?;
            anyhow::ensure!(
                drift.is_empty(),
                "the live schema is not what the applied migrations build ({}): no checksum recorded; fix the schema first (`cargo xtask status` lists the drift)",
                drift.join("; ")
            );
            Ok(())
        },
    )?;
    Ok(status.unrecorded)
}

/// One line per adopted migration, saying exactly what happened to it.
pub fn say_recorded(ctx: &mut Ctx, recorded: &[String]) {
    for f in recorded {
        ctx.report.say(&format!(
            "    recorded {f}: applied earlier by another tool; its checksum was recorded, none of its SQL ran (live schema checked equal)"
        ));
    }
}
