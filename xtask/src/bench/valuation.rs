//! `cargo xtask bench valuation`: a year (365 days) of daily valuation (`ledger::valuation`)
//! of 1,000 holdings on SQLite: 700 manual positions in CNY/USD/EUR/HKD, 200 IBKR positions
//! snapshotted every day (73,000 rows), 50 Wise balances and 50 tokens priced in USD, with
//! daily USD/EUR/HKD→CNY rates. Each run seeds a fresh database (not timed), then values
//! every day of the year in order, one transaction per day. Reports the median run and the
//! per-day time. Use a release build for real figures:
//! `cargo run --release -p xtask -- bench valuation`.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;
use xshell::Shell;

use db_conn::{DatabaseTarget, DbConnection};
use pf_data::decimal::Decimal;
use pf_data::models::*;
use pf_data::resource::Resource;

use super::migrate::median;
use crate::Ctx;

const DAYS: u64 = 365;
const POSITIONS: usize = 700;
const IBKR_POSITIONS: usize = 200;
const WISE: usize = 50;
const TOKENS: usize = 50;
const CURRENCIES: [&str; 4] = ["CNY", "USD", "EUR", "HKD"];

#[derive(clap::Args)]
pub struct BenchValuation {
    /// Repetitions of the whole year (the median is reported)
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("bench decimal")
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
}

fn before_the_year() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 12, 31)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("timestamp")
}

/// Multi-row inserts per backend (diesel's MultiBackend has none), in chunks.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(500) {
            match $conn {
                DbConnection::Pg(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
    };
}

fn seed(conn: &mut DbConnection) -> anyhow::Result<()> {
    seed_positions(conn)?;
    seed_ibkr(conn)?;
    seed_cash_and_tokens(conn)?;
    seed_rates(conn)
}

fn seed_positions(conn: &mut DbConnection) -> anyhow::Result<()> {
    use pf_data::schema::asset_positions;
    let positions: Vec<NewAssetPosition> = (0..POSITIONS)
        .map(|i| NewAssetPosition {
            platform: format!("Bank{}", i % 7),
            asset_type: "fund".into(),
            asset_code: format!("F{i:04}"),
            asset_name: None,
            currency: CURRENCIES[i % 4].into(),
            quantity: dec(&format!("{}.{:03}", 100 + i, i % 1000)),
            avg_cost: None,
            current_price: Some(dec(&format!("1.{:04}", i))),
            market_value: None,
        })
        .collect();
    insert_all!(conn, asset_positions::table, positions);
    diesel::update(asset_positions::table)
        .set(asset_positions::created_at.eq(before_the_year()))
        .execute(conn)?;
    Ok(())
}

/// One account, every position snapshotted every day of the year.
fn seed_ibkr(conn: &mut DbConnection) -> anyhow::Result<()> {
    use pf_data::schema::ibkr_positions;
    let account = NewIbkrAccount {
        account_id: "U0000001".into(),
        account_name: None,
        account_type: None,
        base_currency: "USD".into(),
        is_active: true,
    };
    let account = IbkrAccount::create(conn, &account)?.id;
    let mut rows = Vec::with_capacity(IBKR_POSITIONS * DAYS as usize);
    for day in 0..DAYS {
        let date = first_day() + Days::new(day);
        rows.extend((0..IBKR_POSITIONS).map(|i| NewIbkrPosition {
            ibkr_account_id: account,
            symbol: format!("S{i:03}"),
            sec_type: "STK".into(),
            currency: "USD".into(),
            quantity: dec("10"),
            avg_cost: None,
            market_price: Some(dec(&format!("{}.{:02}", 50 + i, day % 100))),
            market_value: None,
            unrealized_pnl: None,
            snapshot_date: date,
        }));
    }
    insert_all!(conn, ibkr_positions::table, rows);
    Ok(())
}

fn seed_cash_and_tokens(conn: &mut DbConnection) -> anyhow::Result<()> {
    use pf_data::schema::{web3_tokens, wise_balances};
    let start = before_the_year();
    let wise: Vec<NewWiseBalance> = (0..WISE)
        .map(|i| NewWiseBalance {
            profile_id: "p".into(),
            account_id: format!("a{i}"),
            currency: CURRENCIES[1 + i % 3].into(),
            available: dec(&format!("{i}.5")),
            reserved: dec("0"),
            update_time: start,
            sync_cursor: None,
            last_synced_at: None,
        })
        .collect();
    insert_all!(conn, wise_balances::table, wise);
    let tokens: Vec<NewWeb3Token> = (0..TOKENS)
        .map(|i| NewWeb3Token {
            wallet_address: format!("0x{i:040x}"),
            chain: "ethereum".into(),
            token_symbol: format!("T{i}"),
            token_name: None,
            contract_address: None,
            balance: dec("1.5"),
            price_usd: Some(dec(&format!("{i}.123"))),
            value_usd: None,
            update_time: start,
        })
        .collect();
    insert_all!(conn, web3_tokens::table, tokens);
    Ok(())
}

fn seed_rates(conn: &mut DbConnection) -> anyhow::Result<()> {
    use pf_data::schema::exchange_rate_snapshots;
    let mut rates = Vec::new();
    for day in 0..DAYS {
        let date = first_day() + Days::new(day);
        for (from, base) in [("USD", "7.1"), ("EUR", "7.8"), ("HKD", "0.91")] {
            rates.push(NewExchangeRateSnapshot {
                snapshot_date: date,
                snapshot_time: before_the_year(),
                from_currency: from.into(),
                to_currency: "CNY".into(),
                rate: dec(&format!("{base}{:02}", day % 100)),
                source: None,
            });
        }
    }
    insert_all!(conn, exchange_rate_snapshots::table, rates);
    Ok(())
}

impl BenchValuation {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        anyhow::ensure!(self.runs > 0, "--runs must be at least 1");
        let holdings = POSITIONS + IBKR_POSITIONS + WISE + TOKENS;
        let mut samples: Vec<Duration> = Vec::new();
        let bar = ctx
            .report
            .progress(self.runs as u64 * DAYS, "daily valuations");
        for _ in 0..self.runs {
            let dir = tempfile::tempdir()?;
            let target = DatabaseTarget::sqlite(dir.path().join("bench.db"));
            let conn = &mut db_conn::establish(&target)?;
            pf_data::migrations::run_pending(conn).context("cannot migrate the bench database")?;
            seed(conn)?;
            let started = Instant::now();
            for day in 0..DAYS {
                let report = ledger::valuation::run(conn, first_day() + Days::new(day))?;
                anyhow::ensure!(
                    report.rows_written == holdings,
                    "day {day}: {} rows written, expected {holdings}",
                    report.rows_written
                );
                bar.inc(1);
            }
            samples.push(started.elapsed());
        }
        bar.finish_and_clear();
        let year = median(samples);
        let per_day_ms = year.as_secs_f64() * 1e3 / DAYS as f64;
        ctx.report.say(&format!(
            "    sqlite: {DAYS} days x {holdings} holdings, median of {}: {:.2} s per year, {per_day_ms:.1} ms per day",
            self.runs,
            year.as_secs_f64()
        ));
        ctx.report.set(
            "results",
            json!({"backend": "sqlite", "days": DAYS, "holdings": holdings, "runs": self.runs,
                   "year_seconds": year.as_secs_f64(), "per_day_ms": per_day_ms}),
        );
        Ok(())
    }
}
