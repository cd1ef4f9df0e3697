//! The jobs' one error type. Messages name the row or setting to fix.

use chrono::NaiveDate;
use portfolio::ValuationError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),

    #[error("system_config has no `{key}` row: add one ({hint})")]
    MissingSetting {
        key: &'static str,
        hint: &'static str,
    },

    #[error("system_config `{key}` is `{value}`: {reason}")]
    BadSetting {
        key: &'static str,
        value: String,
        reason: String,
    },

    /// A missing rate or an unpriced holding; nothing was written.
    #[error("{0}")]
    Valuation(#[from] ValuationError),

    #[error("{what} {value} does not fit a NUMERIC(38,18) column: {reason}")]
    TooLarge {
        what: String,
        value: String,
        reason: String,
    },

    #[error("from {from} is after to {to}: give from on or before to")]
    BadRange { from: NaiveDate, to: NaiveDate },
}

/// How a caller (the HTTP layer, the CLI) should treat an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is wrong (a range backwards).
    BadInput,
    /// The stored data cannot support the job: add a rate, a price, fix a setting.
    MissingData,
    /// The database failed.
    Database,
}

impl LedgerError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadRange { .. } => ErrorKind::BadInput,
            Self::Database(_) => ErrorKind::Database,
            Self::MissingSetting { .. }
            | Self::BadSetting { .. }
            | Self::Valuation(_)
            | Self::TooLarge { .. } => ErrorKind::MissingData,
        }
    }
}
