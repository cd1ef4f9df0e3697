//! `cargo xtask consolidate`: squash the chain into one proven baseline, stamp the live
//! database without running DDL, verify, and roll everything back on any failure. Also
//! `verify` (the post-consolidation checklist) and `rollback <backup>`.

pub mod contents;
mod files;
mod guard;
mod prove;
mod rollback;
mod squash;
mod verify;

pub use rollback::RollbackCmd;
pub use verify::VerifyCmd;

use std::path::{Path, PathBuf};

use anyhow::Context;
use data_safety::hash;
use db_conn::{self as db, Backend, DatabaseTarget, DbConnection};
use migration_engine::{
    self as migrate, scratch, sumfile, Migration, MigrationSet, Migrator, OutOfOrder, StampOptions,
    Target,
};
use xshell::Shell;

/// Row count and content hash of every table, as backups record them.
type Digests = std::collections::BTreeMap<String, data_safety::manifest::TableDigest>;

use data_safety::fault::{pause, FaultPoint};

use crate::layout::Tree;
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

/// One tree being consolidated: where it is and what it holds.
struct JobTree {
    tree: Tree,
    set: MigrationSet,
}

impl JobTree {
    /// The migrations squashed: the oldest `count`.
    fn chain(&self, count: usize) -> Vec<&Migration> {
        self.set.migrations.iter().take(count).collect()
    }
}

/// What one consolidation works on, resolved before any step runs.
struct Job {
    target: DatabaseTarget,
    /// The folder backed up and swapped whole: the root of several trees, or the one tree.
    unit: PathBuf,
    /// Every tree there is (one for a plain diesel project), squashed in lockstep.
    trees: Vec<JobTree>,
    /// Index in `trees` of the tree the live database runs.
    live: usize,
    /// How many of the oldest migrations are squashed.
    count: usize,
    /// The PostgreSQL server for scratch databases, when a postgres tree or database needs one.
    server: Option<String>,
}

impl Job {
    /// Where scratch databases of `backend` are made (never inside the live database).
    fn scratch_place(&self, backend: Backend) -> anyhow::Result<scratch::ScratchPlace> {
        Ok(match backend {
            Backend::Sqlite => scratch::ScratchPlace::Sqlite,
            Backend::Postgres => scratch::ScratchPlace::Postgres {
                server: self.server.clone().context(NO_SERVER)?,
            },
        })
    }

    /// The tree of the live database's backend.
    fn live_set(&self) -> &MigrationSet {
        &self.trees[self.live].set
    }

    /// Where the live tree is once the new trees are in place.
    fn live_dir(&self) -> PathBuf {
        self.unit.join(&self.trees[self.live].tree.rel)
    }
}

