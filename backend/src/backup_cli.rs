//! The data-safety subcommands of the `backend` binary (production has no cargo): the same
//! library `cargo xtask` uses, with plain output.

use std::path::PathBuf;

use anyhow::Context;

use data_safety::{export, integrity, prune, restore, store, verify, SwapMode};
use data_safety::{CreateOptions, Keys};
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
        #[command(flatten)]
        keys: KeyArgs,
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
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// The age keys of encrypted backups (see `backup keygen`).
#[derive(clap::Args, Clone, Default)]
pub struct KeyArgs {
    /// Encrypt the snapshot to these age public keys (age1..., comma-separated) while it is written
    #[arg(
        long,
        value_name = "RECIPIENT",
        env = "BACKUP_RECIPIENTS",
        value_delimiter = ','
    )]
    pub encrypt_to: Vec<String>,
    /// The age identity file that opens encrypted backups (to verify or restore them)
    #[arg(long, value_name = "FILE", env = "BACKUP_IDENTITY")]
    pub identity: Option<PathBuf>,
}

impl KeyArgs {
    pub fn keys(&self) -> anyhow::Result<Keys> {
        Ok(Keys::new(
            Some(&self.encrypt_to.join(",")),
            self.identity.as_deref(),
        )?)
    }
}

/// Prints what a new backup's verification did: by restore when it could be opened, else
/// (encrypted, no identity here) only its file checked, and how to verify it fully.
pub fn verify_new(
    info: &data_safety::BackupInfo,
    target: &DatabaseTarget,
    keys: &Keys,
) -> anyhow::Result<String> {
    if info.manifest.snapshot.encryption.is_some() && keys.identity.is_none() {
        verify::check_file(&info.path, &info.manifest)?;
        return Ok(format!(
            "backup {} is encrypted and no identity is given here: its file was checked, not its content; verify it where the identity is: `backup verify {} --identity FILE`",
            info.id, info.id
        ));
    }
    Ok(verify::verify_with(&info.path, target, keys)?.to_string())
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
    Verify {
        backup: String,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Write a new age identity file (0600) for encrypted backups; prints its public key
    Keygen {
        /// The identity file to create (never overwritten)
        file: PathBuf,
    },
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
        DataCommand::Restore { backup, dir, keys } => {
            let dir = dir.resolve(target);
            let path = store::resolve(&dir, backup)?;
            let history = pf_data::migrations::embedded(target.backend());
            let keys = keys.keys()?;
            let report =
                restore::restore_with(target, &dir, &path, SwapMode::Auto, history, &keys)?;
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
            let keys = args.keys.keys()?;
            let options = CreateOptions {
                note: None,
                encrypt_to: keys.recipients.clone(),
            };
            let info = data_safety::create_with(target, &dir, &options)?;
            println!("{}: {info}", target.display());
            if !args.no_verify {
                println!("{}", verify_new(&info, target, &keys)?);
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
        Some(BackupAction::Verify { backup, keys }) => {
            let path = store::resolve(&dir, backup)?;
            println!("{}", verify::verify_with(&path, target, &keys.keys()?)?);
        }
        Some(BackupAction::Keygen { file }) => {
            let public = data_safety::encryption::keygen(file)?;
            println!("wrote the identity {} (keep it secret, keep a copy off the server)\npublic key (BACKUP_RECIPIENTS / --encrypt-to): {public}", file.display());
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
