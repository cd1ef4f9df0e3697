//! `cargo xtask bench consolidate`: how long consolidation takes for the repository's 19-step
//! history and generated chains (default 100 and 500 migrations), with the live database on
//! each backend, and what it buys: a fresh install from the baseline against the chain. Then
//! the hard corpus (`super::corpus`): consolidation of a 320-migration history holding every
//! kind of object, and its install by this tool against the plain diesel CLI.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use xshell::{cmd, Shell};

use super::migrate::median;
use crate::migrate::pgscratch::{self, ScratchDb};
use crate::Ctx;

#[derive(clap::Args)]
pub struct BenchConsolidate {
    /// Generated chain lengths, besides the repository's own history
    #[arg(long, value_delimiter = ',', default_values_t = [100, 500])]
    pub sizes: Vec<usize>,
    /// Repetitions per measurement (medians are reported)
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// Migrations in each hard generated history (every object kind); 0 skips them
    #[arg(long, default_value_t = 320)]
    pub corpus: usize,
}

/// A chain of `n` migrations, identical in both trees: tables, added columns, indexes, a seed row.
fn generate(root: &Path, n: usize) -> anyhow::Result<()> {
    for tree in ["sqlite", "postgres"] {
        for i in 1..=n {
            let folder = root
                .join(tree)
                .join(format!("2020-01-01-{:06}_generated_step_{i}", i));
            std::fs::create_dir_all(&folder)?;
            let (up, down) = match i % 4 {
                1 => (format!("CREATE TABLE t{i} (id BIGINT PRIMARY KEY NOT NULL, name TEXT NOT NULL, note TEXT);"), format!("DROP TABLE t{i};")),
                2 => (format!("ALTER TABLE t{} ADD COLUMN extra_{i} TEXT;", i - 1), format!("ALTER TABLE t{} DROP COLUMN extra_{i};", i - 1)),
                3 => (format!("CREATE INDEX ix_t{}_name ON t{} (name);", i - 2, i - 2), format!("DROP INDEX ix_t{}_name;", i - 2)),
                _ => (format!("INSERT INTO t{} (id, name) VALUES ({i}, 'seed {i}');", i - 3), format!("DELETE FROM t{} WHERE id = {i};", i - 3)),
            };
            std::fs::write(folder.join("up.sql"), up)?;
            std::fs::write(folder.join("down.sql"), down)?;
        }
    }
    Ok(())
}

fn copy_repo_trees(root: &Path, to: &Path) -> anyhow::Result<()> {
    for tree in ["sqlite", "postgres"] {
        for entry in walk(&root.join(tree))? {
            let dest = to
                .join(tree)
                .join(entry.strip_prefix(root.join(tree)).expect("inside"));
            std::fs::create_dir_all(dest.parent().expect("parent"))?;
            std::fs::copy(&entry, &dest)?;
        }
    }
    Ok(())
}

fn walk(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

/// The tools every measurement uses.
struct Bench<'a> {
    sh: &'a Shell,
    /// This xtask binary, run as a child for every timed command.
    xtask: PathBuf,
    /// PostgreSQL server for the scratch databases.
    server: String,
    /// The repository's migration trees, copied for the `repository` chain.
    repo_trees: PathBuf,
}

/// The timings of one run, in the order they are taken.
struct Run {
    chain_install: Duration,
    consolidate: Duration,
    baseline_install: Duration,
}

