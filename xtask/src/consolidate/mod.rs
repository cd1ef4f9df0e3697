//! `cargo xtask consolidate`: squash the chain into one proven baseline, stamp the live
//! database without running DDL, verify, and roll everything back on any failure. Also
//! `verify` (the post-consolidation checklist) and `rollback <backup>`.

pub mod contents;
mod files;
mod prove;
mod rollback;
mod squash;
mod verify;

pub use rollback::RollbackCmd;
pub use verify::VerifyCmd;

use std::path::{Path, PathBuf};

use anyhow::Context;
use data_safety::hash;
use db_conn::DatabaseTarget;
use db_conn::{self as db, DbConnection};
use migration_engine::{
    self as migrate, scratch, sumfile, Migration, MigrationSet, Migrator, OutOfOrder, StampOptions,
    Target,
};
use xshell::Shell;

/// Row count and content hash of every table, as backups record them.
type Digests = std::collections::BTreeMap<String, data_safety::manifest::TableDigest>;

use data_safety::fault::{pause, FaultPoint};

use crate::migrate::pgscratch;
use crate::Ctx;

#[derive(clap::Args)]
pub struct ConsolidateCmd {
    /// Keep the newest N migrations as they are; squash the older ones (plan B)
    #[arg(long, conflicts_with = "up_to")]
    pub keep_latest: Option<usize>,
    /// Squash up to and including this version; keep the rest
    #[arg(long)]
    pub up_to: Option<String>,
    /// Preflight, squash and prove on scratch copies; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// PostgreSQL server for the scratch databases the postgres tree's baseline needs
    /// [default: the target if PostgreSQL, else TEST_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// Where the files backup (and the data backup) go
    #[arg(long, default_value = "backups")]
    pub backups_dir: PathBuf,
}

struct Trees {
    sqlite: MigrationSet,
    postgres: MigrationSet,
}

impl Trees {
    fn of(&self, backend: db_conn::Backend) -> &MigrationSet {
        match backend {
            db_conn::Backend::Sqlite => &self.sqlite,
            db_conn::Backend::Postgres => &self.postgres,
        }
    }
}

/// What one consolidation works on, resolved before any step runs.
struct Job {
    target: DatabaseTarget,
    root: PathBuf,
    trees: Trees,
    /// How many of the oldest migrations are squashed.
    count: usize,
    /// The PostgreSQL server for scratch databases.
    server: String,
}

impl Job {
    /// Where scratch databases of the live database's backend are made (never inside it).
    fn scratch_place(&self) -> scratch::ScratchPlace {
        match &self.target {
            DatabaseTarget::Sqlite { .. } => scratch::ScratchPlace::Sqlite,
            DatabaseTarget::Postgres { .. } => scratch::ScratchPlace::Postgres {
                server: self.server.clone(),
            },
        }
    }

    /// The tree of the live database's backend.
    fn live_set(&self) -> &MigrationSet {
        self.trees.of(self.target.backend())
    }

    /// The migrations squashed, per tree (sqlite, postgres).
    fn chains(&self) -> (Vec<&Migration>, Vec<&Migration>) {
        (
            chain_of(&self.trees.sqlite, self.count),
            chain_of(&self.trees.postgres, self.count),
        )
    }
}

