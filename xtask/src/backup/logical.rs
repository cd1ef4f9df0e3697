//! `export`, `import` and `transfer`: the logical, backend-neutral copy of every row.

use std::path::PathBuf;

use anyhow::Context;
use data_safety::{export, store};
use db_conn::DatabaseTarget;
use xshell::Shell;

use super::*;
use crate::Ctx;

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
    db_conn::establish(target)
        .ok()
        .and_then(|mut c| pf_data::counts::count_all(&mut c).ok())
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
                r.say(&indented(&m, 4));
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
                r.say(&indented(&report, 4));
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
                r.say(&indented(&report, 4));
                Ok(report)
            },
        );
        bar.finish_and_clear();
        ctx.report.set("transfer", report?);
        Ok(())
    }
}
