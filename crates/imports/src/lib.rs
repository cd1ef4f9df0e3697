//! Provider statements and syncs written into personalfinance's tables.
//!
//! [`import`] reads one statement file (IBKR Flex XML, Wise CSV, OKX bills CSV/JSON or balance
//! JSON, EVM balances JSON) with the `statements` parsers and upserts every record by its
//! natural key: a new record is *added*, a known one whose values differ is *updated*, an
//! identical one is *skipped*, so importing the same file twice changes nothing. The whole run
//! is one transaction: a malformed file (or a value that does not fit a column) rolls back
//! everything, and only the run's record (`import_runs`, plus `ibkr_sync_logs` for IBKR) is
//! written, saying why. IBKR statements stream: memory follows one batch of trades, not the file.
//!
//! [`sync`] fetches every enabled provider with `provider-sync` and writes what it got through
//! the same code, keeping the incremental cursors (OKX newest `billId`, Wise balances'
//! `sync_cursor`/`last_synced_at`).
//!
//! | record | table | natural key |
//! | --- | --- | --- |
//! | IBKR `FlexStatement` | `ibkr_accounts` | `account_id` |
//! | IBKR `OpenPosition` | `ibkr_positions` | account, symbol, asset category, currency, report date |
//! | IBKR `CashReportCurrency` | `ibkr_balances` | account, currency, `toDate` |
//! | IBKR `Trade` | `user_operations` (platform `IBKR`) | `external_id` = the trade's natural key |
//! | Wise CSV row | `wise_transactions` | `transaction_id` |
//! | OKX bill | `okx_transactions` | `bill_id` |
//! | OKX balance | `okx_balances` | `currency` (the current balance) |
//! | EVM balance | `web3_tokens` | chain, wallet, contract (native: symbol) |
#![forbid(unsafe_code)]

mod error;
mod evm;
mod ibkr;
mod okx;
mod run;
mod sync;
mod wise;
mod write;

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use db_conn::DbConnection;
pub use error::ImportError;
pub use run::{latest_runs, RunStatus};
pub use statements::Source;
pub use sync::{sync, sync_only, ProviderOutcome, SyncReport};

/// Added, updated and skipped records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub added: u64,
    pub updated: u64,
    pub skipped: u64,
}

impl Counts {
    fn absorb(&mut self, other: Counts) {
        self.added += other.added;
        self.updated += other.updated;
        self.skipped += other.skipped;
    }
}

/// What one run changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// `ibkr`, `wise`, `okx` or `evm`.
    pub source: String,
    pub added: u64,
    pub updated: u64,
    pub skipped: u64,
    /// The same counts by table.
    pub per_table: BTreeMap<String, Counts>,
    /// The `import_runs` row recording this run.
    pub run_id: i64,
    /// SHA-256 of the bytes read (hex).
    pub file_sha256: String,
}

/// Imports one statement file in one transaction; see the crate documentation.
///
/// `input` is read once, front to back. OKX files are recognized by their first byte: `{`
/// is an API answer (bills, or balance when it holds `details`), anything else the bills CSV.
pub fn import<R: BufRead>(
    conn: &mut DbConnection,
    source: Source,
    input: R,
) -> Result<ImportReport, ImportError> {
    run::record(conn, source, input)
}

/// [`import`] of bytes already in memory.
pub fn import_bytes(
    conn: &mut DbConnection,
    source: Source,
    bytes: &[u8],
) -> Result<ImportReport, ImportError> {
    import(conn, source, bytes)
}

/// The names [`Source`] accepts, for error messages.
pub fn accepted_sources() -> String {
    Source::ALL.map(Source::name).join(", ")
}
