//! Conversions between `portfolio`'s `BigDecimal`s and the columns' `Decimal`, and the
//! money amounts of the reports.

use std::fmt;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use pf_data::decimal::Decimal;

use crate::error::LedgerError;

/// A base-currency amount as the reports show it: exact, with at least two decimal places
/// (`"100.00"`, `"0.125"`), serialized as a JSON string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub BigDecimal);

/// Places a report shows at least, the scale of `asset_snapshots.base_value`.
const MIN_PLACES: i64 = portfolio::valuation::BASE_VALUE_SCALE;

impl Money {
    pub fn text(&self) -> String {
        let value = self.0.normalized();
        let value = if value.fractional_digit_count() < MIN_PLACES {
            value.with_scale(MIN_PLACES)
        } else {
            value
        };
        value.to_plain_string()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({})", self.text())
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `Decimal`, so a JSON number (already rounded by f64) is refused.
        let exact = Decimal::deserialize(deserializer)?;
        Ok(Self(exact.as_big().clone()))
    }
}

/// A computed value as a column value, or an error naming what did not fit.
pub(crate) fn column(what: impl fmt::Display, value: BigDecimal) -> Result<Decimal, LedgerError> {
    let shown = value.to_plain_string();
    Decimal::from_big(value).map_err(|e| LedgerError::TooLarge {
        what: what.to_string(),
        value: shown,
        reason: e.to_string(),
    })
}

pub(crate) fn big(value: &Decimal) -> BigDecimal {
    value.as_big().clone()
}

/// Parses a setting's text as an exact decimal.
pub(crate) fn parse(text: &str) -> Result<BigDecimal, String> {
    Decimal::from_str(text)
        .map(|d| big(&d))
        .map_err(|e| e.to_string())
}
