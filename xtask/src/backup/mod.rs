//! The data-safety playbooks, thin over `data_safety`: backup (local or `--remote`), list,
//! verify, prune, restore, export, import, transfer, integrity, and `pre-deploy` (backup +
//! verify + migration check: the CI step before a deploy).

mod checks;
mod logical;
pub mod remote;

pub use checks::{IntegrityCmd, PreDeployCmd};
pub use logical::{ExportCmd, ImportCmd, TransferCmd};

use std::path::{Path, PathBuf};

use anyhow::bail;
use backend::backup_cli::KeyArgs;
use data_safety::render::indented;
use data_safety::{self as backup, migcheck, prune, store, Keys, Manifest, SwapMode};
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
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(clap::Subcommand)]
pub enum BackupAction {
    /// The backups, oldest first
    List(ListCmd),
    /// Restore a backup into a scratch database and compare it with its manifest
    Verify(VerifyCmd),
    /// Delete the backups a retention policy does not keep
    Prune(PruneCmd),
    /// Write a new age identity file (0600) for encrypted backups; prints its public key
    Keygen(KeygenCmd),
    /// Fail unless every backup in the folder is complete and its snapshot encrypted (before an upload off the server)
    CheckEncrypted(ListCmd),
}

#[derive(clap::Args)]
pub struct KeygenCmd {
    /// The identity file to create (never overwritten)
    pub file: PathBuf,
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
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(clap::Args)]
pub struct PruneCmd {
    #[command(flatten)]
    pub policy: backend::backup_cli::PolicyArgs,
    /// Show what would go, delete nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub dir: DirArg,
}

fn say_verified(ctx: &mut Ctx, report: &backup::VerifyReport) {
    ctx.report.say(&indented(report, 4));
}

/// What [`take`] checks once the backup exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checks {
    /// Nothing (a local backup with `--no-verify`).
    None,
    /// Restore into a scratch database and compare with the manifest.
    Verify,
    /// Verify, and compare the backup's migrations with this code's (pre-deploy).
    VerifyAndMigrations,
}

