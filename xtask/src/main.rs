//! `cargo xtask`: the project's playbooks. This file only parses and dispatches; each command
//! lives in its own module as a struct with `run(&self, sh, ctx)`.

mod backup;
mod bench;
mod ci;
mod consolidate;
mod container_drill;
mod context;
mod layout;
mod migrate;
mod report;
mod verify_deploy;

use clap::{Parser, Subcommand};
use xshell::Shell;

pub use context::{project_root, Ctx};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "personalfinance playbooks: migrations, backups, consolidation, CI"
)]
struct Cli {
    /// Database: postgres:// URL, sqlite://path or file path [default: DATABASE_URL, then data/personalfinance.db]
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Print one JSON document on stdout; human output goes to stderr
    #[arg(long, global = true)]
    json: bool,
    /// One plain diesel migration tree, run on the database URL's backend
    #[arg(long, global = true, value_name = "DIR", conflicts_with_all = ["migrations_root", "config_file"])]
    migrations_dir: Option<std::path::PathBuf>,
    /// Folder holding any of the sqlite/ and postgres/ migration trees [default: <repo>/migrations]
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        conflicts_with = "config_file"
    )]
    migrations_root: Option<std::path::PathBuf>,
    /// A diesel.toml whose [migrations_directory] dir names the one migration tree
    #[arg(long, global = true, value_name = "FILE", env = "DIESEL_CONFIG_FILE")]
    config_file: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run what CI runs: fmt check, clippy -D warnings, the whole test suite.
    Ci(ci::Ci),
    /// Applied, pending, out-of-order, unknown and edited migrations, drift, the lock holder
    Status(migrate::status::StatusCmd),
    /// Every migration of the tree and whether it is applied
    History(migrate::history::HistoryCmd),
    /// One migration: version, checksum, up.sql, down.sql
    Show(migrate::history::ShowCmd),
    /// A new migration in both trees (optionally generated from schema.rs)
    Create(migrate::create::CreateCmd),
    /// Apply pending migrations (alias: upgrade)
    #[command(alias = "upgrade")]
    Apply(migrate::apply::ApplyCmd),
    /// Revert applied migrations
    Downgrade(migrate::apply::DowngradeCmd),
    /// Print the SQL that apply or downgrade would run, touching nothing
    Sql(migrate::sql::SqlCmd),
    /// Record migrations as applied without running them
    Stamp(migrate::stamp::StampCmd),
    /// Revert and re-apply the latest migration
    Redo(migrate::apply::RedoCmd),
    /// Back up, drop everything and re-apply the whole history (local databases unless --force)
    Reset(migrate::reset::ResetCmd),
    /// Lint the trees: names, pairs, lockstep, checksum files, down reverses up, destructive SQL, schema.rs
    Check(migrate::check::CheckCmd),
    /// Benchmarks against the peer tools, measured in the same run
    Bench(bench::Bench),
    /// Squash the migration chain into one proven baseline and stamp the database (rolls back on failure)
    Consolidate(consolidate::ConsolidateCmd),
    /// The post-consolidation checklist on a live database
    Verify(consolidate::VerifyCmd),
    /// Restore the migration files of a consolidation backup
    Rollback(consolidate::RollbackCmd),
    /// After a deploy: /health/data counts did not drop (--save before, --before after).
    VerifyDeploy(verify_deploy::VerifyDeploy),
    /// Back up the database (or --remote: the running service) and verify it; backup list | verify | prune
    Backup(backup::BackupCmd),
    /// Restore a backup: verified, refused if newer than the code, current state backed up, swapped atomically
    Restore(backup::RestoreCmd),
    /// Every row as JSON Lines per table plus a manifest (streaming)
    Export(backup::ExportCmd),
    /// Load an export into an empty migrated database, in one transaction
    Import(backup::ImportCmd),
    /// Copy every row to another database (e.g. SQLite to PostgreSQL) and compare counts and hashes
    Transfer(backup::TransferCmd),
    /// Engine checks, foreign keys, orphans, per-table counts, newest asset snapshot; fails on problems
    Integrity(backup::IntegrityCmd),
    /// Build the runtime image on a debootstrapped Debian, run it on a volume: /health, uid 10001, rows kept (root, podman)
    ContainerDrill(container_drill::ContainerDrill),
    /// The CI step before a deploy: backup (--remote URL for the running service), verify, migration check
    PreDeploy(backup::PreDeployCmd),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Ci(_) => "ci",
            Command::Status(_) => "status",
            Command::History(_) => "history",
            Command::Show(_) => "show",
            Command::Create(_) => "create",
            Command::Apply(_) => "apply",
            Command::Downgrade(_) => "downgrade",
            Command::Sql(_) => "sql",
            Command::Stamp(_) => "stamp",
            Command::Redo(_) => "redo",
            Command::Reset(_) => "reset",
            Command::Check(_) => "check",
            Command::Bench(_) => "bench",
            Command::Consolidate(_) => "consolidate",
            Command::Verify(_) => "verify",
            Command::Rollback(_) => "rollback",
            Command::VerifyDeploy(_) => "verify-deploy",
            Command::Backup(_) => "backup",
            Command::Restore(_) => "restore",
            Command::Export(_) => "export",
            Command::Import(_) => "import",
            Command::Transfer(_) => "transfer",
            Command::Integrity(_) => "integrity",
            Command::PreDeploy(_) => "pre-deploy",
            Command::ContainerDrill(_) => "container-drill",
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let layout = match layout::Layout::from_args(
        cli.migrations_dir.clone(),
        cli.migrations_root.clone(),
        cli.config_file.clone(),
    ) {
        Ok(layout) => layout,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut ctx = Ctx::new(
        cli.database_url,
        layout,
        cli.command.name(),
        if cli.json {
            report::Output::Json
        } else {
            report::Output::Text
        },
    );
    let outcome = Shell::new().map_err(anyhow::Error::from).and_then(|sh| {
        sh.change_dir(project_root());
        match &cli.command {
            Command::Ci(cmd) => cmd.run(&sh, &mut ctx),
            Command::Status(cmd) => cmd.run(&sh, &mut ctx),
            Command::History(cmd) => cmd.run(&sh, &mut ctx),
            Command::Show(cmd) => cmd.run(&sh, &mut ctx),
            Command::Create(cmd) => cmd.run(&sh, &mut ctx),
            Command::Apply(cmd) => cmd.run(&sh, &mut ctx),
            Command::Downgrade(cmd) => cmd.run(&sh, &mut ctx),
            Command::Sql(cmd) => cmd.run(&sh, &mut ctx),
            Command::Stamp(cmd) => cmd.run(&sh, &mut ctx),
            Command::Redo(cmd) => cmd.run(&sh, &mut ctx),
            Command::Reset(cmd) => cmd.run(&sh, &mut ctx),
            Command::Check(cmd) => cmd.run(&sh, &mut ctx),
            Command::Bench(cmd) => cmd.run(&sh, &mut ctx),
            Command::Consolidate(cmd) => cmd.run(&sh, &mut ctx),
            Command::Verify(cmd) => cmd.run(&sh, &mut ctx),
            Command::Rollback(cmd) => cmd.run(&sh, &mut ctx),
            Command::VerifyDeploy(cmd) => cmd.run(&sh, &mut ctx),
            Command::Backup(cmd) => cmd.run(&sh, &mut ctx),
            Command::Restore(cmd) => cmd.run(&sh, &mut ctx),
            Command::Export(cmd) => cmd.run(&sh, &mut ctx),
            Command::Import(cmd) => cmd.run(&sh, &mut ctx),
            Command::Transfer(cmd) => cmd.run(&sh, &mut ctx),
            Command::Integrity(cmd) => cmd.run(&sh, &mut ctx),
            Command::PreDeploy(cmd) => cmd.run(&sh, &mut ctx),
            Command::ContainerDrill(cmd) => cmd.run(&sh, &mut ctx),
        }
    });
    let failed = outcome.as_ref().err().map(|e| format!("{e:#}"));
    ctx.report.finish(&outcome);
    match failed {
        None => std::process::ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("error: {}", db_conn::redact_urls_in(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
