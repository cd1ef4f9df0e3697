//! `cargo xtask`: the project's playbooks. This file only parses and dispatches; each command
//! lives in its own module as a struct with `run(&self, sh)`.

mod ci;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use xshell::Shell;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "personalfinance playbooks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run what CI runs: fmt check, clippy -D warnings, the whole test suite.
    Ci(ci::Ci),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = Shell::new().inspect(|sh| sh.change_dir(project_root()));
    let outcome = match result {
        Ok(sh) => match cli.command {
            Command::Ci(cmd) => cmd.run(&sh),
        },
        Err(e) => Err(e.into()),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The workspace root, wherever cargo was invoked from.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
