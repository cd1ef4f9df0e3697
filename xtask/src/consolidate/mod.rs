//! `cargo xtask consolidate`: squash the chain into one proven baseline, stamp the live
//! database without running DDL, verify, and roll everything back on any failure. Also
//! `verify` (the post-consolidation checklist) and `rollback <backup>`.

pub mod contents;
mod files;
mod prove;
mod squash;

use std::path::{Path, PathBuf};

use anyhow::Context;
use backend::backup::hash;
use backend::config::DatabaseTarget;
use backend::db::{self, DbConnection};
use backend::migrate::{self, scratch, sumfile, Migration, MigrationSet, Migrator, Target};
use xshell::Shell;

/// Row count and content hash of every table, as backups record them.
type Digests = std::collections::BTreeMap<String, backend::backup::manifest::TableDigest>;

use crate::migrate::pgscratch;
use crate::Ctx;

/// Test-only pause points (`after-files-backup`, `after-squash`, `before-exchange`,
/// `after-exchange`, `after-stamp`) so tests can SIGKILL consolidation at a known step; see
/// `backend::backup::testhook`. Unset, they do nothing.
pub fn pause_point(name: &str) {
    backend::backup::testhook::pause(name);
}

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
        let target = ctx.target()?;
        let root = ctx.migrations_root().to_path_buf();
        let _ = std::fs::remove_dir_all(files::staging_dir(&root)); // left by a killed run
        let trees = Trees {
            sqlite: MigrationSet::from_dir(&root.join("sqlite"))?,
            postgres: MigrationSet::from_dir(&root.join("postgres"))?,
        };
        let live_set = match target.backend() {
            backend::config::Backend::Sqlite => &trees.sqlite,
            backend::config::Backend::Postgres => &trees.postgres,
        };
        let count = self.count(live_set)?;
        let server = pgscratch::server_url(ctx, self.pg_url.as_deref()).ok_or_else(|| {
            anyhow::anyhow!("consolidation builds the postgres tree's baseline in a scratch PostgreSQL database: pass --pg-url postgres://... or set TEST_DATABASE_URL")
        })?;
        ctx.report.set("squashed", count);
        ctx.report.set("kept", live_set.migrations.len() - count);

        // 1. Preflight: the live database is exactly at the history's head and unedited.
        let mut live = ctx.report.step("1. preflight: connection, at head, no drift, no edits, tools", |r| {
            let mut conn = db::establish(&target)?;
            let status = migrate::status(&mut conn, live_set)?;
            if let Some(refusal) = status.refusal(false) {
                return Err(refusal.into());
            }
            anyhow::ensure!(status.pending.is_empty(), "the database has pending migrations ({}): run `cargo xtask apply` first, then consolidate", status.pending.join(", "));
            let versions: Vec<String> = status.applied.iter().map(|a| a.version.clone()).collect();
            let drift = scratch::drift(&mut conn, &live_set.applied_chain(&versions))?;
            anyhow::ensure!(drift.is_empty(), "the live schema drifted from the history: {}", drift.join("; "));
            let names = |s: &MigrationSet| s.migrations.iter().map(|m| m.folder.clone()).collect::<Vec<_>>();
            anyhow::ensure!(names(&trees.sqlite) == names(&trees.postgres), "the sqlite and postgres trees differ: run `cargo xtask check` and fix them first");
            for (tree, set) in [("sqlite", &trees.sqlite), ("postgres", &trees.postgres)] {
                let problems = sumfile::verify(&root.join(tree), set);
                anyhow::ensure!(problems.is_empty(), "{tree}: {}", problems.join("; "));
            }
            r.say(&format!("    {} of {} migrations will be squashed", count, live_set.migrations.len()));
            Ok(conn)
        })?;

        let stamp = chrono::Utc::now().format("%Y%m%d_%H%M%S").to_string();
        let (files_backup, before) = if self.dry_run {
            (None, None)
        } else {
            // 2. The migration files, copied and verified.
            let backup = ctx.report.step("2. back up the migration files", |r| {
                let dir = files::back_up(&root, &self.backups_dir, &stamp, None)?;
                r.say(&format!("    {}", dir.display()));
                Ok(dir)
            })?;
            ctx.report.set("files_backup", backup.display().to_string());
            pause_point("after-files-backup");
            // 3. The data: a verified backup, and row counts and content hashes to compare
            // against at the end.
            let digests = ctx.report.step(
                "3. back up the data and record per-table row counts and content hashes",
                |r| {
                    let data = backend::backup::create(&target, &self.backups_dir)?;
                    backend::backup::verify(&data.path, &target)
                        .with_context(|| format!("the data backup {} does not verify", data.id))?;
                    r.say(&format!("    data backup {} (verified)", data.id));
                    std::fs::write(backup.join("data_backup.txt"), &data.id)?;
                    let d = hash::digests(&mut live)?;
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
            (Some(backup), Some(digests))
        };

        // 4. Squash both trees, each from a scratch database of its own backend.
        let sqlite_chain: Vec<&Migration> = trees.sqlite.migrations.iter().take(count).collect();
        let pg_chain: Vec<&Migration> = trees.postgres.migrations.iter().take(count).collect();
        let sqlite_base = ctx.report.step("4a. squash the sqlite tree", |_| {
            squash::sqlite(&sqlite_chain)
        })?;
        let pg_base = ctx.report.step("4b. squash the postgres tree", |_| {
            squash::postgres(sh, &server, &pg_chain)
        })?;
        pause_point("after-squash");

        // 5. Prove it.
        ctx.report.step(
            "5. prove baseline == chain (schema, seed rows, sequences) on both backends",
            |_| {
                let probe = tempfile::tempdir()?;
                let mut sqlite_conn =
                    db::establish(&DatabaseTarget::sqlite(probe.path().join("probe.db")))?;
                let mut problems = prove::equivalence(
                    &mut sqlite_conn,
                    &sqlite_chain,
                    &sqlite_base.up,
                    &sqlite_base.down,
                )?;
                let mut pg_conn = db::establish(&DatabaseTarget::Postgres {
                    url: server.clone(),
                })?;
                problems.extend(prove::equivalence(
                    &mut pg_conn,
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
        if self.dry_run {
            ctx.report
                .say("    dry run: preflight, squash and proof passed; nothing was changed");
            ctx.report.set("dry_run", true);
            return Ok(());
        }
        let files_backup = files_backup.expect("set when not a dry run");
        let before = before.expect("set when not a dry run");

        // 6.-7. Swap the trees in, stamp, verify; 8. any failure restores the files.
        let outcome = self.switch_over(
            ctx,
            &root,
            &stamp,
            count,
            &trees,
            (&sqlite_base, &pg_base),
            &target,
            &mut live,
            &before,
        );
        if let Err(e) = outcome {
            ctx.report
                .step("8. roll back: restore the migration files", |_| {
                    let saved = files::verify_backup(&files_backup)?["files"].clone();
                    if serde_json::to_value(files::checksums(&root)?)? != saved {
                        files::restore(&root, &files_backup)?;
                    }
                    rerecord(
                        &mut live,
                        &MigrationSet::from_dir(&ctx_tree(&root, &target))?,
                    )
                })?;
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

    #[allow(clippy::too_many_arguments)]
    fn switch_over(
        &self,
        ctx: &mut Ctx,
        root: &Path,
        stamp: &str,
        count: usize,
        trees: &Trees,
        (sqlite_base, pg_base): (&squash::Baseline, &squash::Baseline),
        target: &DatabaseTarget,
        live: &mut DbConnection,
        before: &Digests,
    ) -> anyhow::Result<()> {
        ctx.report.step(
            "6a. write the baseline, archive the chain, swap the trees in atomically",
            |_| {
                let staging = files::build(
                    root,
                    stamp,
                    count,
                    &[
                        ("sqlite", &trees.sqlite, sqlite_base),
                        ("postgres", &trees.postgres, pg_base),
                    ],
                )?;
                pause_point("before-exchange");
                files::exchange(root, &staging)
            },
        )?;
        let new_set = MigrationSet::from_dir(&ctx_tree(root, target))?;
        ctx.report.step(
            "6b. stamp the live database at the baseline (no DDL runs)",
            |r| {
                let status = migrate::status(live, &new_set)?;
                anyhow::ensure!(
                    status.pending.is_empty() && status.refusal(false).is_none(),
                    "the live database does not line up with the baseline: pending {:?}, {:?}",
                    status.pending,
                    status.refusal(false).map(|e| e.to_string())
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
        pause_point("after-stamp");
        ctx.report
            .step("7. verify the live database: schema, data, history", |_| {
                let status = migrate::status(live, &new_set)?;
                anyhow::ensure!(
                    status.is_clean() && status.restamp.is_empty(),
                    "history not consistent after stamping: {status:?}"
                );
                let applied: Vec<&Migration> = new_set.migrations.iter().collect();
                let drift = scratch::drift(live, &applied)?;
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
        Migrator::new(set, "xtask rollback").stamp(conn, &last.version, false, true)?;
    }
    Ok(())
}

/// `cargo xtask verify`: the post-consolidation checklist on a live database.
#[derive(clap::Args)]
pub struct VerifyCmd {}

impl VerifyCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let dir = ctx.tree_dir(&target);
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
                if let Some(refusal) = status.refusal(false) {
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
                let drift = scratch::drift(&mut conn, &applied)?;
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

/// `cargo xtask rollback <backup>`: puts back the migration files of a consolidation backup
/// and re-records their checksums in the database (whose schema and data consolidation never
/// changes).
#[derive(clap::Args)]
pub struct RollbackCmd {
    /// A `backups/migrations_<stamp>` folder, or just its `<stamp>`
    pub backup: String,
    #[arg(long, default_value = "backups")]
    pub backups_dir: PathBuf,
}

impl RollbackCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let root = ctx.migrations_root().to_path_buf();
        let mut backup = PathBuf::from(&self.backup);
        if !backup.is_dir() {
            backup = self.backups_dir.join(format!(
                "migrations_{}",
                self.backup.trim_start_matches("migrations_")
            ));
        }
        anyhow::ensure!(
            backup.is_dir(),
            "no migrations backup at {}: list them with `ls {}`",
            backup.display(),
            self.backups_dir.display()
        );
        ctx.report.step("verify the files backup", |_| {
            files::verify_backup(&backup).map(|_| ())
        })?;
        ctx.report
            .step("restore the migration files (atomic swap)", |_| {
                files::restore(&root, &backup)
            })?;
        ctx.report.step("re-record the restored migrations' checksums", |_| {
            let mut conn = db::establish(&target)?;
            rerecord(&mut conn, &MigrationSet::from_dir(&ctx_tree(&root, &target))?)?;
            let digests_file = backup.join("data_digests.json");
            if digests_file.is_file() {
                let before: Digests = serde_json::from_str(&std::fs::read_to_string(&digests_file)?)?;
                let (differences, _) = hash::compare(&before, &hash::digests(&mut conn)?);
                anyhow::ensure!(
                    differences.is_empty(),
                    "the data differs from when the backup was taken ({}): restore the data backup too (`cargo xtask restore`)",
                    differences.join("; ")
                );
            }
            Ok(())
        })?;
        Ok(())
    }
}
