//! The data-safety playbooks, thin over `backend::backup`: backup (local or `--remote`), list,
//! verify, prune, restore, export, import, transfer, integrity, and `pre-deploy` (backup +
//! verify + migration check: the CI step before a deploy).

mod checks;
mod logical;
pub mod remote;

pub use checks::{IntegrityCmd, PreDeployCmd};
pub use logical::{ExportCmd, ImportCmd, TransferCmd};

use std::path::{Path, PathBuf};

use backend::backup::{self, migcheck, prune, store, Manifest, SwapMode};
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
