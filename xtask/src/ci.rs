//! `cargo xtask ci`: the checks `.ci/run` runs, so CI can be reproduced locally.

use anyhow::Context;
use xshell::{cmd, Shell};

#[derive(clap::Args)]
pub struct Ci {
    /// Skip `cargo fmt --check` and clippy; only run the tests.
    #[arg(long)]
    pub tests_only: bool,
}

impl Ci {
    pub fn run(&self, sh: &Shell) -> anyhow::Result<()> {
        if !self.tests_only {
            step("cargo fmt --check");
            cmd!(sh, "cargo fmt --all -- --check")
                .run()
                .context("formatting differs: run `cargo fmt --all` and commit")?;
            step("cargo clippy -D warnings");
            cmd!(
                sh,
                "cargo clippy --workspace --all-targets --locked -- -D warnings"
            )
            .run()
            .context("clippy found problems: fix the warnings above")?;
        }
        step("cargo test");
        cmd!(sh, "cargo test --workspace --locked")
            .run()
            .context("tests failed: see the output above")?;
        println!("xtask ci: all checks passed");
        Ok(())
    }
}

fn step(name: &str) {
    println!("==> {name}");
}
