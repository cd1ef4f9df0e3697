//! The crate's error type: one line saying what is wrong and what to do.

use statements::StatementError;
use thiserror::Error;

/// Why an import or a provider's sync was refused. Nothing of the run was written.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file is malformed or foreign (the message names the line, element or JSON path).
    #[error("{0}")]
    Statement(#[from] StatementError),
    /// A value the parser accepted does not fit the database's columns.
    #[error("{record}: {field} {value} {problem}; nothing was imported: correct the value in the file or enter this record by hand")]
    Value {
        /// The record's natural key, e.g. `okx:bill:623950854533513220`.
        record: String,
        field: &'static str,
        value: String,
        problem: String,
    },
    /// A record breaks a rule of its table (see pf-data's validators).
    #[error("{record}: {message}; nothing was imported")]
    Invalid { record: String, message: String },
    /// Reading the upload failed part way.
    #[error("reading the statement failed: {0}; nothing was imported, upload the file again")]
    Read(#[from] std::io::Error),
    /// The database refused a statement; the run was rolled back.
    #[error(
        "database error, nothing was imported: {0}; check the database and run the import again"
    )]
    Database(#[from] diesel::result::Error),
    /// A provider's API could not be read (the message never holds credentials).
    #[error("{0}")]
    Provider(#[from] provider_sync::SyncError),
}

impl ImportError {
    /// Whether the input is at fault (an HTTP 422), not the server (a 500).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Self::Statement(_) | Self::Value { .. } | Self::Invalid { .. } | Self::Read(_)
        )
    }

    /// The message flattened to one line, for logs, run records and HTTP answers.
    pub fn one_line(&self) -> String {
        self.to_string().replace(['\r', '\n'], " ")
    }
}
