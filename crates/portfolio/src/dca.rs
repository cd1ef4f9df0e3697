//! Dollar-cost averaging: when a plan is due, and what one purchase costs and buys.
//!
//! # Schedule
//! - The first due date is `start_date`, or the day the plan was created when it has none.
//! - Then every `frequency_value` (NULL means 1) days, weeks (7 days), fortnights
//!   (`biweekly`, 14 days) or months after it. Monthly dates keep the anchor's day of month
//!   and use the month's last day when that day does not exist: Jan 31 → Feb 28 (29 in a
//!   leap year) → Mar 31 → Apr 30. Each date is computed from the anchor, so it never
//!   drifts to the 28th.
//! - No date after `end_date` (inclusive bound).
//! - [`due_dates`] gives every scheduled date `d` with `last_executed_date < d <= as_of`
//!   (all of them when the plan was never executed) that is not in `exclude_dates`.
//!   A plan whose status is not `active` has none.
//!
//! # Exactly once
//! After recording the purchases for [`due_dates`], the caller stores
//! [`next_last_executed`] as the plan's `last_executed_date`: the last scheduled date up to
//! `as_of`, excluded dates included, so neither an executed nor a skipped date comes back.
//! Running twice for the same `as_of` therefore buys nothing the second time, and a job
//! that did not run for a week catches up each missed date once.
//!
//! [`next_last_executed`] ignores the status on purpose: a job that stores it for paused
//! plans too makes a pause skip the dates it covers. A job that only touches active plans
//! makes the paused dates come due on resumption instead; choose one in the caller.
//!
//! # One purchase
//! - fee = amount × fee rate (the plan's, else `system_config.default_dca_fee_rate`, else
//!   0), rounded to the currency's scale **half-up** (0.045 → 0.05). Half-up is how
//!   brokers and fund platforms round the fee on their statements, so the recorded fee
//!   matches the receipt; half-even would only pay off when summing many rounded values,
//!   and each fee is rounded once from its exact product.
//! - net = amount − fee, exact.
//! - quantity = net / price, truncated toward zero to [`QUANTITY_SCALE`] (8) places, when
//!   the day's price or NAV is known: truncating never records more units than the money
//!   paid for. Unknown price → no quantity (the caller fills it in when the NAV arrives).
//!
//! # Stored text
//! - `frequency`: `daily`, `weekly`, `biweekly`, `monthly` (case-insensitive), as
//!   `pf-data`'s validator accepts.
//! - `status`: `active`, `paused`, `finished`.
//! - `exclude_dates`: the migration documents a JSON array of ISO dates
//!   (`["2024-12-25","2025-01-01"]`); a comma-separated list is read as well. NULL, an
//!   empty string and JSON `null` mean none.

use std::collections::BTreeSet;
use std::str::FromStr;

use bigdecimal::{BigDecimal, One, RoundingMode, Zero};
use chrono::NaiveDate;

use crate::error::DcaError;
use crate::round::div_round;
use crate::schedule::Schedule;

/// Decimal places of a currency amount unless the caller knows better (JPY: 0).
pub const DEFAULT_CURRENCY_SCALE: i64 = 2;
/// Decimal places of a purchased quantity (fund units, shares, tokens).
pub const QUANTITY_SCALE: i64 = 8;

/// The stored `frequency` values, in the order error messages list them.
pub const FREQUENCIES: &[&str] = &["daily", "weekly", "biweekly", "monthly"];
/// The stored `status` values.
pub const STATUSES: &[&str] = &["active", "paused", "finished"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Daily,
    Weekly,
    /// Every two weeks; `frequency_value` multiplies it (3 → every six weeks).
    Biweekly,
    Monthly,
}

impl FromStr for Frequency {
    type Err = DcaError;

    fn from_str(text: &str) -> Result<Self, DcaError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "daily" => Ok(Self::Daily),
            "weekly" => Ok(Self::Weekly),
            "biweekly" => Ok(Self::Biweekly),
            "monthly" => Ok(Self::Monthly),
            _ => Err(DcaError::UnknownFrequency { value: text.into() }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    Active,
    Paused,
    /// Ended by the user or the app; never due again.
    Finished,
}

impl FromStr for PlanStatus {
    type Err = DcaError;

    fn from_str(text: &str) -> Result<Self, DcaError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "finished" => Ok(Self::Finished),
            _ => Err(DcaError::UnknownStatus { value: text.into() }),
        }
    }
}

/// The columns of a `dca_plans` row that the rules read, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: i64,
    pub frequency: Frequency,
    pub frequency_value: Option<i32>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub last_executed_date: Option<NaiveDate>,
    pub exclude_dates: BTreeSet<NaiveDate>,
    pub amount: BigDecimal,
    pub fee_rate: Option<BigDecimal>,
    pub status: PlanStatus,
    /// The calendar date of `created_at`, the anchor when `start_date` is NULL.
    pub created: NaiveDate,
}

