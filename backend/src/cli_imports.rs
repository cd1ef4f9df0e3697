//! `backend statements import --source <ibkr|wise|okx|evm> FILE` and `backend sync [--source X]`:
//! statement imports and provider syncs (crates/imports) from the command line. The file is
//! streamed, so an IBKR statement of any size imports in flat memory.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::Context;

use db_conn::DatabaseTarget;
use imports::{ImportReport, Source};

#[derive(clap::Subcommand)]
pub enum StatementsCommand {
    /// Import one provider statement file, in one transaction (a re-import changes nothing)
    Import {
        /// ibkr (Flex XML), wise (CSV), okx (bills CSV/JSON or balance JSON), evm (balances JSON)
        #[arg(long, value_parser = parse_source)]
        source: Source,
        file: PathBuf,
    },
}

fn parse_source(text: &str) -> Result<Source, String> {
    text.parse()
        .map_err(|e: statements::StatementError| e.to_string())
}

/// Opens the database, migrated, as `serve` would.
fn open(target: &DatabaseTarget) -> anyhow::Result<db_conn::DbConnection> {
    let mut conn =
        db_conn::establish(target).with_context(|| format!("cannot open {}", target.display()))?;
    pf_data::migrations::run_pending(&mut conn).context("cannot migrate the database")?;
    Ok(conn)
}

fn print_report(label: &str, report: &ImportReport) {
    println!(
        "{label}: added {}, updated {}, skipped {} (run {})",
        report.added, report.updated, report.skipped, report.run_id
    );
    for (table, c) in &report.per_table {
        println!(
            "  {table}: added {}, updated {}, skipped {}",
            c.added, c.updated, c.skipped
        );
    }
}

pub fn run_statements(command: &StatementsCommand, target: &DatabaseTarget) -> anyhow::Result<()> {
    match command {
        StatementsCommand::Import { source, file } => {
            let opened = std::fs::File::open(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let mut conn = open(target)?;
            let report = imports::import(&mut conn, *source, BufReader::new(opened))?;
            print_report(&format!("{source} {}", file.display()), &report);
        }
    }
    Ok(())
}

/// Syncs every provider with credentials in the environment (or only `source`); fails when one
/// of them failed.
pub fn run_sync(source: Option<Source>, target: &DatabaseTarget) -> anyhow::Result<()> {
    let configs = provider_sync::ProviderConfigs::from_env(provider_sync::std_env);
    let mut conn = open(target)?;
    let report = match source {
        Some(source) => imports::sync_only(&mut conn, &configs, source),
        None => imports::sync(&mut conn, &configs),
    };
    let mut failed = Vec::new();
    for outcome in &report.providers {
        match (&outcome.report, &outcome.message) {
            (Some(r), _) => print_report(&outcome.provider, r),
            (None, Some(message)) => println!("{}: {message}", outcome.provider),
            (None, None) => println!("{}: {}", outcome.provider, outcome.status),
        }
        if outcome.status == "failed" {
            failed.push(outcome.provider.clone());
        }
    }
    anyhow::ensure!(failed.is_empty(), "sync failed for {}", failed.join(", "));
    Ok(())
}

pub fn parse_sync_source(text: &str) -> Result<Source, String> {
    parse_source(text)
}
