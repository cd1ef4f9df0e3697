//! `backend dca run [--as-of DATE]` and `backend snapshots run [--date DATE]`: the
//! bookkeeping jobs (crates/ledger) from the command line or a cron, plain text or `--json`.

use anyhow::Context;
use chrono::NaiveDate;

use db_conn::{DatabaseTarget, DbConnection};
use ledger::dca::DcaReport;
use ledger::valuation::SnapshotReport;

#[derive(clap::Subcommand)]
pub enum LedgerCommand {
    /// DCA plans: `dca run` records every purchase due (idempotent)
    #[command(subcommand)]
    Dca(DcaAction),
    /// Daily valuation: `snapshots run` values every holding into asset_snapshots
    #[command(subcommand)]
    Snapshots(SnapshotsAction),
}

#[derive(clap::Subcommand)]
pub enum DcaAction {
    /// Create the user_operations of every purchase due up to a date, in one transaction
    Run {
        /// Last day to buy on [default: today in system_config.snapshot_timezone]
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
        #[command(flatten)]
        output: OutputArg,
    },
}

#[derive(clap::Subcommand)]
pub enum SnapshotsAction {
    /// Value every holding on a date and replace that day's asset_snapshots, in one transaction
    Run {
        /// Day to value [default: today in system_config.snapshot_timezone]
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
        #[command(flatten)]
        output: OutputArg,
    },
}

#[derive(clap::Args)]
pub struct OutputArg {
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

/// Opens the database, migrated, as `serve` would.
fn open(target: &DatabaseTarget) -> anyhow::Result<DbConnection> {
    let mut conn =
        db_conn::establish(target).with_context(|| format!("cannot open {}", target.display()))?;
    pf_data::migrations::run_pending(&mut conn).context("cannot migrate the database")?;
    Ok(conn)
}

fn day_or_today(conn: &mut DbConnection, day: Option<NaiveDate>) -> anyhow::Result<NaiveDate> {
    match day {
        Some(day) => Ok(day),
        None => Ok(ledger::settings::Settings::read(conn)?.today()),
    }
}

pub fn run(command: &LedgerCommand, target: &DatabaseTarget) -> anyhow::Result<()> {
    let mut conn = open(target)?;
    match command {
        LedgerCommand::Dca(DcaAction::Run { as_of, output }) => {
            let as_of = day_or_today(&mut conn, *as_of)?;
            let report = ledger::dca::run(&mut conn, as_of)?;
            match output.json {
                true => println!("{}", serde_json::to_string_pretty(&report)?),
                false => print_dca(&report),
            }
        }
        LedgerCommand::Snapshots(SnapshotsAction::Run { date, output }) => {
            let date = day_or_today(&mut conn, *date)?;
            let report = ledger::valuation::run(&mut conn, date)?;
            match output.json {
                true => println!("{}", serde_json::to_string_pretty(&report)?),
                false => print_snapshots(&report),
            }
        }
    }
    Ok(())
}

fn print_dca(report: &DcaReport) {
    println!(
        "DCA run as of {}: {} plan(s), {} operation(s) created, {} skipped",
        report.as_of,
        report.plans_seen,
        report.created.len(),
        report.skipped.len()
    );
    for op in &report.created {
        let quantity = op
            .quantity
            .as_ref()
            .map_or("quantity unknown".to_owned(), |q| format!("quantity {q}"));
        println!(
            "  + #{} plan {} {} {} {} {} {} (fee {}), {quantity}",
            op.operation_id,
            op.plan_id,
            op.date,
            op.platform,
            op.asset_code,
            op.amount,
            op.currency,
            op.fee
        );
    }
    for (plan, reason) in &report.skipped {
        println!("  - plan {plan}: {reason}");
    }
}

fn print_snapshots(report: &SnapshotReport) {
    println!(
        "valuation of {}: {} holding(s) written ({} replaced), total {} {}",
        report.date, report.rows_written, report.rows_replaced, report.total, report.base_currency
    );
    for (platform, value) in &report.by_platform {
        println!("  {platform}: {value} {}", report.base_currency);
    }
    for token in &report.unpriced_tokens {
        println!("  - left out (no price): {token}");
    }
}