impl BenchConsolidate {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        anyhow::ensure!(self.runs > 0, "--runs must be at least 1");
        let server = pgscratch::server_url(ctx, self.pg_url.as_deref()).context(
            "consolidation needs a PostgreSQL server: pass --pg-url or set TEST_DATABASE_URL",
        )?;
        let bench = Bench {
            sh,
            xtask: std::env::current_exe()?,
            server,
            repo_trees: ctx.layout.unit().to_path_buf(),
        };
        let mut chains: Vec<(String, Option<usize>)> = vec![("repository (19)".into(), None)];
        chains.extend(
            self.sizes
                .iter()
                .map(|n| (format!("generated ({n})"), Some(*n))),
        );
        let mut results = Vec::new();
        for (label, size) in chains {
            for backend in ["sqlite", "postgres"] {
                let (mut consolidate, mut chain_install, mut baseline_install) =
                    (Vec::new(), Vec::new(), Vec::new());
                for _ in 0..self.runs {
                    let run = bench.once(size, backend)?;
                    chain_install.push(run.chain_install);
                    consolidate.push(run.consolidate);
                    baseline_install.push(run.baseline_install);
                }
                let ms = |d: Duration| d.as_secs_f64() * 1e3;
                let (c, ci, bi) = (
                    median(consolidate),
                    median(chain_install),
                    median(baseline_install),
                );
                ctx.report.say(&format!(
                    "    {label:<18} live {backend:<8}: consolidate {:>8.0} ms; fresh install chain {:>7.0} ms vs baseline {:>6.0} ms ({:.1}x faster)",
                    ms(c),
                    ms(ci),
                    ms(bi),
                    ci.as_secs_f64() / bi.as_secs_f64()
                ));
                results.push(serde_json::json!({
                    "chain": label, "live_backend": backend, "runs": self.runs, "consolidate_ms": ms(c),
                    "fresh_install_chain_ms": ms(ci), "fresh_install_baseline_ms": ms(bi),
                }));
            }
        }
        if self.corpus > 0 {
            let corpus = super::corpus::CorpusBench {
                sh,
                xtask: &bench.xtask,
                server: &bench.server,
                migrations: self.corpus,
                runs: self.runs,
            };
            results.extend(corpus.run(ctx)?);
        }
        ctx.report.set("results", results);
        Ok(())
    }
}

impl Bench<'_> {
    /// One run: install the chain on a live database of `backend`, consolidate it, then
    /// install the consolidated tree on a fresh database.
    fn once(&self, size: Option<usize>, backend: &str) -> anyhow::Result<Run> {
        let work = tempfile::tempdir()?;
        let (original, consolidated) = (
            work.path().join("original"),
            work.path().join("consolidated"),
        );
        self.trees(size, &original, &consolidated)?;
        let fresh = |name: &str| -> anyhow::Result<(String, Option<ScratchDb>)> {
            Ok(match backend {
                "postgres" => {
                    let db = ScratchDb::create(&self.server, "bench")?;
                    (db.url.clone(), Some(db))
                }
                _ => (work.path().join(name).display().to_string(), None),
            })
        };
        let (live, _live_db) = fresh("live.db")?;
        let chain_install = self.time(&original, &live, &["apply"])?;
        let backups = work.path().join("backups");
        let consolidate = self.time(
            &consolidated,
            &live,
            &[
                "consolidate",
                "--backups-dir",
                backups.to_str().unwrap_or("backups"),
            ],
        )?;
        let (fresh_url, _fresh_db) = fresh("fresh.db")?;
        let baseline_install = self.time(&consolidated, &fresh_url, &["apply"])?;
        Ok(Run {
            chain_install,
            consolidate,
            baseline_install,
        })
    }

    /// Two identical copies of the chain (generated, or the repository's), with checksum files.
    fn trees(
        &self,
        size: Option<usize>,
        original: &Path,
        consolidated: &Path,
    ) -> anyhow::Result<()> {
        match size {
            Some(n) => {
                generate(original, n)?;
                generate(consolidated, n)?;
            }
            None => {
                copy_repo_trees(&self.repo_trees, original)?;
                copy_repo_trees(&self.repo_trees, consolidated)?;
            }
        }
        let xtask = &self.xtask;
        // Checksum files for the generated trees (SQLite checks only: this is setup, not timed).
        for root in [consolidated, original] {
            cmd!(self.sh, "{xtask} --migrations-root {root} check --fix")
                .env_remove("TEST_DATABASE_URL")
                .env_remove("REQUIRE_POSTGRES")
                .env_remove("DATABASE_URL")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run()
                .ok();
        }
        Ok(())
    }

    /// How long one xtask command takes on `root`'s trees against the database at `url`.
    fn time(&self, root: &Path, url: &str, args: &[&str]) -> anyhow::Result<Duration> {
        let xtask = &self.xtask;
        let started = Instant::now();
        cmd!(
            self.sh,
            "{xtask} --database-url {url} --migrations-root {root} {args...}"
        )
        .env("TEST_DATABASE_URL", &self.server)
        .quiet()
        .ignore_stdout()
        .run()?;
        Ok(started.elapsed())
    }
}
