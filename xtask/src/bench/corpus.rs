//! The hard generated histories of `history_corpus` in `bench consolidate`: hundreds of
//! migrations with every kind of object, as a plain one-tree project. Per backend: a fresh
//! install by `xtask apply` against the plain diesel CLI on the same tree (the ratio), and
//! consolidation, proof included, of a live database at head holding rows in every table
//! (the goal: under 30 s for the PostgreSQL history).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use db_conn::{Backend, DatabaseTarget};
use xshell::{cmd, Shell};

use super::migrate::median;
use crate::migrate::pgscratch::{self, ScratchDb};
use crate::Ctx;

/// What one corpus measurement needs.
pub struct CorpusBench<'a> {
    pub sh: &'a Shell,
    pub xtask: &'a Path,
    pub server: &'a str,
    /// Migrations in each generated history.
    pub migrations: usize,
    pub runs: usize,
}

/// The timings of one run, in the order they are taken.
struct Run {
    tool_apply: Duration,
    diesel_apply: Duration,
    consolidate: Duration,
    baseline_install: Duration,
}

/// A database for one step of a run: a PostgreSQL scratch database (dropped with it) or a
/// SQLite file that exists, empty, before any tool touches it.
struct Fresh {
    url: String,
    _pg: Option<ScratchDb>,
}

impl CorpusBench<'_> {
    pub fn run(&self, ctx: &mut Ctx) -> anyhow::Result<Vec<serde_json::Value>> {
        let diesel = pgscratch::diesel_cli()?;
        let mut results = Vec::new();
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let bar = ctx.report.progress(
                self.runs as u64,
                &format!(
                    "{}: {}-migration corpus",
                    backend.tree_name(),
                    self.migrations
                ),
            );
            let mut runs = Vec::new();
            for _ in 0..self.runs {
                runs.push(self.once(backend, &diesel)?);
                bar.inc(1);
            }
            bar.finish_and_clear();
            let med = |f: fn(&Run) -> Duration| median(runs.iter().map(f).collect());
            let (tool, diesel_cli) = (med(|r| r.tool_apply), med(|r| r.diesel_apply));
            let (consolidate, baseline) = (med(|r| r.consolidate), med(|r| r.baseline_install));
            let ratio = tool.as_secs_f64() / diesel_cli.as_secs_f64();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            ctx.report.say(&format!(
                "    corpus ({}) {:<8}: apply {:>7.0} ms vs diesel migration run {:>7.0} ms ({ratio:.2}x); \
                 consolidate with rows, proof included {:>7.0} ms (goal < 30000); baseline install {:>5.0} ms",
                self.migrations,
                backend.tree_name(),
                ms(tool),
                ms(diesel_cli),
                ms(consolidate),
                ms(baseline)
            ));
            results.push(serde_json::json!({
                "chain": format!("corpus ({})", self.migrations), "live_backend": backend.tree_name(),
                "runs": self.runs, "xtask_apply_ms": ms(tool), "diesel_cli_ms": ms(diesel_cli),
                "apply_ratio": ratio, "consolidate_ms": ms(consolidate), "fresh_install_baseline_ms": ms(baseline),
            }));
        }
        Ok(results)
    }

    fn once(&self, backend: Backend, diesel: &Path) -> anyhow::Result<Run> {
        let work = tempfile::tempdir()?;
        let tree = work.path().join("migrations");
        let history = match backend {
            Backend::Postgres => history_corpus::postgres_history(&tree, self.migrations),
            Backend::Sqlite => history_corpus::sqlite_history(&tree, self.migrations),
        }?;
        let set = migration_engine::MigrationSet::from_dir(&tree)?;
        migration_engine::sumfile::write(&tree, &set)?;
        let config = work.path().join("diesel.toml");
        std::fs::write(&config, "")?;

        let live = self.fresh(backend, work.path(), "live.db")?;
        let tool_apply = self.time(&tree, &live.url, &["apply"])?;
        let theirs = self.fresh(backend, work.path(), "diesel.db")?;
        let (url, sh) = (&theirs.url, self.sh);
        let started = Instant::now();
        cmd!(sh, "{diesel} migration run --migration-dir {tree} --database-url {url} --config-file {config}")
            .quiet()
            .ignore_stdout()
            .run()?;
        let diesel_apply = started.elapsed();

        let target = DatabaseTarget::parse(&live.url)?;
        history_corpus::fill_rows(&mut db_conn::establish(&target)?, &history)?;
        let backups = work.path().join("backups");
        let backups = backups.to_str().unwrap_or("backups");
        let consolidate =
            self.time(&tree, &live.url, &["consolidate", "--backups-dir", backups])?;
        let fresh = self.fresh(backend, work.path(), "fresh.db")?;
        let baseline_install = self.time(&tree, &fresh.url, &["apply"])?;
        Ok(Run {
            tool_apply,
            diesel_apply,
            consolidate,
            baseline_install,
        })
    }

    fn fresh(&self, backend: Backend, dir: &Path, file: &str) -> anyhow::Result<Fresh> {
        Ok(match backend {
            Backend::Postgres => {
                let db = ScratchDb::create(self.server, "bench")?;
                Fresh {
                    url: db.url.clone(),
                    _pg: Some(db),
                }
            }
            Backend::Sqlite => {
                let path: PathBuf = dir.join(file);
                drop(db_conn::establish(&DatabaseTarget::sqlite(&path))?);
                Fresh {
                    url: path.display().to_string(),
                    _pg: None,
                }
            }
        })
    }

    /// How long one xtask command takes on `tree` against the database at `url`.
    fn time(&self, tree: &Path, url: &str, args: &[&str]) -> anyhow::Result<Duration> {
        let (xtask, sh) = (self.xtask, self.sh);
        let started = Instant::now();
        cmd!(
            sh,
            "{xtask} --database-url {url} --migrations-dir {tree} {args...}"
        )
        .env("TEST_DATABASE_URL", self.server)
        .quiet()
        .ignore_stdout()
        .run()?;
        Ok(started.elapsed())
    }
}
