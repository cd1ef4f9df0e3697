//! The service's bookkeeping jobs over the database: executing due DCA purchases into
//! `user_operations`, valuing every holding into `asset_snapshots`, and reading net worth.
//!
//! The rules themselves (schedules, fees, rates, sums) are `portfolio`'s; this crate loads
//! rows into its structs, writes the results back, and makes each write job one transaction
//! that is safe to run twice.

#![forbid(unsafe_code)]

pub mod dca;
pub mod error;
mod lock;
pub mod money;
pub mod networth;
pub mod settings;
pub mod valuation;

pub use error::LedgerError;
