//! Errors. Each message names the offending value and says what to store instead, because
//! the reader is usually someone fixing a row in the database, not a developer.

use std::fmt;

use bigdecimal::BigDecimal;
use chrono::NaiveDate;

/// A DCA plan row that cannot be scheduled or executed as stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcaError {
    #[error("frequency `{value}` is not one of {}", crate::dca::FREQUENCIES.join(", "))]
    UnknownFrequency { value: String },

    #[error("status `{value}` is not one of {}", crate::dca::STATUSES.join(", "))]
    UnknownStatus { value: String },

    #[error(
        "exclude_dates element `{element}` is not a date: {reason}; store a JSON array of \
         YYYY-MM-DD strings such as [\"2025-01-01\",\"2025-05-01\"] (a comma-separated list \
         2025-01-01,2025-05-01 is also read)"
    )]
    BadExcludeDate { element: String, reason: String },

    #[error(
        "plan {plan_id}: frequency_value {value} is not a positive whole number of days, weeks \
         or months between purchases; store 1 or more, or NULL for 1"
    )]
    BadFrequencyValue { plan_id: i64, value: i32 },

    #[error(
        "plan {plan_id}: fee rate {rate} is not a fraction from 0 up to (not including) 1; \
         store e.g. 0.0015 for 0.15% in dca_plans.fee_rate or system_config.default_dca_fee_rate"
    )]
    BadFeeRate { plan_id: i64, rate: BigDecimal },

    #[error("plan {plan_id}: amount {amount} must be greater than 0")]
    NonPositiveAmount { plan_id: i64, amount: BigDecimal },

    #[error("plan {plan_id}: price {price} on {date} must be greater than 0")]
    NonPositivePrice {
        plan_id: i64,
        date: NaiveDate,
        price: BigDecimal,
    },

    #[error("plan {plan_id}: {net} / {price} has too many digits to compute exactly")]
    Unrepresentable {
        plan_id: i64,
        net: BigDecimal,
        price: BigDecimal,
    },
}

/// One currency pair with no usable rate on or before a date.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MissingRate {
    pub from: String,
    pub to: String,
    pub on: NaiveDate,
}

impl fmt::Display for MissingRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { from, to, on } = self;
        write!(
            f,
            "no exchange rate {from}→{to} on or before {on} (none direct, inverse, or through one \
             other currency): add an exchange_rate_snapshots row with from_currency {from}, \
             to_currency {to} and snapshot_date on or before {on}"
        )
    }
}

/// A holding that has neither a value nor a price, so it cannot be valued.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unpriced {
    pub platform: String,
    pub asset_code: String,
}

impl fmt::Display for Unpriced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} has neither a value nor a price: record its market value or current price",
            self.platform, self.asset_code
        )
    }
}

/// Decimals in these variants are kept as text: the error is for reading, and holding two
/// `BigDecimal`s would make every `Result` of this crate large.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValuationError {
    #[error("{}", MissingRate { from: from.clone(), to: to.clone(), on: *on })]
    MissingRate {
        from: String,
        to: String,
        on: NaiveDate,
    },

    /// Every problem found while valuing a set of holdings, so that one run lists all the
    /// rows to add rather than one per attempt.
    #[error("{}", list_problems(missing_rates, unpriced))]
    Incomplete {
        missing_rates: Vec<MissingRate>,
        unpriced: Vec<Unpriced>,
    },

    #[error(
        "exchange rate {from}→{to} on {date} is {rate}; a rate must be greater than 0 (fix the \
         exchange_rate_snapshots row)"
    )]
    NonPositiveRate {
        from: String,
        to: String,
        date: NaiveDate,
        rate: String,
    },

    #[error(
        "two exchange rates {from}→{to} on {date}: {first} and {second}; keep one \
         exchange_rate_snapshots row per pair and day"
    )]
    ConflictingRate {
        from: String,
        to: String,
        date: NaiveDate,
        first: String,
        second: String,
    },

    #[error("converting {amount} {from}→{to} needs more digits than can be computed exactly")]
    Unrepresentable {
        amount: String,
        from: String,
        to: String,
    },
}

fn list_problems(missing: &[MissingRate], unpriced: &[Unpriced]) -> String {
    let count = missing.len() + unpriced.len();
    let mut text = format!("{count} holding valuation problem(s):");
    for line in missing.iter().map(ToString::to_string) {
        text.push_str("\n- ");
        text.push_str(&line);
    }
    for line in unpriced.iter().map(ToString::to_string) {
        text.push_str("\n- ");
        text.push_str(&line);
    }
    text
}
