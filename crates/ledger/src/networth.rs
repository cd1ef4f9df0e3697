//! Net worth per day from `asset_snapshots`, in the shape `GET /api/v1/net-worth` returns:
//!
//! ```json
//! {"base_currency":"CNY","from":"2026-01-01","to":"2026-03-31","days":[{"date":"2026-01-01",
//!  "total":"123.45","by_platform":{"IBKR":"100.00"},"by_currency":{"USD":"100.00"}}]}
//! ```
//!
//! - Per day, one row per holding (platform, asset_type, asset_code, asset_name, currency):
//!   the latest by `snapshot_time` (then id), so a day snapshotted twice is not counted twice.
//! - A row without `base_value` (written by hand or before the column existed) is valued
//!   from its `value` with the rates on or before its day; a missing rate is an error.
//! - Sums are exact; amounts are strings with at least two decimals. Only days with rows
//!   appear. `by_currency` is keyed by the holdings' own currency, in base-currency amounts.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use db_conn::DbConnection;
use pf_data::decimal::Decimal;
use pf_data::schema::asset_snapshots::dsl as snap;
use portfolio::valuation::BASE_VALUE_SCALE;
use portfolio::{MissingRate, SnapshotRow, ValuationError};

use crate::error::LedgerError;
use crate::money::{big, Money};
use crate::settings::Settings;

/// Days in the default window, today included.
pub const DEFAULT_DAYS: u64 = 365;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetWorth {
    pub base_currency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<NetWorthDay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetWorthDay {
    pub date: NaiveDate,
    pub total: Money,
    pub by_platform: BTreeMap<String, Money>,
    pub by_currency: BTreeMap<String, Money>,
}

type Row = (
    i64,
    NaiveDate,
    NaiveDateTime,
    String,
    String,
    String,
    Option<String>,
    String,
    Decimal,
    Option<Decimal>,
);

/// The window when the caller gives none: [`DEFAULT_DAYS`] days up to today (in the
/// snapshot time zone), or up to `to`; from `from` up to today.
pub fn window(
    conn: &mut DbConnection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), LedgerError> {
    let to = match to {
        Some(to) => to,
        None => Settings::read(conn)?.today(),
    };
    let from = from.unwrap_or_else(|| to - Days::new(DEFAULT_DAYS - 1));
    Ok((from, to))
}

/// Net worth on every day from `from` to `to` (inclusive) that has snapshots.
pub fn series(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<NetWorth, LedgerError> {
    if from > to {
        return Err(LedgerError::BadRange { from, to });
    }
    let settings = Settings::read(conn)?;
    let base = settings.base_currency()?.to_owned();
    let rows: Vec<Row> = snap::asset_snapshots
        .filter(snap::snapshot_date.ge(from))
        .filter(snap::snapshot_date.le(to))
        .select((
            snap::id,
            snap::snapshot_date,
            snap::snapshot_time,
            snap::platform,
            snap::asset_type,
            snap::asset_code,
            snap::asset_name,
            snap::currency,
            snap::value,
            snap::base_value,
        ))
        .load(conn)?;
    let latest = latest_per_holding(rows);
    let snapshot_rows = with_base_values(conn, latest, &base, to)?;
    let days = portfolio::net_worth_series(&snapshot_rows)
        .into_iter()
        .map(|day| NetWorthDay {
            date: day.date,
            total: Money(day.total),
            by_platform: money_map(day.by_platform),
            by_currency: money_map(day.by_currency),
        })
        .collect();
    Ok(NetWorth {
        base_currency: base,
        from,
        to,
        days,
    })
}

fn money_map(map: BTreeMap<String, bigdecimal::BigDecimal>) -> BTreeMap<String, Money> {
    map.into_iter().map(|(k, v)| (k, Money(v))).collect()
}

fn latest_per_holding(rows: Vec<Row>) -> Vec<Row> {
    type Key = (NaiveDate, String, String, String, Option<String>, String);
    let mut newest: BTreeMap<Key, Row> = BTreeMap::new();
    for row in rows {
        let key = (
            row.1,
            row.3.clone(),
            row.4.clone(),
            row.5.clone(),
            row.6.clone(),
            row.7.clone(),
        );
        match newest.get(&key) {
            Some(kept) if (kept.2, kept.0) >= (row.2, row.0) => {}
            _ => {
                newest.insert(key, row);
            }
        }
    }
    newest.into_values().collect()
}

fn with_base_values(
    conn: &mut DbConnection,
    rows: Vec<Row>,
    base: &str,
    to: NaiveDate,
) -> Result<Vec<SnapshotRow>, LedgerError> {
    // Rates are read only when some row needs them.
    let book = match rows.iter().any(|r| r.9.is_none()) {
        true => crate::valuation::rate_book(conn, to)?,
        false => portfolio::RateBook::default(),
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut missing = std::collections::BTreeSet::new();
    for (_, date, _, platform, _, _, _, currency, value, base_value) in rows {
        let base_value = match base_value {
            Some(b) => big(&b),
            None => {
                let value = big(&value);
                match book.convert_rounded(&value, &currency, base, date, BASE_VALUE_SCALE) {
                    Ok(v) => v,
                    Err(ValuationError::MissingRate { from, to, on }) => {
                        missing.insert(MissingRate { from, to, on });
                        continue;
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        };
        out.push(SnapshotRow {
            date,
            platform,
            currency,
            base_value,
        });
    }
    if !missing.is_empty() {
        return Err(ValuationError::Incomplete {
            missing_rates: missing.into_iter().collect(),
            unpriced: Vec::new(),
        }
        .into());
    }
    Ok(out)
}
