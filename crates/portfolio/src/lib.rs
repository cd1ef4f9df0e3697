//! The pure rules of the personal-finance backend's money: when a DCA plan buys, what a
//! purchase costs and yields, what holdings are worth in the base currency, and net worth
//! over time.
//!
//! No I/O and no database types: the caller loads `dca_plans`, `exchange_rate_snapshots`,
//! `asset_positions`/`asset_snapshots` and `system_config` rows into these plain structs and
//! writes the results back. Money and quantities are `BigDecimal` throughout, computed
//! exactly and rounded only where a module's doc says so; no binary floating point.

#![forbid(unsafe_code)]

pub mod dca;
pub mod error;
pub mod networth;
mod round;
mod schedule;
pub mod valuation;

pub use dca::{
    due_dates, execution, next_due_date, next_last_executed, parse_exclude_dates, Execution,
    Frequency, Plan, PlanStatus,
};
pub use error::{DcaError, MissingRate, Unpriced, ValuationError};
pub use networth::{net_worth_series, DayTotal, SnapshotRow};
pub use valuation::{value_holdings, Holding, Leg, Rate, RateBook, Route, Valued};