impl ConsolidateCmd {
    fn count(&self, set: &MigrationSet) -> anyhow::Result<usize> {
        let total = set.migrations.len();
        let count = match (&self.keep_latest, &self.up_to) {
            (Some(keep), _) => total
                .checked_sub(*keep)
                .context("--keep-latest is larger than the history")?,
            (None, Some(v)) => {
                let m = set.resolve(v)?;
                set.migrations
                    .iter()
                    .position(|x| x.version == m.version)
                    .map_or(0, |i| i + 1)
            }
            (None, None) => total,
        };
        anyhow::ensure!(
            count >= 2,
            "only {count} migration(s) would be squashed: nothing to consolidate"
        );
        Ok(count)
    }

    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let job = self.job(ctx)?;
        let mut live = preflight(ctx, &job)?;
        let stamp = chrono::Utc::now().format("%Y%m%d_%H%M%S").to_string();
        let backed_up = if self.dry_run {
            None
        } else {
            Some(self.back_up(ctx, &job, &stamp, &mut live)?)
        };
        let (sqlite_base, pg_base) = squash_and_prove(sh, ctx, &job)?;
        // Only a dry run has no backups: it stops here, having changed nothing.
        let Some((files_backup, before)) = backed_up else {
            ctx.report
                .say("    dry run: preflight, squash and proof passed; nothing was changed");
            ctx.report.set("dry_run", true);
            return Ok(());
        };

        // 6.-7. Swap the trees in, stamp, verify; 8. any failure restores the files.
        let outcome = switch_over(
            ctx,
            &job,
            &stamp,
            (&sqlite_base, &pg_base),
            &mut live,
            &before,
        );
        if let Err(e) = outcome {
            roll_back(ctx, &job, &files_backup, &mut live)?;
            return Err(e.context(format!(
                "consolidation rolled back; the migration files are as before (backup {})",
                files_backup.display()
            )));
        }
        ctx.report.say(&format!(
            "    consolidated; to undo: cargo xtask rollback {}",
            files_backup.display()
        ));
        Ok(())
    }

    /// Reads both trees and settles how much is squashed and where the scratch server is.
    fn job(&self, ctx: &mut Ctx) -> anyhow::Result<Job> {
        let target = ctx.target()?;
        let root = ctx.migrations_root().to_path_buf();
        let _ = std::fs::remove_dir_all(files::staging_dir(&root)); // left by a killed run
        let trees = Trees {
            sqlite: MigrationSet::from_dir(&root.join("sqlite"))?,
            postgres: MigrationSet::from_dir(&root.join("postgres"))?,
        };
        let live_set = trees.of(target.backend());
        let count = self.count(live_set)?;
        let server = pgscratch::server_url(ctx, self.pg_url.as_deref()).ok_or_else(|| {
            anyhow::anyhow!("consolidation builds the postgres tree's baseline in a scratch PostgreSQL database: pass --pg-url postgres://... or set TEST_DATABASE_URL")
        })?;
        ctx.report.set("squashed", count);
        ctx.report.set("kept", live_set.migrations.len() - count);
        Ok(Job {
            target,
            root,
            trees,
            count,
            server,
        })
    }

    /// Steps 2 and 3: the files backup and the data backup, with the per-table digests the
    /// live data is compared against at the end.
    fn back_up(
        &self,
        ctx: &mut Ctx,
        job: &Job,
        stamp: &str,
        live: &mut DbConnection,
    ) -> anyhow::Result<(PathBuf, Digests)> {
        // 2. The migration files, copied and verified.
        let backup = ctx.report.step("2. back up the migration files", |r| {
            let dir = files::back_up(&job.root, &self.backups_dir, stamp, None)?;
            r.say(&format!("    {}", dir.display()));
            Ok(dir)
        })?;
        ctx.report.set("files_backup", backup.display().to_string());
        pause(FaultPoint::AfterFilesBackup);
        // 3. The data: a verified backup, and row counts and content hashes to compare
        // against at the end.
        let digests = ctx.report.step(
            "3. back up the data and record per-table row counts and content hashes",
            |r| {
                let data = data_safety::create(&job.target, &self.backups_dir)?;
                data_safety::verify(&data.path, &job.target)
                    .with_context(|| format!("the data backup {} does not verify", data.id))?;
                r.say(&format!("    data backup {} (verified)", data.id));
                std::fs::write(backup.join("data_backup.txt"), &data.id)?;
                let d = hash::digests(live)?;
                r.say(&format!(
                    "    {} tables, {} rows",
                    d.len(),
                    d.values().map(|t| t.rows).sum::<u64>()
                ));
                Ok(d)
            },
        )?;
        std::fs::write(
            backup.join("data_digests.json"),
            serde_json::to_string_pretty(&digests)?,
        )?;
        Ok((backup, digests))
    }
}

