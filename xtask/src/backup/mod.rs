//! The data-safety playbooks, thin over `backend::backup`: backup (local or `--remote`), list,
//! verify, prune, restore, export, import, transfer, integrity, and `pre-deploy` (backup +
//! verify + migration check: the CI step before a deploy).

pub mod remote;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use backend::backup::{self, export, integrity, migcheck, prune, store, Manifest, SwapMode};
use backend::config::DatabaseTarget;
use xshell::Shell;

use crate::Ctx;

#[derive(clap::Args, Clone)]
pub struct DirArg {
    /// Where backups live
    #[arg(
        long,
        value_name = "DIR",
        env = "BACKUPS_DIR",
        default_value = "backups"
    )]
    pub backups_dir: PathBuf,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupCmd {
    #[command(subcommand)]
    pub action: Option<BackupAction>,
    /// Download the backup from the running service at URL (admin endpoint; needs ADMIN_TOKEN) instead of connecting to the database
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// Skip verifying the new backup (a remote backup is always verified)
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub dir: DirArg,
}

#[derive(clap::Subcommand)]
pub enum BackupAction {
    /// The backups, oldest first
    List(ListCmd),
    /// Restore a backup into a scratch database and compare it with its manifest
    Verify(VerifyCmd),
    /// Delete the backups a retention policy does not keep
    Prune(PruneCmd),
}

#[derive(clap::Args)]
pub struct ListCmd {
    #[command(flatten)]
    pub dir: DirArg,
}

#[derive(clap::Args)]
pub struct VerifyCmd {
    /// Backup id, `latest`, or a backup folder
    pub backup: String,
    #[command(flatten)]
    pub dir: DirArg,
}

#[derive(clap::Args)]
pub struct PruneCmd {
    /// Keep the N newest
    #[arg(long, default_value_t = 0)]
    pub keep_last: usize,
    /// Keep the newest of each of the D most recent days with backups
    #[arg(long, default_value_t = 0)]
    pub keep_daily: usize,
    /// Keep the newest of each of the W most recent ISO weeks with backups
    #[arg(long, default_value_t = 0)]
    pub keep_weekly: usize,
    /// Show what would go, delete nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub dir: DirArg,
}

fn say_verified(ctx: &mut Ctx, report: &backup::VerifyReport) {
    ctx.report.say(&format!(
        "    {} row(s) in {} table(s): {} content hash(es) and {} applied migration(s) match",
        report.rows, report.tables, report.hashes_matched, report.applied_versions
    ));
    for note in &report.notes {
        ctx.report.say(&format!("    note: {note}"));
    }
}

/// Takes (or downloads) a backup and verifies it; returns its folder and manifest, plus the
/// migration check when `check_migrations`.
fn take(
    ctx: &mut Ctx,
    remote: Option<&str>,
    root: &Path,
    verify: bool,
    check_migrations: bool,
) -> anyhow::Result<(PathBuf, Manifest, Option<migcheck::MigrationCheck>)> {
    let server = ctx.target()?;
    let (path, manifest, temp) = match remote {
        Some(url) => {
            let (temp, manifest) = ctx.report.step(
                &format!(
                    "download the backup from {}",
                    backend::config::redact_url(url)
                ),
                |r| {
                    let (temp, manifest) = remote::download(url, root)?;
                    r.say(&format!(
                        "    {} ({}, {} row(s), {} bytes, taken {})",
                        manifest.id,
                        manifest.backend.tree_name(),
                        manifest.total_rows(),
                        manifest.snapshot.bytes,
                        manifest.created_at
                    ));
                    Ok((temp, manifest))
                },
            )?;
            (temp.clone(), manifest, Some(temp))
        }
        None => {
            let info = ctx
                .report
                .step(&format!("back up {}", server.display()), |r| {
                    let info = backup::create(&server, root)?;
                    r.say(&format!(
                        "    {} ({} table(s), {} row(s), {} bytes)",
                        info.id,
                        info.manifest.tables.len(),
                        info.manifest.total_rows(),
                        info.manifest.snapshot.bytes
                    ));
                    Ok(info)
                })?;
            (info.path, info.manifest, None)
        }
    };
    let cleanup = TempDir(temp.clone());
    let mut migrations = None;
    if verify || remote.is_some() || check_migrations {
        let (report, check) = ctx.report.step(
            "verify: restore into a scratch database and compare with the manifest",
            |_| {
                let (report, check) = backup::verify_and(&path, &server, |conn| {
                    if check_migrations {
                        migcheck::check(conn).map(Some)
                    } else {
                        Ok(None)
                    }
                })?;
                Ok((report, check))
            },
        )?;
        say_verified(ctx, &report);
        ctx.report.set("verify", &report);
        migrations = check;
    }
    let path = match temp {
        Some(temp) => remote::publish(&temp, root, &manifest)?,
        None => path,
    };
    std::mem::forget(cleanup);
    ctx.report.say(&format!("    stored in {}", path.display()));
    ctx.report.set("backup", serde_json::json!({"id": manifest.id, "path": path.display().to_string(), "manifest": manifest}));
    Ok((path, manifest, migrations))
}

