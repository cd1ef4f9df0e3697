//! Rules the column types cannot express. Each returns a message saying what to send instead.

use chrono::NaiveDate;

use super::{NewDcaPlan, NewFundInfo, NewUserOperation};
use crate::decimal::Decimal;

pub const DCA_FREQUENCIES: &[&str] = &["daily", "weekly", "biweekly", "monthly"];
pub const DCA_STATUSES: &[&str] = &["active", "paused", "finished"];
pub const OPERATION_TYPES: &[&str] = &[
    "buy",
    "sell",
    "dividend",
    "fee",
    "deposit",
    "withdrawal",
    "transfer",
];

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{field} `{value}` is not one of {}",
            allowed.join(", ")
        ))
    }
}

fn currency(field: &str, value: &str) -> Result<(), String> {
    let ok = (3..=10).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("{field} `{value}` is not a currency code: use upper-case letters such as CNY, USD or USDT"))
    }
}

pub fn fund_info(input: &NewFundInfo) -> Result<(), String> {
    if input.fund_code.trim().is_empty() {
        return Err("fund_code is empty: give the fund's code, e.g. \"110011\"".into());
    }
    currency("currency", &input.currency)
}

pub fn dca_plan(input: &NewDcaPlan) -> Result<(), String> {
    one_of("frequency", &input.frequency, DCA_FREQUENCIES)?;
    one_of("status", &input.status, DCA_STATUSES)?;
    currency("currency", &input.currency)?;
    if input.amount <= Decimal::zero() {
        return Err(format!("amount {} must be greater than 0", input.amount));
    }
    if let Some(rate) = &input.fee_rate {
        if *rate < Decimal::zero() || *rate >= "1".parse().expect("literal decimal") {
            return Err(format!(
                "fee_rate {rate} must be a fraction from 0 up to 1, e.g. \"0.0015\" for 0.15%"
            ));
        }
    }
    if let (Some(start), Some(end)) = (input.start_date, input.end_date) {
        if end < start {
            return Err(format!("end_date {end} is before start_date {start}"));
        }
    }
    if let Some(dates) = &input.exclude_dates {
        serde_json::from_str::<Vec<NaiveDate>>(dates).map_err(|e| {
            format!("exclude_dates must be a JSON array of dates such as [\"2025-01-01\"]: {e}")
        })?;
    }
    Ok(())
}

pub fn user_operation(input: &NewUserOperation) -> Result<(), String> {
    one_of("operation_type", &input.operation_type, OPERATION_TYPES)?;
    currency("currency", &input.currency)
}
