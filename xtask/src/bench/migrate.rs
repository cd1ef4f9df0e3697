//! `cargo xtask bench migrate`: a fresh install of the whole chain by this tool (`xtask
//! apply`: lock, checksums, bookkeeping) against the plain diesel CLI on the same trees, in
//! the same run, on SQLite and (when a server is known) PostgreSQL. Medians of repeated runs.

use std::time::{Duration, Instant};

use anyhow::Context;
use db_conn::DatabaseTarget;
use xshell::{cmd, Shell};

use crate::migrate::pgscratch::{self, ScratchDb};
use crate::Ctx;

#[derive(clap::Args)]
pub struct BenchMigrate {
    /// Fresh installs per tool and backend
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// PostgreSQL server for the scratch databases [default: target if PostgreSQL, else TEST_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

impl BenchMigrate {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        anyhow::ensure!(self.runs > 0, "--runs must be at least 1");
        let diesel = pgscratch::diesel_cli()?;
        let xtask = std::env::current_exe().context("cannot find the running xtask binary")?;
        let trees = ctx.trees()?;
        let empty_config = tempfile::tempdir()?;
        let config = empty_config.path().join("diesel.toml");
        std::fs::write(&config, "")?;
        let mut results = Vec::new();
        let server = pgscratch::server_url(ctx, self.pg_url.as_deref());
        if server.is_none() {
            ctx.report.say("    NOTICE: no PostgreSQL server (pass --pg-url or set TEST_DATABASE_URL): SQLite only");
        }
        let trees = trees
            .into_iter()
            .filter(|t| t.backend == db_conn::Backend::Sqlite || server.is_some());
        for tree_ref in trees {
            let (backend, tree) = (tree_ref.backend.tree_name(), tree_ref.dir);
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            let bar = ctx
                .report
                .progress(2 * self.runs as u64, &format!("{backend}: fresh installs"));
            for _ in 0..self.runs {
                for tool in ["xtask", "diesel"] {
                    // A fresh database for every install; creating it is not timed.
                    let dir = tempfile::tempdir()?;
                    let scratch = match (backend, &server) {
                        ("postgres", Some(server)) => Some(ScratchDb::create(server, "bench")?),
                        _ => None,
                    };
                    let url = match &scratch {
                        Some(db) => db.url.clone(),
                        None => dir.path().join("bench.db").display().to_string(),
                    };
                    if scratch.is_none() {
                        // Both tools start from an existing empty file.
                        drop(db_conn::establish(&DatabaseTarget::sqlite(&url))?);
                    }
                    let started = Instant::now();
                    if tool == "xtask" {
                        cmd!(
                            sh,
                            "{xtask} --database-url {url} --migrations-dir {tree} apply"
                        )
                        .quiet()
                        .ignore_stdout()
                        .run()?;
                        ours.push(started.elapsed());
                    } else {
                        cmd!(sh, "{diesel} migration run --migration-dir {tree} --database-url {url} --config-file {config}")
                            .quiet()
                            .ignore_stdout()
                            .run()?;
                        theirs.push(started.elapsed());
                    }
                    bar.inc(1);
                }
            }
            bar.finish_and_clear();
            let (ours, theirs) = (median(ours), median(theirs));
            let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
            ctx.report.say(&format!(
                "    {backend}: 19-step fresh install, median of {}: xtask apply {:.1} ms, diesel migration run {:.1} ms, ratio {ratio:.2}x",
                self.runs,
                ours.as_secs_f64() * 1e3,
                theirs.as_secs_f64() * 1e3
            ));
            results.push(serde_json::json!({
                "backend": backend, "runs": self.runs, "xtask_apply_ms": ours.as_secs_f64() * 1e3,
                "diesel_cli_ms": theirs.as_secs_f64() * 1e3, "ratio": ratio,
            }));
        }
        ctx.report.set("results", results);
        Ok(())
    }
}