struct TempDir(Option<PathBuf>);

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl BackupCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        match &self.action {
            None => {
                take(
                    ctx,
                    self.remote.as_deref(),
                    &self.dir.backups_dir,
                    !self.no_verify,
                    false,
                )?;
                Ok(())
            }
            Some(BackupAction::List(cmd)) => cmd.run(ctx),
            Some(BackupAction::Verify(cmd)) => cmd.run(ctx),
            Some(BackupAction::Prune(cmd)) => cmd.run(ctx),
        }
    }
}

impl ListCmd {
    fn run(&self, ctx: &mut Ctx) -> anyhow::Result<()> {
        let listed = store::list(&self.dir.backups_dir)?;
        if listed.is_empty() {
            ctx.report
                .say(&format!("no backups in {}", self.dir.backups_dir.display()));
        }
        for l in &listed {
            ctx.report.say(&match &l.manifest {
                Some(m) => format!(
                    "{:36} {}  {:8} {:>10} rows {:>12} bytes  {}{}",
                    l.id,
                    m.created_at,
                    m.backend.tree_name(),
                    m.total_rows(),
                    l.bytes,
                    l.verified
                        .as_ref()
                        .map_or("not verified".to_owned(), |v| format!(
                            "verified {}",
                            v.verified_at
                        )),
                    m.note
                        .as_ref()
                        .map_or(String::new(), |n| format!("  ({n})"))
                ),
                None => format!(
                    "{:36} UNREADABLE: {}",
                    l.id,
                    l.problem.clone().unwrap_or_default()
                ),
            });
        }
        let backups: Vec<serde_json::Value> = listed
            .iter()
            .map(|l| {
                serde_json::json!({
                    "id": l.id,
                    "path": l.path.display().to_string(),
                    "bytes": l.bytes,
                    "created_at": l.manifest.as_ref().map(|m| m.created_at.clone()),
                    "backend": l.manifest.as_ref().map(|m| m.backend),
                    "rows": l.manifest.as_ref().map(|m| m.total_rows()),
                    "note": l.manifest.as_ref().and_then(|m| m.note.clone()),
                    "verified": l.verified,
                    "problem": l.problem,
                })
            })
            .collect();
        ctx.report.set("backups", backups);
        Ok(())
    }
}

impl VerifyCmd {
    fn run(&self, ctx: &mut Ctx) -> anyhow::Result<()> {
        let path = store::resolve(&self.dir.backups_dir, &self.backup)?;
        let target = ctx.target()?;
        let report = ctx
            .report
            .step(&format!("verify {}", path.display()), |_| {
                Ok(backup::verify(&path, &target)?)
            })?;
        say_verified(ctx, &report);
        ctx.report.set("verify", &report);
        Ok(())
    }
}

