//! The data-safety subcommands of the `backend` binary (production has no cargo): the same
//! library `cargo xtask` uses, with plain output.

use std::path::PathBuf;

use anyhow::Context;

use super::{export, integrity, prune, restore, store, verify, SwapMode};
use crate::config::DatabaseTarget;

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

#[derive(clap::Subcommand)]
pub enum BackupAction {
    /// List the backups, oldest first
    List,
    /// Restore a backup into a scratch database and compare it with its manifest
    Verify { backup: String },
    /// Delete backups the retention policy does not keep
    Prune {
        #[arg(long, default_value_t = 0)]
        keep_last: usize,
        #[arg(long, default_value_t = 0)]
        keep_daily: usize,
        #[arg(long, default_value_t = 0)]
        keep_weekly: usize,
        /// Show what would be deleted, delete nothing
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(command: &DataCommand, target: &DatabaseTarget) -> anyhow::Result<()> {
    match command {
        DataCommand::Backup(args) => {
            let dir = args.dir.resolve(target);
            match &args.action {
                None => {
                    let info = super::create(target, &dir)?;
                    println!(
                        "backup {} of {}: {} table(s), {} row(s), {} bytes -> {}",
                        info.id,
                        target.display(),
                        info.manifest.tables.len(),
                        info.manifest.total_rows(),
                        info.manifest.snapshot.bytes,
                        info.path.display()
                    );
                    if !args.no_verify {
                        let report = verify::verify(&info.path, target)?;
                        println!(
                            "verified: {} row(s) in {} table(s) match the manifest",
                            report.rows, report.tables
                        );
                    }
                }
                Some(BackupAction::List) => {
                    let listed = store::list(&dir)?;
                    if listed.is_empty() {
                        println!("no backups in {}", dir.display());
                    }
                    for l in listed {
                        match &l.manifest {
                            Some(m) => {
                                println!(
                                    "{}  {}  {:8}  {:>10} rows  {:>12} bytes  {}",
                                    l.id,
                                    m.created_at,
                                    m.backend.tree_name(),
                                    m.total_rows(),
                                    l.bytes,
                                    l.verified.as_ref().map_or(
                                        "not verified".to_owned(),
                                        |v| format!("verified {}", v.verified_at)
                                    )
                                )
                            }
                            None => {
                                println!("{}  UNREADABLE: {}", l.id, l.problem.unwrap_or_default())
                            }
                        }
                    }
                }
                Some(BackupAction::Verify { backup }) => {
                    let path = store::resolve(&dir, backup)?;
                    let report = verify::verify(&path, target)?;
                    println!(
                        "backup {} verifies: {} row(s) in {} table(s), {} content hash(es) and {} applied migration(s) match",
                        report.id, report.rows, report.tables, report.hashes_matched, report.applied_versions
                    );
                    for note in report.notes {
                        println!("note: {note}");
                    }
                }
                Some(BackupAction::Prune {
                    keep_last,
                    keep_daily,
                    keep_weekly,
                    dry_run,
                }) => {
                    let policy = prune::Policy {
                        keep_last: *keep_last,
                        keep_daily: *keep_daily,
                        keep_weekly: *keep_weekly,
                    };
                    let report = prune::prune(&dir, policy, *dry_run)?;
                    for d in &report.kept {
                        println!("keep    {} ({})", d.id, d.reasons.join(", "));
                    }
                    for d in &report.removed {
                        println!(
                            "{} {}",
                            if *dry_run { "would delete" } else { "deleted" },
                            d.id
                        );
                    }
                    for s in &report.skipped {
                        println!("skipped {s} (not a readable backup)");
                    }
                }
            }
        }
        DataCommand::Restore { backup, dir } => {
            let dir = dir.resolve(target);
            let path = store::resolve(&dir, backup)?;
            let report = restore::restore(target, &dir, &path, SwapMode::Auto)?;
            println!(
                "restored backup {} ({} row(s), taken {}) into {} by {}; the previous state is in backup {}",
                report.restored,
                report.rows,
                report.created_at,
                target.display(),
                report.method,
                report.safety_backup.as_deref().unwrap_or("(none: there was no database)")
            );
        }
        DataCommand::Export { dir, tables } => {
            let selected = (!tables.is_empty()).then_some(tables.as_slice());
            let manifest = export::export(target, dir, selected, &mut |_, _| {})?;
            println!(
                "exported {} row(s) of {} table(s) to {}",
                manifest.total_rows(),
                manifest.tables.len(),
                dir.display()
            );
        }
        DataCommand::Import { dir } => {
            let report = export::import(target, dir, &mut |_, _| {})?;
            println!(
                "imported {} row(s) of {} table(s) into {}",
                report.rows,
                report.tables,
                target.display()
            );
        }
        DataCommand::Transfer { to } => {
            let dest = DatabaseTarget::parse(to).context("--to")?;
            let work = store::dir_for(target);
            store::create_private_dir(&work)?;
            let report = export::transfer(target, &dest, &work, &mut |_, _| {})?;
            println!(
                "transferred {} row(s) of {} table(s) from {} to {}: every count and content hash equal",
                report.rows, report.tables, report.from, report.to
            );
        }
        DataCommand::Integrity {
            max_snapshot_age_days,
        } => {
            let report = integrity::check(target, *max_snapshot_age_days)?;
            for (table, rows) in &report.tables {
                println!("{table:28} {rows:>10}");
            }
            println!(
                "{} foreign key(s) checked; newest asset snapshot: {}",
                report.foreign_keys_checked,
                report
                    .newest_asset_snapshot
                    .map_or("none".to_owned(), |d| format!(
                        "{d} ({} day(s) old)",
                        report.newest_asset_snapshot_age_days.unwrap_or(0)
                    ))
            );
            if !report.ok {
                anyhow::bail!(
                    "{} integrity problem(s): {}",
                    report.problems.len(),
                    report.problems.join("; ")
                );
            }
            println!("integrity: ok");
        }
    }
    Ok(())
}