/// Reads `dca_plans.exclude_dates`: a JSON array of `"YYYY-MM-DD"` strings or a
/// comma-separated list of dates.
pub fn parse_exclude_dates(text: Option<&str>) -> Result<BTreeSet<NaiveDate>, DcaError> {
    let text = text.map(str::trim).unwrap_or("");
    if text.is_empty() || text == "null" {
        return Ok(BTreeSet::new());
    }
    let json = text.starts_with('[');
    let inner = if json {
        text.strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .ok_or_else(|| bad(text, "a JSON array must end with `]`"))?
    } else {
        text
    };
    let mut dates = BTreeSet::new();
    for element in inner.split(',').map(str::trim) {
        // `[]` and a trailing comma in a hand-typed list are harmless; skip them.
        if element.is_empty() && (!json || inner.trim().is_empty()) {
            continue;
        }
        let syntax = if json {
            ListSyntax::JsonArray
        } else {
            ListSyntax::Commas
        };
        dates.insert(parse_element(element, syntax)?);
    }
    Ok(dates)
}

/// How an `exclude_dates` list is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ListSyntax {
    JsonArray,
    Commas,
}

fn parse_element(element: &str, syntax: ListSyntax) -> Result<NaiveDate, DcaError> {
    let date = if syntax == ListSyntax::JsonArray {
        element
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .ok_or_else(|| bad(element, "a JSON array element must be a quoted string"))?
    } else {
        element.trim_matches('"')
    };
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| bad(element, &e.to_string()))
}

fn bad(element: &str, reason: &str) -> DcaError {
    DcaError::BadExcludeDate {
        element: element.into(),
        reason: reason.into(),
    }
}

/// Dates to buy on now, ascending: scheduled, after `last_executed_date`, up to `as_of`,
/// not excluded; none unless the plan is active.
pub fn due_dates(plan: &Plan, as_of: NaiveDate) -> Result<Vec<NaiveDate>, DcaError> {
    let schedule = Schedule::of(plan)?;
    if plan.status != PlanStatus::Active {
        return Ok(Vec::new());
    }
    Ok(schedule
        .between(plan.last_executed_date, as_of)
        .filter(|d| !plan.exclude_dates.contains(d))
        .collect())
}

/// The `last_executed_date` to store after handling [`due_dates`]`(plan, as_of)`: the last
/// scheduled date up to `as_of` (excluded dates count), or the stored one when no later
/// date is scheduled yet. Never moves backwards.
pub fn next_last_executed(plan: &Plan, as_of: NaiveDate) -> Result<Option<NaiveDate>, DcaError> {
    let schedule = Schedule::of(plan)?;
    let newest = schedule.between(plan.last_executed_date, as_of).last();
    Ok(newest.or(plan.last_executed_date))
}

/// The first date after `after` that the plan would buy on, for display ("next purchase").
/// `None` when the plan is not active or its schedule has ended.
pub fn next_due_date(plan: &Plan, after: NaiveDate) -> Result<Option<NaiveDate>, DcaError> {
    let schedule = Schedule::of(plan)?;
    if plan.status != PlanStatus::Active {
        return Ok(None);
    }
    let after = plan
        .last_executed_date
        .map_or(after, |last| last.max(after));
    Ok(schedule
        .between(Some(after), NaiveDate::MAX)
        .find(|d| !plan.exclude_dates.contains(d)))
}

/// One purchase of a plan, ready to be written as a `user_operations` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub plan_id: i64,
    pub date: NaiveDate,
    /// The plan's amount: the money spent, fee included.
    pub amount: BigDecimal,
    /// The rate applied: the plan's, the default, or 0.
    pub fee_rate: BigDecimal,
    pub fee: BigDecimal,
    /// `amount - fee`: the money that buys units.
    pub net: BigDecimal,
    pub price: Option<BigDecimal>,
    pub quantity: Option<BigDecimal>,
}

/// The purchase `plan` makes on `date` at `price` (the day's price or NAV, if known).
/// `scale` is the currency's decimal places ([`DEFAULT_CURRENCY_SCALE`] for most).
/// Does not check that `date` is due: that is [`due_dates`]' job.
pub fn execution(
    plan: &Plan,
    date: NaiveDate,
    price: Option<&BigDecimal>,
    default_fee_rate: Option<&BigDecimal>,
    scale: i64,
) -> Result<Execution, DcaError> {
    let plan_id = plan.id;
    if plan.amount <= BigDecimal::zero() {
        let amount = plan.amount.clone();
        return Err(DcaError::NonPositiveAmount { plan_id, amount });
    }
    let fee_rate = plan
        .fee_rate
        .as_ref()
        .or(default_fee_rate)
        .cloned()
        .unwrap_or_else(BigDecimal::zero);
    if fee_rate < BigDecimal::zero() || fee_rate >= BigDecimal::one() {
        return Err(DcaError::BadFeeRate {
            plan_id,
            rate: fee_rate,
        });
    }
    let fee = (&plan.amount * &fee_rate).with_scale_round(scale, RoundingMode::HalfUp);
    let net = &plan.amount - &fee;
    let quantity = match price {
        None => None,
        Some(p) if *p <= BigDecimal::zero() => {
            let price = p.clone();
            return Err(DcaError::NonPositivePrice {
                plan_id,
                date,
                price,
            });
        }
        Some(p) => Some(
            div_round(&net, p, QUANTITY_SCALE, RoundingMode::Down).ok_or_else(|| {
                DcaError::Unrepresentable {
                    plan_id,
                    net: net.clone(),
                    price: p.clone(),
                }
            })?,
        ),
    };
    Ok(Execution {
        plan_id,
        date,
        amount: plan.amount.clone(),
        fee_rate,
        fee,
        net,
        price: price.cloned(),
        quantity,
    })
}
