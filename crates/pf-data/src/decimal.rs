//! Exact decimals for money and quantities, end to end.
//!
//! The API carries them as JSON strings (JSON numbers would pass through f64). PostgreSQL
//! stores `NUMERIC(38,18)`; SQLite stores canonical decimal text in a TEXT column, because
//! any NUMERIC/REAL affinity would round through binary floating point.

use std::fmt;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, Text};
use diesel::sqlite::{Sqlite, SqliteValue};

use db_conn::{MultiBackend, MultiRawValue};

/// The SQL type of every decimal column (schema.rs imports it in place of diesel's own, see
/// diesel.toml): PostgreSQL `NUMERIC` on the wire, TEXT on SQLite. diesel's `Numeric` binds
/// SQLite values as f64, which is exactly the rounding this type exists to prevent.
#[derive(
    Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
)]
#[diesel(postgres_type(oid = 1700, array_oid = 1231))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Numeric;

// `table!` derives arithmetic for every column whose type is named `Numeric`. On SQLite such
// SQL arithmetic converts the text to float, so do money arithmetic in Rust, not in SQL.
macro_rules! numeric_ops {
    ($($op:ident),*) => {$(
        impl diesel::sql_types::ops::$op for Numeric {
            type Rhs = Numeric;
            type Output = Numeric;
        }
    )*};
}
numeric_ops!(Add, Sub, Mul, Div);

impl HasSqlType<Numeric> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<Numeric>(lookup)
    }
}

/// Digits allowed after the point: the scale of every `NUMERIC(38,18)` column.
pub const MAX_FRACTION_DIGITS: u64 = 18;
/// Digits allowed before the point: precision 38 minus scale 18.
pub const MAX_INTEGER_DIGITS: u64 = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecimalError {
    #[error("`{0}` is not a decimal number (write it like \"12.34\" or \"-0.000001\")")]
    Invalid(String),
    #[error("`{0}` has more than {MAX_FRACTION_DIGITS} digits after the decimal point")]
    TooManyFractionDigits(String),
    #[error("`{0}` has more than {MAX_INTEGER_DIGITS} digits before the decimal point")]
    TooManyIntegerDigits(String),
}

/// An exact decimal, always held in canonical form (no trailing zeros, no exponent).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Numeric)]
pub struct Decimal(BigDecimal);

impl Decimal {
    pub fn zero() -> Self {
        Self(BigDecimal::from(0))
    }

    pub fn as_big(&self) -> &BigDecimal {
        &self.0
    }

    /// Wraps a value already known to be exact, checking it fits the columns.
    pub fn from_big(value: BigDecimal) -> Result<Self, DecimalError> {
        let value = value.normalized();
        let (digits, scale) = (value.digits(), value.fractional_digit_count());
        let shown = || value.to_plain_string();
        if scale > 0 && scale as u64 > MAX_FRACTION_DIGITS {
            return Err(DecimalError::TooManyFractionDigits(shown()));
        }
        let integer_digits = digits as i64 - scale;
        if integer_digits > MAX_INTEGER_DIGITS as i64 {
            return Err(DecimalError::TooManyIntegerDigits(shown()));
        }
        Ok(Self(value))
    }

    /// The canonical text: what the API returns and what SQLite stores.
    pub fn to_canonical(&self) -> String {
        let text = self.0.to_plain_string();
        if text == "-0" {
            "0".to_owned()
        } else {
            text
        }
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        // BigDecimal also accepts exponents and odd forms; money is written plainly.
        let plain = !trimmed.is_empty()
            && trimmed
                .strip_prefix('-')
                .unwrap_or(trimmed)
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && trimmed.matches('.').count() <= 1
            && trimmed.chars().any(|c| c.is_ascii_digit());
        if !plain {
            return Err(DecimalError::Invalid(s.to_owned()));
        }
        let value =
            BigDecimal::from_str(trimmed).map_err(|_| DecimalError::Invalid(s.to_owned()))?;
        Self::from_big(value)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_canonical())
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.to_canonical())
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_canonical())
    }
}

impl<'de> serde::Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a decimal as a JSON string such as \"12.34\" (JSON numbers lose precision)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl ToSql<Numeric, Pg> for Decimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <BigDecimal as ToSql<diesel::sql_types::Numeric, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Numeric, Pg> for Decimal {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let big = <BigDecimal as FromSql<diesel::sql_types::Numeric, Pg>>::from_sql(value)?;
        Ok(Self(big.normalized()))
    }
}

impl ToSql<Numeric, Sqlite> for Decimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_canonical());
        Ok(IsNull::No)
    }
}

impl FromSql<Numeric, Sqlite> for Decimal {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        // Read as text whatever the storage class: SQLite renders stored numbers exactly as kept.
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(Self::from_stored_text(&text)?)
    }
}

impl Decimal {
    /// A decimal as SQLite holds it (the text of any storage class), read exactly as the
    /// column type reads it.
    pub fn from_stored_text(text: &str) -> Result<Self, String> {
        let big = BigDecimal::from_str(text.trim())
            .map_err(|e| format!("column holds `{text}`, which is not a decimal: {e}"))?;
        Ok(Self(big.normalized()))
    }

    /// Whether `text` is already what [`Decimal::to_canonical`] writes (`-?(0|[1-9]d*)(.d*[1-9])?`,
    /// not `-0`): then reading and writing it again would give the same text.
    pub fn is_canonical_text(text: &str) -> bool {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        let whole_ok = whole == "0"
            || (!whole.is_empty()
                && !whole.starts_with('0')
                && whole.bytes().all(|b| b.is_ascii_digit()));
        let fraction_ok = fraction.is_none_or(|f| {
            !f.is_empty() && !f.ends_with('0') && f.bytes().all(|b| b.is_ascii_digit())
        });
        whole_ok && fraction_ok && text != "-0"
    }
}

impl ToSql<Numeric, MultiBackend> for Decimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Numeric, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Numeric, MultiBackend> for Decimal {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Numeric>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(s: &str) -> String {
        s.parse::<Decimal>().unwrap().to_canonical()
    }

    #[test]
    fn canonical_form_is_plain_and_exact() {
        assert_eq!(canonical("0.1"), "0.1");
        assert_eq!(canonical("0.000000000000000001"), "0.000000000000000001");
        assert_eq!(
            canonical("123456789012345678.123456789012"),
            "123456789012345678.123456789012"
        );
        assert_eq!(canonical("100"), "100");
        assert_eq!(canonical("1.2300"), "1.23");
        assert_eq!(canonical("-0.0"), "0");
        assert_eq!(canonical("-5.50"), "-5.5");
        assert_eq!(
            canonical("99999999999999999999.999999999999999999"),
            "99999999999999999999.999999999999999999"
        );
    }

    #[test]
    fn refuses_what_would_not_round_trip() {
        for bad in [
            "", "abc", "1e5", "NaN", "inf", "1.2.3", "--1", "+1", " ", ".",
        ] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad:?} was accepted");
        }
        assert!(matches!(
            "0.0000000000000000001".parse::<Decimal>(),
            Err(DecimalError::TooManyFractionDigits(_))
        ));
        assert!(matches!(
            "123456789012345678901".parse::<Decimal>(),
            Err(DecimalError::TooManyIntegerDigits(_))
        ));
    }

    #[test]
    fn json_numbers_are_refused_with_a_reason() {
        let err = serde_json::from_str::<Decimal>("0.1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("JSON string"), "{err}");
        let ok: Decimal = serde_json::from_str("\"0.10\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"0.1\"");
    }
}
