//! Valuing every holding of a day into `asset_snapshots`.
//!
//! One transaction behind the valuation job lock: read the holdings (see [`sources`] for
//! which rows), value them in `system_config.base_currency` with the
//! `exchange_rate_snapshots` rows dated on or before the day (`portfolio::valuation`'s
//! rules: `base_value` to 2 places, half-even), delete the day's `asset_snapshots` rows and
//! insert the new ones. Any missing rate or unpriced holding fails the run with every
//! problem listed, and nothing is written.
//!
//! `snapshot_time` is the last second of the day in the snapshot time zone (as UTC), not
//! the wall clock, so re-running a day writes identical rows.

mod sources;

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, Zero};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use db_conn::DbConnection;
use pf_data::decimal::Decimal;
use pf_data::models::NewAssetSnapshot;
use pf_data::schema::asset_snapshots::dsl as snap;
use pf_data::schema::exchange_rate_snapshots::dsl as fx;
use portfolio::{Holding, Rate, RateBook, Valued};

pub use sources::{IBKR, OKX, WEB3, WISE};

use crate::error::LedgerError;
use crate::lock::{self, Job};
use crate::money::{big, column, Money};
use crate::settings::Settings;

/// Rows per INSERT: far below SQLite's 32,766 bound parameters at 11 columns a row.
const INSERT_CHUNK: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotReport {
    pub date: NaiveDate,
    pub base_currency: String,
    /// `asset_snapshots` rows of the day written now.
    pub rows_written: usize,
    /// Rows of the day that were there before and were replaced.
    pub rows_replaced: usize,
    pub total: Money,
    pub by_platform: BTreeMap<String, Money>,
    /// Tokens left out for having no price (`chain wallet symbol`).
    pub unpriced_tokens: Vec<String>,
}

/// Values every holding on `date` and replaces that day's `asset_snapshots`.
pub fn run(conn: &mut DbConnection, date: NaiveDate) -> Result<SnapshotReport, LedgerError> {
    let report = conn.transaction(|conn| {
        lock::take(conn, Job::Valuation)?;
        let settings = Settings::read(conn)?;
        let base = settings.base_currency()?.to_owned();
        let collected = sources::collect(conn, &settings, date)?;
        let book = rate_book(conn, date)?;
        let holdings: Vec<Holding> = collected
            .sources
            .iter()
            .map(|s| s.holding.clone())
            .collect();
        let valued = portfolio::value_holdings(&holdings, &base, date, &book)?;
        let time = settings.day_end_utc(date) - chrono::Duration::seconds(1);
        // `value_holdings` keeps the input order when it succeeds, so names line up.
        let names = collected.sources.into_iter().map(|s| s.asset_name);
        let rows = valued
            .iter()
            .zip(names)
            .map(|(v, name)| snapshot_row(date, time, v, name))
            .collect::<Result<Vec<_>, _>>()?;
        let rows_replaced =
            diesel::delete(snap::asset_snapshots.filter(snap::snapshot_date.eq(date)))
                .execute(conn)?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            insert(conn, chunk)?;
        }
        let (total, by_platform) = totals(&valued);
        Ok::<_, LedgerError>(SnapshotReport {
            date,
            base_currency: base,
            rows_written: rows.len(),
            rows_replaced,
            total,
            by_platform,
            unpriced_tokens: collected.unpriced_tokens,
        })
    })?;
    tracing::info!(%date, rows = report.rows_written, total = %report.total, "valuation");
    Ok(report)
}

/// Every rate dated on or before `date` (the book picks the latest per pair).
pub(crate) fn rate_book(conn: &mut DbConnection, date: NaiveDate) -> Result<RateBook, LedgerError> {
    let rows: Vec<(NaiveDate, String, String, Decimal)> = fx::exchange_rate_snapshots
        .filter(fx::snapshot_date.le(date))
        .select((
            fx::snapshot_date,
            fx::from_currency,
            fx::to_currency,
            fx::rate,
        ))
        .load(conn)?;
    let rates = rows.into_iter().map(|(date, from, to, rate)| Rate {
        date,
        from: from.trim().to_ascii_uppercase(),
        to: to.trim().to_ascii_uppercase(),
        rate: big(&rate),
    });
    Ok(RateBook::new(rates)?)
}

fn snapshot_row(
    date: NaiveDate,
    time: NaiveDateTime,
    valued: &Valued,
    asset_name: Option<String>,
) -> Result<NewAssetSnapshot, LedgerError> {
    let h = &valued.holding;
    let what = |field: &str| format!("{} {} {field}", h.platform, h.asset_code);
    Ok(NewAssetSnapshot {
        snapshot_date: date,
        snapshot_time: time,
        platform: h.platform.clone(),
        asset_type: h.asset_type.clone(),
        asset_code: h.asset_code.clone(),
        asset_name,
        currency: h.currency.clone(),
        quantity: column(what("quantity"), h.quantity.clone())?,
        price: h
            .price
            .clone()
            .map(|p| column(what("price"), p))
            .transpose()?,
        value: column(what("value"), valued.value.clone())?,
        base_value: Some(column(what("base_value"), valued.base_value.clone())?),
    })
}

/// Multi-row VALUES: diesel's MultiBackend has no batch insert, each backend has.
fn insert(conn: &mut DbConnection, rows: &[NewAssetSnapshot]) -> QueryResult<usize> {
    match conn {
        DbConnection::Pg(c) => diesel::insert_into(snap::asset_snapshots)
            .values(rows)
            .execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(snap::asset_snapshots)
            .values(rows)
            .execute(c),
    }
}

fn totals(valued: &[Valued]) -> (Money, BTreeMap<String, Money>) {
    let mut total = BigDecimal::zero();
    let mut by_platform: BTreeMap<String, BigDecimal> = BTreeMap::new();
    for v in valued {
        total += &v.base_value;
        *by_platform.entry(v.holding.platform.clone()).or_default() += &v.base_value;
    }
    let by_platform = by_platform
        .into_iter()
        .map(|(k, v)| (k, Money(v)))
        .collect();
    (Money(total), by_platform)
}
