//! The data-safety subcommands of the `backend` binary (production has no cargo): the same
//! library `cargo xtask` uses, with plain output.

use std::path::PathBuf;

use anyhow::Context;

use data_safety::{export, integrity, prune, restore, store, verify, SwapMode};
use db_conn::DatabaseTarget;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Back up the database and verify the backup; or list, verify, prune backups
    Backup(BackupArgs),
    /// Restore a backup (verified first; the current state is backed up before it is replaced)
    Restore {
        /// Backup id (see `backup list`), `latest`, or a backup folder
        backup: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Write every row as JSON Lines, one file per table, plus a manifest
    Export {
        /// A new (or empty) folder
        dir: PathBuf,
        /// Only these tables (comma-separated)
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
    },
    /// Load an export into an empty migrated database, in one transaction
    Import { dir: PathBuf },
    /// Copy every row into another (new or empty) database, e.g. SQLite to PostgreSQL, and compare
    Transfer {
        /// The destination database URL
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Check the data: engine checks, foreign keys, orphans, counts, snapshot freshness
    Integrity {
        /// An asset snapshot older than this many days is a problem
        #[arg(long, value_name = "DAYS")]
        max_snapshot_age_days: Option<i64>,
    },
}

#[derive(clap::Args)]
pub struct DirArg {
    /// Backups folder [default: BACKUPS_DIR, else `backups` beside the SQLite file, else ./backups]
    #[arg(long, value_name = "DIR")]
    pub backups_dir: Option<PathBuf>,
}

impl DirArg {
    fn resolve(&self, target: &DatabaseTarget) -> PathBuf {
        self.backups_dir
            .clone()
            .unwrap_or_else(|| store::dir_for(target))
    }
}

#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub action: Option<BackupAction>,
    /// Skip the verification of the new backup
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub dir: DirArg,
}

/// A retention policy as options: every kept backup is kept for at least one of them.
#[derive(clap::Args)]
pub struct PolicyArgs {
    /// Keep the N newest
    #[arg(long, default_value_t = 0)]
    pub keep_last: usize,
    /// Keep the newest of each of the D most recent days with backups
    #[arg(long, default_value_t = 0)]
    pub keep_daily: usize,
    /// Keep the newest of each of the W most recent ISO weeks with backups
    #[arg(long, default_value_t = 0)]
    pub keep_weekly: usize,
}

impl PolicyArgs {
    pub fn policy(&self) -> prune::Policy {
        prune::Policy {
            keep_last: self.keep_last,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
        }
    }
}

#[derive(clap::Subcommand)]
pub enum BackupAction {
    /// List the backups, oldest first
    List,
    /// Restore a backup into a scratch database and compare it with its manifest
    Verify { backup: String },
    /// Delete backups the retention policy does not keep
    Prune {
        #[command(flatten)]
        policy: PolicyArgs,
        /// Show what would be deleted, delete nothing
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(command: &DataCommand, target: &DatabaseTarget) -> anyhow::Result<()> {
    match command {
        DataCommand::Backup(args) => backup(args, target),
        DataCommand::Restore { backup, dir } => {
            let dir = dir.resolve(target);
            let path = store::resolve(&dir, backup)?;
            let report = restore::restore(target, &dir, &path, SwapMode::Auto)?;
            println!("{}: {report}", target.display());
            Ok(())
        }
        DataCommand::Export { dir, tables } => {
            let selected = (!tables.is_empty()).then_some(tables.as_slice());
            let manifest = export::export(target, dir, selected, &mut |_, _| {})?;
            println!("{manifest} to {}", dir.display());
            Ok(())
        }
        DataCommand::Import { dir } => {
            let report = export::import(target, dir, &mut |_, _| {})?;
            println!("{report} (into {})", target.display());
            Ok(())
        }
        DataCommand::Transfer { to } => {
            let dest = DatabaseTarget::parse(to).context("--to")?;
            let work = store::dir_for(target);
            store::create_private_dir(&work)?;
            println!(
                "{}",
                export::transfer(target, &dest, &work, &mut |_, _| {})?
            );
            Ok(())
        }
        DataCommand::Integrity {
            max_snapshot_age_days,
        } => {
            let report = integrity::check(target, *max_snapshot_age_days)?;
            println!("{report}");
            match report.failure() {
                Some(failure) => anyhow::bail!(failure),
                None => Ok(()),
            }
        }
    }
}

fn backup(args: &BackupArgs, target: &DatabaseTarget) -> anyhow::Result<()> {
    let dir = args.dir.resolve(target);
    match &args.action {
        None => {
            let info = data_safety::create(target, &dir)?;
            println!("{}: {info}", target.display());
            if !args.no_verify {
                println!("{}", verify::verify(&info.path, target)?);
            }
        }
        Some(BackupAction::List) => {
            let listed = store::list(&dir)?;
            if listed.is_empty() {
                println!("no backups in {}", dir.display());
            }
            for l in listed {
                println!("{l}");
            }
        }
        Some(BackupAction::Verify { backup }) => {
            let path = store::resolve(&dir, backup)?;
            println!("{}", verify::verify(&path, target)?);
        }
        Some(BackupAction::Prune { policy, dry_run }) => {
            let mode = if *dry_run {
                prune::Mode::DryRun
            } else {
                prune::Mode::Delete
            };
            println!("{}", prune::prune(&dir, policy.policy(), mode)?);
        }
    }
    Ok(())
}