impl PruneCmd {
    fn run(&self, ctx: &mut Ctx) -> anyhow::Result<()> {
        let policy = prune::Policy {
            keep_last: self.keep_last,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
        };
        let report = prune::prune(&self.dir.backups_dir, policy, self.dry_run)?;
        for d in &report.kept {
            ctx.report
                .say(&format!("keep    {} ({})", d.id, d.reasons.join(", ")));
        }
        for d in &report.removed {
            ctx.report.say(&format!(
                "{} {}",
                if self.dry_run {
                    "would delete"
                } else {
                    "deleted"
                },
                d.id
            ));
        }
        for s in &report.skipped {
            ctx.report
                .say(&format!("skipped {s}: not a readable backup, left alone"));
        }
        ctx.report.set("prune", &report);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct RestoreCmd {
    /// Backup id (see `backup list`), `latest`, or a backup folder
    pub backup: String,
    /// Restore into the running service at URL instead (uploads the backup; needs ADMIN_TOKEN)
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    #[command(flatten)]
    pub dir: DirArg,
}

impl RestoreCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let path = store::resolve(&self.dir.backups_dir, &self.backup)?;
        let manifest = Manifest::read(&path)?;
        ctx.report.say(&format!(
            "backup {}: {}, {} row(s), taken {}",
            manifest.id,
            manifest.backend.tree_name(),
            manifest.total_rows(),
            manifest.created_at
        ));
        if let Some(url) = &self.remote {
            let report = ctx.report.step(
                &format!(
                    "upload to {}: verified, safety backup, restored in one transaction",
                    backend::config::redact_url(url)
                ),
                |r| {
                    let report = remote::upload(url, &path)?;
                    r.say(&format!(
                        "    the service's previous state is in its backup {}",
                        report["safety_backup"]
                    ));
                    Ok(report)
                },
            )?;
            ctx.report.set("restore", report);
            return Ok(());
        }
        let target = ctx.target()?;
        let report = ctx.report.step(
            &format!("restore into {}: verify, refuse newer than this code, safety backup, swap atomically", target.display()),
            |r| {
                let report = backup::restore(&target, &self.dir.backups_dir, &path, SwapMode::Auto)?;
                r.say(&format!(
                    "    restored by {}; the previous state is in backup {}",
                    report.method,
                    report.safety_backup.as_deref().unwrap_or("(none: there was no database)")
                ));
                Ok(report)
            },
        )?;
        ctx.report.set("restore", &report);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct ExportCmd {
    /// A new (or empty) folder
    pub dir: PathBuf,
    /// Only these tables (comma-separated or repeated)
    #[arg(long, value_delimiter = ',')]
    pub tables: Vec<String>,
}

/// A progress bar over all rows, moved by (table, rows so far in that table).
fn row_progress(
    ctx: &Ctx,
    total: u64,
    message: &str,
) -> (indicatif::ProgressBar, impl FnMut(&str, u64)) {
    let bar = ctx.report.progress(total, message);
    let handle = bar.clone();
    let mut done_before = 0u64;
    let mut current = (String::new(), 0u64);
    let update = move |table: &str, rows: u64| {
        if current.0 != table {
            done_before += current.1;
            current = (table.to_owned(), 0);
        }
        current.1 = rows;
        handle.set_position(done_before + rows);
        handle.set_message(table.to_owned());
    };
    (bar, update)
}

fn total_rows(target: &DatabaseTarget) -> u64 {
    backend::db::establish(target)
        .ok()
        .and_then(|mut c| backend::api::count_all(&mut c).ok())
        .map(|c| c.values().map(|n| *n as u64).sum())
        .unwrap_or(0)
}

impl ExportCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let selected = (!self.tables.is_empty()).then_some(self.tables.as_slice());
        let (bar, mut progress) = row_progress(ctx, total_rows(&target), "export");
        let manifest = ctx.report.step(
            &format!("export {} to {}", target.display(), self.dir.display()),
            |r| {
                let m = export::export(&target, &self.dir, selected, &mut progress)?;
                r.say(&format!(
                    "    {} row(s) of {} table(s)",
                    m.total_rows(),
                    m.tables.len()
                ));
                Ok(m)
            },
        );
        bar.finish_and_clear();
        ctx.report.set("export", manifest?);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct ImportCmd {
    /// A folder written by `export`
    pub dir: PathBuf,
}

impl ImportCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let manifest = export::ExportManifest::read(&self.dir)?;
        let (bar, mut progress) = row_progress(ctx, manifest.total_rows(), "import");
        let report = ctx.report.step(
            &format!(
                "import {} into {} (one transaction)",
                self.dir.display(),
                target.display()
            ),
            |r| {
                let report = export::import(&target, &self.dir, &mut progress)?;
                r.say(&format!(
                    "    {} row(s) of {} table(s); counts and content hashes checked before COMMIT",
                    report.rows, report.tables
                ));
                Ok(report)
            },
        );
        bar.finish_and_clear();
        ctx.report.set("import", report?);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct TransferCmd {
    /// The destination database (new or empty), e.g. postgres://user@host/db
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Folder for the intermediate export (removed afterwards)
    #[command(flatten)]
    pub dir: DirArg,
}

impl TransferCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let source = ctx.target()?;
        let dest = DatabaseTarget::parse(&self.to).context("--to")?;
        store::create_private_dir(&self.dir.backups_dir)?;
        let (bar, mut progress) = row_progress(ctx, 2 * total_rows(&source), "transfer");
        let report = ctx.report.step(
            &format!(
                "transfer {} -> {} (export, migrate, import, compare)",
                source.display(),
                dest.display()
            ),
            |r| {
                let report =
                    export::transfer(&source, &dest, &self.dir.backups_dir, &mut progress)?;
                r.say(&format!(
                    "    {} row(s) of {} table(s): every count and content hash equal",
                    report.rows, report.tables
                ));
                Ok(report)
            },
        );
        bar.finish_and_clear();
        ctx.report.set("transfer", report?);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct IntegrityCmd {
    /// An asset snapshot older than this many days is a problem
    #[arg(long, value_name = "DAYS")]
    pub max_snapshot_age_days: Option<i64>,
}

impl IntegrityCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let report =
            ctx.report
                .step(&format!("check {}", target.display()), |r| {
                    let report = integrity::check(&target, self.max_snapshot_age_days)?;
                    for (table, rows) in &report.tables {
                        r.say(&format!("    {table:28} {rows:>10}"));
                    }
                    r.say(&format!(
                "    {} foreign key(s) checked, {} orphaned row(s); newest asset snapshot: {}",
                report.foreign_keys_checked,
                report.orphans.iter().map(|o| o.rows).sum::<i64>(),
                report.newest_asset_snapshot.map_or("none".to_owned(), |d| format!(
                    "{d} ({} day(s) old)",
                    report.newest_asset_snapshot_age_days.unwrap_or(0)
                ))
            ));
                    for p in &report.problems {
                        r.say(&format!("    PROBLEM: {p}"));
                    }
                    Ok(report)
                })?;
        let problems = report.problems.clone();
        ctx.report.set("integrity", report);
        if !problems.is_empty() {
            bail!(
                "{} integrity problem(s): {}",
                problems.len(),
                problems.join("; ")
            );
        }
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct PreDeployCmd {
    /// Back up the running service at URL through its admin endpoint (needs ADMIN_TOKEN), e.g. a SQLite database on the platform's volume
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    #[command(flatten)]
    pub dir: DirArg,
}

impl PreDeployCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let (_, manifest, check) = take(
            ctx,
            self.remote.as_deref(),
            &self.dir.backups_dir,
            true,
            true,
        )?;
        let check = check.expect("pre-deploy always checks migrations");
        let problems = ctx.report.step(
            "check migrations: pending, out of order, unknown, edited",
            |r| {
                r.say(&format!(
                    "    {} applied (newest {}), {} pending: {}",
                    check.applied,
                    check.newest_applied.as_deref().unwrap_or("none"),
                    check.pending.len(),
                    if check.pending.is_empty() {
                        "nothing to apply".to_owned()
                    } else {
                        format!("the deploy applies {}", check.pending.join(", "))
                    }
                ));
                let problems = check.problems();
                if problems.is_empty() {
                    Ok(problems)
                } else {
                    bail!("{}", problems.join("; "))
                }
            },
        );
        ctx.report.set("migrations", &check);
        problems?;
        ctx.report
            .say(&format!("ready to deploy: backup {} verified", manifest.id));
        Ok(())
    }
}