/// Takes (or downloads) a backup and verifies it; returns its folder and manifest, plus the
/// migration check with [`Checks::VerifyAndMigrations`].
fn take(
    ctx: &mut Ctx,
    remote: Option<&str>,
    root: &Path,
    checks: Checks,
    keys: &Keys,
) -> anyhow::Result<(PathBuf, Manifest, Option<migcheck::MigrationCheck>)> {
    let check_migrations = checks == Checks::VerifyAndMigrations;
    let server = ctx.target()?;
    let verifies = checks != Checks::None || remote.is_some();
    if verifies && keys.recipients.is_some() && keys.identity.is_none() {
        bail!("an encrypted backup is verified by restoring it, which needs its identity: pass --identity FILE (or BACKUP_IDENTITY) with --encrypt-to, or --no-verify for a local backup");
    }
    let (path, manifest, temp) = match remote {
        Some(url) => {
            let (temp, manifest) = ctx.report.step(
                &format!("download the backup from {}", db_conn::redact_url(url)),
                |r| {
                    let (temp, manifest) = remote::download(url, root, keys.recipients.as_ref())?;
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
                    let options = backup::CreateOptions {
                        note: None,
                        encrypt_to: keys.recipients.clone(),
                    };
                    let info = backup::create_with(&server, root, &options)?;
                    r.say(&indented(&info, 4));
                    Ok(info)
                })?;
            (info.path, info.manifest, None)
        }
    };
    // A downloaded backup not yet published is removed if anything below fails.
    let cleanup = temp.clone().map(safe_fs::RemoveOnDrop::new);
    let mut migrations = None;
    // A download is always verified: it crossed a network.
    if verifies {
        let (report, check) = ctx.report.step(
            "verify: restore into a scratch database and compare with the manifest",
            |_| {
                let (report, check) = backup::verify_and(&path, &server, keys, |conn| {
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
    cleanup.map(safe_fs::RemoveOnDrop::keep);
    ctx.report.say(&format!("    stored in {}", path.display()));
    ctx.report.set("backup", serde_json::json!({"id": manifest.id, "path": path.display().to_string(), "manifest": manifest}));
    Ok((path, manifest, migrations))
}

impl BackupCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        match &self.action {
            None => {
                take(
                    ctx,
                    self.remote.as_deref(),
                    &self.dir.backups_dir,
                    if self.no_verify {
                        Checks::None
                    } else {
                        Checks::Verify
                    },
                    &self.keys.keys()?,
                )?;
                Ok(())
            }
            Some(BackupAction::List(cmd)) => cmd.run(ctx),
            Some(BackupAction::Verify(cmd)) => cmd.run(ctx),
            Some(BackupAction::Prune(cmd)) => cmd.run(ctx),
            Some(BackupAction::Keygen(cmd)) => {
                let public = backup::encryption::keygen(&cmd.file)?;
                ctx.report.say(&format!(
                    "wrote the identity {} (keep it secret, keep a copy off the server)",
                    cmd.file.display()
                ));
                ctx.report.say(&format!(
                    "public key (BACKUP_RECIPIENTS / --encrypt-to): {public}"
                ));
                ctx.report.set("recipient", public);
                Ok(())
            }
            Some(BackupAction::CheckEncrypted(cmd)) => cmd.check_encrypted(ctx),
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
            ctx.report.say(&l.to_string());
        }
        // One flat object per backup (the manifest's essentials beside the listing's own).
        let backups: Vec<serde_json::Value> = listed
            .iter()
            .map(|l| {
                let m = l.manifest.as_ref();
                serde_json::json!({
                    "id": l.id,
                    "path": l.path.display().to_string(),
                    "bytes": l.bytes,
                    "created_at": m.map(|m| m.created_at.clone()),
                    "backend": m.map(|m| m.backend),
                    "rows": m.map(|m| m.total_rows()),
                    "note": m.and_then(|m| m.note.clone()),
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
                Ok(backup::verify_with(&path, &target, &self.keys.keys()?)?)
            })?;
        say_verified(ctx, &report);
        ctx.report.set("verify", &report);
        Ok(())
    }
}

impl PruneCmd {
    fn run(&self, ctx: &mut Ctx) -> anyhow::Result<()> {
        let mode = if self.dry_run {
            prune::Mode::DryRun
        } else {
            prune::Mode::Delete
        };
        let report = prune::prune(&self.dir.backups_dir, self.policy.policy(), mode)?;
        ctx.report.say(&report.to_string());
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
    #[command(flatten)]
    pub keys: KeyArgs,
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
                    db_conn::redact_url(url)
                ),
                |r| {
                    let report = remote::upload(url, &path, &self.keys.keys()?)?;
                    r.say(&indented(&report, 4));
                    Ok(report)
                },
            )?;
            ctx.report.set("restore", report);
            return Ok(());
        }
        let target = ctx.target()?;
        let history = crate::migrate::tree(ctx, &target)?;
        let report = ctx.report.step(
            &format!("restore into {}: verify, refuse newer than the migration tree, safety backup, swap atomically", target.display()),
            |r| {
                let keys = self.keys.keys()?;
                let report = backup::restore_with(&target, &self.dir.backups_dir, &path, SwapMode::Auto, &history, &keys)?;
                r.say(&indented(&report, 4));
                Ok(report)
            },
        )?;
        ctx.report.set("restore", &report);
        Ok(())
    }
}

impl ListCmd {
    fn check_encrypted(&self, ctx: &mut Ctx) -> anyhow::Result<()> {
        let ids = backup::offsite::check_folder(&self.dir.backups_dir)?;
        ctx.report.say(&format!(
            "{}: {} backup(s), every snapshot encrypted: {}",
            self.dir.backups_dir.display(),
            ids.len(),
            ids.join(", ")
        ));
        ctx.report.set("encrypted", ids);
        Ok(())
    }
}