/// Step 1, preflight: the live database is exactly at the history's head and unedited.
fn preflight(ctx: &mut Ctx, job: &Job) -> anyhow::Result<DbConnection> {
    let (live_set, trees) = (job.live_set(), &job.trees);
    ctx.report.step("1. preflight: connection, at head, no drift, no edits, tools", |r| {
        let mut conn = db::establish(&job.target)?;
        let status = migrate::status(&mut conn, live_set)?;
        if let Some(refusal) = status.refusal(OutOfOrder::Refuse) {
            return Err(refusal.into());
        }
        anyhow::ensure!(status.pending.is_empty(), "the database has pending migrations ({}): run `cargo xtask apply` first, then consolidate", status.pending.join(", "));
        let versions: Vec<String> = status.applied.iter().map(|a| a.version.clone()).collect();
        let drift = scratch::drift(&mut conn, &job.scratch_place(), &live_set.applied_chain(&versions))?;
        anyhow::ensure!(drift.is_empty(), "the live schema drifted from the history: {}", drift.join("; "));
        let names = |s: &MigrationSet| s.migrations.iter().map(|m| m.folder.clone()).collect::<Vec<_>>();
        anyhow::ensure!(names(&trees.sqlite) == names(&trees.postgres), "the sqlite and postgres trees differ: run `cargo xtask check` and fix them first");
        for (tree, set) in [("sqlite", &trees.sqlite), ("postgres", &trees.postgres)] {
            let problems = sumfile::verify(&job.root.join(tree), set);
            anyhow::ensure!(problems.is_empty(), "{tree}: {}", problems.join("; "));
        }
        r.say(&format!("    {} of {} migrations will be squashed", job.count, live_set.migrations.len()));
        Ok(conn)
    })
}

/// Steps 4 and 5: squash both trees, each from a scratch database of its own backend, and
/// prove each baseline builds what its chain builds. Changes nothing.
fn squash_and_prove(
    sh: &Shell,
    ctx: &mut Ctx,
    job: &Job,
) -> anyhow::Result<(squash::Baseline, squash::Baseline)> {
    // 4. Squash both trees, each from a scratch database of its own backend.
    let (sqlite_chain, pg_chain) = job.chains();
    let sqlite_base = ctx.report.step("4a. squash the sqlite tree", |_| {
        squash::sqlite(&sqlite_chain)
    })?;
    let pg_base = ctx.report.step("4b. squash the postgres tree", |_| {
        squash::postgres(sh, &job.server, &pg_chain)
    })?;
    pause(FaultPoint::AfterSquash);

    // 5. Prove it.
    ctx.report.step(
        "5. prove baseline == chain (schema, seed rows, sequences) on both backends",
        |_| {
            let mut problems = prove::equivalence(
                &scratch::ScratchPlace::Sqlite,
                &sqlite_chain,
                &sqlite_base.up,
                &sqlite_base.down,
            )?;
            problems.extend(prove::equivalence(
                &scratch::ScratchPlace::Postgres {
                    server: job.server.clone(),
                },
                &pg_chain,
                &pg_base.up,
                &pg_base.down,
            )?);
            anyhow::ensure!(
                problems.is_empty(),
                "the baseline is not equivalent to the chain: {}",
                problems.join("; ")
            );
            Ok(())
        },
    )?;
    Ok((sqlite_base, pg_base))
}

