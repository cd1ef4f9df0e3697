//! What every source's writer shares: counting, exact decimals, and the generic upsert.

use std::collections::BTreeMap;

use bigdecimal::BigDecimal;
use db_conn::DbConnection;
use pf_data::decimal::Decimal;
use pf_data::resource::Resource;
use serde::Serialize;

use crate::{Counts, ImportError};

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Added,
    Updated,
    Skipped,
}

/// Counts per table for the run under way.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) per_table: BTreeMap<String, Counts>,
}

impl Tally {
    pub(crate) fn count(&mut self, table: &str, outcome: Outcome) {
        let counts = self.per_table.entry(table.to_owned()).or_default();
        match outcome {
            Outcome::Added => counts.added += 1,
            Outcome::Updated => counts.updated += 1,
            Outcome::Skipped => counts.skipped += 1,
        }
    }

    pub(crate) fn total(&self) -> Counts {
        let mut total = Counts::default();
        self.per_table.values().for_each(|c| total.absorb(*c));
        total
    }
}

/// An exact value checked against the columns' NUMERIC(38,18).
pub(crate) fn dec(
    record: &str,
    field: &'static str,
    value: &BigDecimal,
) -> Result<Decimal, ImportError> {
    Decimal::from_big(value.clone()).map_err(|e| ImportError::Value {
        record: record.to_owned(),
        field,
        value: value.to_plain_string(),
        problem: match e {
            pf_data::decimal::DecimalError::TooManyFractionDigits(_) => {
                "has more than 18 digits after the point, more than the columns hold exactly"
                    .to_owned()
            }
            pf_data::decimal::DecimalError::TooManyIntegerDigits(_) => {
                "has more than 20 digits before the point, more than the columns hold".to_owned()
            }
            other => format!("is not storable ({other})"),
        },
    })
}

pub(crate) fn opt_dec(
    record: &str,
    field: &'static str,
    value: Option<&BigDecimal>,
) -> Result<Option<Decimal>, ImportError> {
    value.map(|v| dec(record, field, v)).transpose()
}

/// Whether `input` holds a value other than the row's, comparing the columns both have except
/// `ignore` (columns such as a fetch time that change on every run without news).
pub(crate) fn differs<R: Serialize, I: Serialize>(row: &R, input: &I, ignore: &[&str]) -> bool {
    let (Ok(serde_json::Value::Object(row)), Ok(serde_json::Value::Object(input))) =
        (serde_json::to_value(row), serde_json::to_value(input))
    else {
        return true;
    };
    input
        .iter()
        .filter(|(name, _)| !ignore.contains(&name.as_str()))
        .any(|(name, value)| row.get(name) != Some(value))
}

/// Inserts `input`, or updates `existing` when a compared column differs, else skips; counts
/// the outcome under the table. Returns the row's id.
pub(crate) fn upsert<R: Resource>(
    conn: &mut DbConnection,
    tally: &mut Tally,
    record: &str,
    existing: Option<R>,
    input: &R::Input,
    ignore: &[&str],
) -> Result<i64, ImportError> {
    R::validate(input).map_err(|message| ImportError::Invalid {
        record: record.to_owned(),
        message,
    })?;
    let (id, outcome) = match existing {
        None => (R::create(conn, input)?.id(), Outcome::Added),
        Some(row) if differs(&row, input, ignore) => {
            (R::update(conn, row.id(), input)?.id(), Outcome::Updated)
        }
        Some(row) => (row.id(), Outcome::Skipped),
    };
    tally.count(R::TABLE, outcome);
    Ok(id)
}

/// Now, in UTC, at the microsecond precision both backends store.
pub(crate) fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let micros = now.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.naive_utc())
        .unwrap_or(now)
}
