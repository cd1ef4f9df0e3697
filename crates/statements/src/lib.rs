//! Parse the statement files personal-finance providers export into typed
//! records: IBKR Flex Query XML, Wise balance statement CSV, OKX bills (CSV
//! export and API v5 JSON) and balances (API v5 JSON), and EVM wallet
//! balances recorded from JSON-RPC.
//!
//! Pure: no database, no network; input is a reader or bytes. Money and
//! quantities are [`bigdecimal::BigDecimal`] parsed exactly from the text,
//! never through `f64`. A malformed or foreign file is refused with one
//! [`StatementError`] whose message is one line saying what is wrong, where,
//! and what to do; no parser returns part of a file. Every record has a
//! `natural_key()` so imports can be made idempotent.
//!
//! Large IBKR statements stream record by record:
//!
//! ```
//! use statements::{IbkrReader, IbkrRecord};
//!
//! let xml = br#"<FlexQueryResponse><FlexStatements count="1">
//! <FlexStatement accountId="U1" fromDate="20240101" toDate="20240131"><Trades>
//! <Trade currency="USD" assetCategory="STK" symbol="AAPL" conid="265598" tradeID="1"
//!  tradeDate="20240102" quantity="10" tradePrice="184.25" proceeds="-1842.5"
//!  ibCommission="-1" buySell="BUY"/>
//! </Trades></FlexStatement></FlexStatements></FlexQueryResponse>"#;
//! let mut trades = 0;
//! for record in IbkrReader::new(&xml[..]) {
//!     // Import inside one transaction; roll back on Err.
//!     if let IbkrRecord::Trade(trade) = record? {
//!         assert_eq!(trade.proceeds.to_plain_string(), "-1842.5");
//!         trades += 1;
//!     }
//! }
//! assert_eq!(trades, 1);
//! # Ok::<(), statements::StatementError>(())
//! ```

#![forbid(unsafe_code)]

mod csv_rows;
mod error;
pub mod evm;
pub mod ibkr;
mod json_doc;
pub mod okx;
mod text;
pub mod wise;

use std::fmt;
use std::str::FromStr;

pub use error::StatementError;
pub use evm::{balance_of_call_data, hex_quantity_to_decimal, parse_evm_balances, EvmBalance};
pub use ibkr::{
    parse_ibkr, IbkrCash, IbkrPosition, IbkrReader, IbkrRecord, IbkrStatement, IbkrStatementHeader,
    IbkrTrade,
};
pub use okx::{
    parse_okx_balance, parse_okx_bills_csv, parse_okx_bills_json, OkxAccountBalance, OkxBalance,
    OkxBill,
};
pub use wise::{parse_wise, WiseTransaction};

/// The providers whose files this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Ibkr,
    Wise,
    Okx,
    Evm,
}

impl Source {
    /// Every source, in the order the error message lists them.
    pub const ALL: [Source; 4] = [Source::Ibkr, Source::Wise, Source::Okx, Source::Evm];

    /// The name [`FromStr`] accepts: `ibkr`, `wise`, `okx` or `evm`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Ibkr => "ibkr",
            Source::Wise => "wise",
            Source::Okx => "okx",
            Source::Evm => "evm",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Source {
    type Err = StatementError;

    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim();
        Source::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| StatementError::UnknownSource {
                given: error::quote(text),
            })
    }
}

/// Guesses which provider a file comes from by its first bytes. Only a
/// hint for a UI's default: the parser still checks the whole file.
pub fn detect(bytes: &[u8]) -> Option<Source> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with('<') {
        return head.contains("<FlexQueryResponse").then_some(Source::Ibkr);
    }
    if head.starts_with('{') {
        if head.contains("\"wallet\"") && head.contains("\"chain\"") {
            return Some(Source::Evm);
        }
        return head.contains("\"code\"").then_some(Source::Okx);
    }
    let lines = head.lines();
    if lines.clone().next()?.contains("TransferWise ID") {
        return Some(Source::Wise);
    }
    let okx_header = |line: &str| line.starts_with("id,") && line.contains("Balance Unit");
    lines.take(6).any(okx_header).then_some(Source::Okx)
}