/// Steps 6 and 7: swap the new trees in, stamp the live database at the baseline, verify.
fn switch_over(
    ctx: &mut Ctx,
    job: &Job,
    stamp: &str,
    (sqlite_base, pg_base): (&squash::Baseline, &squash::Baseline),
    live: &mut DbConnection,
    before: &Digests,
) -> anyhow::Result<()> {
    let (root, trees) = (&job.root, &job.trees);
    ctx.report.step(
        "6a. write the baseline, archive the chain, swap the trees in atomically",
        |_| {
            let staging = files::build(
                root,
                stamp,
                job.count,
                &[
                    ("sqlite", &trees.sqlite, sqlite_base),
                    ("postgres", &trees.postgres, pg_base),
                ],
            )?;
            pause(FaultPoint::BeforeExchange);
            files::exchange(root, &staging)
        },
    )?;
    let new_set = MigrationSet::from_dir(&ctx_tree(root, &job.target))?;
    ctx.report.step(
        "6b. stamp the live database at the baseline (no DDL runs)",
        |r| {
            let status = migrate::status(live, &new_set)?;
            anyhow::ensure!(
                status.pending.is_empty() && status.refusal(OutOfOrder::Refuse).is_none(),
                "the live database does not line up with the baseline: pending {:?}, {:?}",
                status.pending,
                status.refusal(OutOfOrder::Refuse).map(|e| e.to_string())
            );
            let recorded =
                Migrator::new(&new_set, "xtask consolidate").apply(live, &Target::Head)?;
            r.say(&format!(
                "    recorded the baseline's checksum for {}",
                recorded.join(", ")
            ));
            Ok(())
        },
    )?;
    pause(FaultPoint::AfterStamp);
    ctx.report
        .step("7. verify the live database: schema, data, history", |_| {
            let status = migrate::status(live, &new_set)?;
            anyhow::ensure!(
                status.is_clean() && status.restamp.is_empty(),
                "history not consistent after stamping: {status:?}"
            );
            let applied: Vec<&Migration> = new_set.migrations.iter().collect();
            let drift = scratch::drift(live, &job.scratch_place(), &applied)?;
            anyhow::ensure!(
                drift.is_empty(),
                "the live schema differs from the new history: {}",
                drift.join("; ")
            );
            let (differences, _) = hash::compare(before, &hash::digests(live)?);
            anyhow::ensure!(
                differences.is_empty(),
                "the data changed during consolidation: {}",
                differences.join("; ")
            );
            Ok(())
        })
}

/// Step 8, after a failed switch-over: the migration files back as they were (if they
/// changed), and their checksums re-recorded in the live database.
fn roll_back(
    ctx: &mut Ctx,
    job: &Job,
    files_backup: &Path,
    live: &mut DbConnection,
) -> anyhow::Result<()> {
    let root = &job.root;
    ctx.report
        .step("8. roll back: restore the migration files", |_| {
            let saved = files::verify_backup(files_backup)?["files"].clone();
            if serde_json::to_value(files::checksums(root)?)? != saved {
                files::restore(root, files_backup)?;
            }
            rerecord(live, &MigrationSet::from_dir(&ctx_tree(root, &job.target))?)
        })
}

/// The oldest `count` migrations of `set`: the chain a baseline replaces.
fn chain_of(set: &MigrationSet, count: usize) -> Vec<&Migration> {
    set.migrations.iter().take(count).collect()
}

fn ctx_tree(root: &Path, target: &DatabaseTarget) -> PathBuf {
    root.join(target.backend_name())
}

/// Records the current files' checksums for every applied migration (after files changed
/// under a database that did not).
fn rerecord(conn: &mut DbConnection, set: &MigrationSet) -> anyhow::Result<()> {
    let status = migrate::status(conn, set)?;
    if status.edited.is_empty() {
        return Ok(());
    }
    let last_applied = status
        .applied
        .iter()
        .rev()
        .find(|a| set.migrations.iter().any(|m| m.version == a.version));
    if let Some(last) = last_applied {
        // `force` re-records the edited checksums; without `prune`, records of versions no
        // longer in the tree are kept.
        let options = StampOptions {
            prune: false,
            force: true,
        };
        Migrator::new(set, "xtask rollback").stamp(conn, &last.version, options)?;
    }
    Ok(())
}
