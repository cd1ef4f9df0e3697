//! Net worth per day: the sum of the day's snapshot base values, with breakdowns.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, Zero};
use chrono::NaiveDate;

/// One `asset_snapshots` row with its `base_value` known (rows without one are valued
/// first with [`crate::valuation::value_holdings`]). Pass one row per holding per day:
/// the sum cannot tell a second snapshot of the same holding from another holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    pub date: NaiveDate,
    pub platform: String,
    /// The holding's own currency; its base value still counts in the base currency.
    pub currency: String,
    pub base_value: BigDecimal,
}

/// One day's net worth in the base currency. The breakdowns each sum to `total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotal {
    pub date: NaiveDate,
    pub total: BigDecimal,
    pub by_platform: BTreeMap<String, BigDecimal>,
    /// Keyed by the holdings' own currency: how much of the total is held in each.
    pub by_currency: BTreeMap<String, BigDecimal>,
}

/// Exact per-day sums, ascending by date; only days with at least one row appear.
pub fn net_worth_series(snapshots: &[SnapshotRow]) -> Vec<DayTotal> {
    let mut days: BTreeMap<NaiveDate, DayTotal> = BTreeMap::new();
    for row in snapshots {
        let day = days.entry(row.date).or_insert_with(|| DayTotal {
            date: row.date,
            total: BigDecimal::zero(),
            by_platform: BTreeMap::new(),
            by_currency: BTreeMap::new(),
        });
        day.total += &row.base_value;
        add(&mut day.by_platform, &row.platform, &row.base_value);
        add(&mut day.by_currency, &row.currency, &row.base_value);
    }
    days.into_values().collect()
}

fn add(sums: &mut BTreeMap<String, BigDecimal>, key: &str, value: &BigDecimal) {
    match sums.get_mut(key) {
        Some(sum) => *sum += value,
        None => {
            sums.insert(key.to_owned(), value.clone());
        }
    }
}