const NO_SERVER: &str = "consolidation builds the postgres tree's baseline in a scratch PostgreSQL database: pass --pg-url postgres://... or set TEST_DATABASE_URL";

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
        let baselines = squash_and_prove(sh, ctx, &job)?;
        // Only a dry run has no backups: it stops here, having changed nothing.
        let Some((files_backup, before)) = backed_up else {
            ctx.report
                .say("    dry run: preflight, squash and proof passed; nothing was changed");
            ctx.report.set("dry_run", true);
            return Ok(());
        };

        // 6.-7. Swap the trees in, stamp, verify; 8. any failure restores the files.
        let outcome = switch_over(ctx, &job, &stamp, &baselines, &mut live, &before);
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

    /// Reads every tree and settles how much is squashed and where the scratch server is.
    fn job(&self, ctx: &mut Ctx) -> anyhow::Result<Job> {
        let target = ctx.target()?;
        let unit = ctx.layout.unit().to_path_buf();
        let _ = std::fs::remove_dir_all(files::staging_dir(&unit)); // left by a killed run
        let trees: Vec<JobTree> = ctx
            .trees()?
            .into_iter()
            .map(|tree| {
                let set = MigrationSet::from_dir(&tree.dir)?;
                Ok(JobTree { tree, set })
            })
            .collect::<anyhow::Result<_>>()?;
        ctx.tree(&target)?; // says which tree is missing
        let live = trees
            .iter()
            .position(|t| t.tree.backend == target.backend())
            .expect("the live database's tree is one of the trees");
        let count = self.count(&trees[live].set)?;
        let server = pgscratch::server_url(ctx, self.pg_url.as_deref());
        anyhow::ensure!(
            server.is_some() || trees.iter().all(|t| t.tree.backend != Backend::Postgres),
            NO_SERVER
        );
        ctx.report.set("squashed", count);
        ctx.report
            .set("kept", trees[live].set.migrations.len() - count);
        Ok(Job {
            target,
            unit,
            trees,
            live,
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
            let dir = files::back_up(&job.unit, &self.backups_dir, stamp, None)?;
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
    let live_set = job.live_set();
    ctx.report.step("1. preflight: connection, at head, no drift, no edits, tools", |r| {
        let mut conn = db::establish(&job.target)?;
        let status = migrate::status(&mut conn, live_set)?;
        if let Some(refusal) = status.refusal(OutOfOrder::Refuse) {
            return Err(refusal.into());
        }
        anyhow::ensure!(status.pending.is_empty(), "the database has pending migrations ({}): run `cargo xtask apply` first, then consolidate", status.pending.join(", "));
        let versions: Vec<String> = status.applied.iter().map(|a| a.version.clone()).collect();
        let place = job.scratch_place(job.target.backend())?;
        let drift = scratch::drift(&mut conn, &place, &live_set.applied_chain(&versions))?;
        anyhow::ensure!(drift.is_empty(), "the live schema drifted from the history: {}", drift.join("; "));
        let names = |s: &MigrationSet| s.migrations.iter().map(|m| m.folder.clone()).collect::<Vec<_>>();
        for other in &job.trees {
            anyhow::ensure!(names(&other.set) == names(live_set), "the {} and {} trees differ: run `cargo xtask check` and fix them first", other.tree.label, job.trees[job.live].tree.label);
            let problems = sumfile::verify(&other.tree.dir, &other.set);
            anyhow::ensure!(problems.is_empty(), "{}: {}", other.tree.label, problems.join("; "));
        }
        r.say(&format!("    {} of {} migrations will be squashed", job.count, live_set.migrations.len()));
        Ok(conn)
    })
}

/// Steps 4 and 5: squash every tree, each from a scratch database of its own backend, and
/// prove each baseline builds what its chain builds. Changes nothing.
fn squash_and_prove(sh: &Shell, ctx: &mut Ctx, job: &Job) -> anyhow::Result<Vec<squash::Baseline>> {
    let mut baselines = Vec::new();
    for (i, jt) in job.trees.iter().enumerate() {
        let chain = jt.chain(job.count);
        let step = format!(
            "4{}. squash the {} tree",
            (b'a' + i as u8) as char,
            jt.tree.label
        );
        let mut base = ctx.report.step(&step, |_| match jt.tree.backend {
            Backend::Sqlite => squash::sqlite(&chain),
            Backend::Postgres => {
                squash::postgres(sh, job.server.as_deref().context(NO_SERVER)?, &chain)
            }
        })?;
        // Proven with the guard in it, exactly as it will be written.
        base.up = format!(
            "{}{}",
            guard::partway_guard(jt.tree.backend, &chain),
            base.up
        );
        baselines.push(base);
    }
    pause(FaultPoint::AfterSquash);

    ctx.report.step(
        "5. prove baseline == chain (whole schema, seed rows, sequences) for every tree",
        |_| {
            let mut problems = Vec::new();
            for (jt, base) in job.trees.iter().zip(&baselines) {
                let place = job.scratch_place(jt.tree.backend)?;
                let found = prove::equivalence(&place, &jt.chain(job.count), &base.up, &base.down)?;
                problems.extend(found.into_iter().map(|p| format!("{}: {p}", jt.tree.label)));
            }
            anyhow::ensure!(
                problems.is_empty(),
                "the baseline is not equivalent to the chain: {}",
                problems.join("; ")
            );
            Ok(())
        },
    )?;
    Ok(baselines)
}

/// Steps 6 and 7: swap the new trees in, stamp the live database at the baseline, verify.
fn switch_over(
    ctx: &mut Ctx,
    job: &Job,
    stamp: &str,
    baselines: &[squash::Baseline],
    live: &mut DbConnection,
    before: &Digests,
) -> anyhow::Result<()> {
    let root = &job.unit;
    ctx.report.step(
        "6a. write the baseline, archive the chain, swap the trees in atomically",
        |_| {
            let staging = files::build(
                root,
                stamp,
                job.count,
                &job.trees
                    .iter()
                    .zip(baselines)
                    .map(|(jt, base)| (jt.tree.rel.as_path(), &jt.set, base))
                    .collect::<Vec<_>>(),
            )?;
            pause(FaultPoint::BeforeExchange);
            files::exchange(root, &staging)
        },
    )?;
    let new_set = MigrationSet::from_dir(&job.live_dir())?;
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
            let drift = scratch::drift(live, &job.scratch_place(job.target.backend())?, &applied)?;
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
    let root = &job.unit;
    ctx.report
        .step("8. roll back: restore the migration files", |_| {
            let saved = files::verify_backup(files_backup)?["files"].clone();
            if serde_json::to_value(files::checksums(root)?)? != saved {
                files::restore(root, files_backup)?;
            }
            rerecord(live, &MigrationSet::from_dir(&job.live_dir())?)
        })
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
