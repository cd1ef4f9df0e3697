//! Interactive Brokers Flex Query XML (Activity Flex statements).
//!
//! Accepted layout, as IBKR documents it:
//! `FlexQueryResponse > FlexStatements > FlexStatement accountId fromDate toDate`
//! holding the sections `OpenPositions/OpenPosition`,
//! `CashReport/CashReportCurrency` and `Trades/Trade`. Every value is an
//! attribute. Other sections, and other elements inside these sections
//! (`Order`, `SymbolSummary`, `Lot`, ...), are skipped.
//!
//! * Dates may be `yyyyMMdd` or `yyyy-MM-dd`; date-times join a date and a
//!   `HHmmss` or `HH:mm:ss` time with `;`, `,` or a space. The Flex Query's
//!   other date formats (`MM/dd/yyyy`, `dd/MM/yyyy`) are refused because they
//!   are ambiguous.
//! * An empty attribute counts as absent.
//! * A row without `accountId` takes the enclosing `FlexStatement`'s.
//! * `OpenPosition` rows with `levelOfDetail="LOT"` are skipped: they break
//!   down the summary row, and importing both would count the position twice.
//! * The `BASE_SUMMARY` cash row is skipped: it is the other rows converted
//!   to the base currency, not a currency balance of its own.
//!
//! [`IbkrReader`] streams: it reads with one reused buffer, so memory follows
//! the largest element, not the file (a statement can hold 100,000 trades).

mod reader;
mod rows;

use std::io::BufRead;

use bigdecimal::BigDecimal;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::error::StatementError;

pub use reader::IbkrReader;

const FORMAT: &str = "IBKR Flex XML";
const HINT_AGAIN: &str = "run the Flex Query again with format XML and upload the file unchanged";
const HINT_FOREIGN: &str = "upload the XML file produced by an IBKR Activity Flex Query";
const HINT_FIELD: &str =
    "add the missing field to the section in the Flex Query's settings and run the query again";
const HINT_DATE: &str =
    "set the Flex Query's date format to yyyyMMdd or yyyy-MM-dd (time: HHmmss or HH:mm:ss) and run it again";

/// One `FlexStatement` element: which account and period follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IbkrStatementHeader {
    pub account_id: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    /// The query's period, e.g. `LastBusinessDay`.
    pub period: Option<String>,
    pub when_generated: Option<NaiveDateTime>,
    /// `queryName` of the enclosing `FlexQueryResponse`.
    pub query_name: Option<String>,
}

/// One `OpenPosition` summary row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IbkrPosition {
    pub account_id: String,
    pub currency: String,
    pub asset_category: String,
    pub symbol: String,
    pub description: Option<String>,
    pub conid: String,
    pub position: BigDecimal,
    pub mark_price: BigDecimal,
    pub position_value: BigDecimal,
    pub cost_basis_price: Option<BigDecimal>,
    pub report_date: NaiveDate,
    pub fx_rate_to_base: Option<BigDecimal>,
}

/// One `CashReportCurrency` row (a currency's cash over the period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IbkrCash {
    pub account_id: String,
    pub currency: String,
    pub starting_cash: Option<BigDecimal>,
    pub ending_cash: BigDecimal,
    pub ending_settled_cash: Option<BigDecimal>,
    /// The row's `fromDate`, else the statement's.
    pub from_date: NaiveDate,
    /// The row's `toDate`, else the statement's.
    pub to_date: NaiveDate,
}

/// One `Trade` row (an execution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IbkrTrade {
    pub account_id: String,
    pub currency: String,
    pub asset_category: String,
    pub symbol: String,
    pub description: Option<String>,
    pub conid: String,
    pub trade_id: Option<String>,
    pub transaction_id: Option<String>,
    pub trade_date: NaiveDate,
    pub date_time: Option<NaiveDateTime>,
    pub settle_date: Option<NaiveDate>,
    /// Signed: negative for sells.
    pub quantity: BigDecimal,
    pub trade_price: BigDecimal,
    pub proceeds: BigDecimal,
    /// Signed as IBKR reports it: negative when paid.
    pub ib_commission: BigDecimal,
    pub ib_commission_currency: Option<String>,
    pub net_cash: Option<BigDecimal>,
    /// As given: `BUY`, `SELL`, or a cancellation such as `SELL (Ca.)`.
    pub buy_sell: String,
    pub fx_rate_to_base: Option<BigDecimal>,
}

/// One item of a Flex statement, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IbkrRecord {
    /// Starts a `FlexStatement`; the records after it belong to it.
    Statement(IbkrStatementHeader),
    Position(IbkrPosition),
    Cash(IbkrCash),
    Trade(IbkrTrade),
}

/// One `FlexStatement` with its records, as collected by [`parse_ibkr`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IbkrStatement {
    pub header: IbkrStatementHeader,
    pub positions: Vec<IbkrPosition>,
    pub cash: Vec<IbkrCash>,
    pub trades: Vec<IbkrTrade>,
}

impl IbkrStatementHeader {
    /// `ibkr:statement:{account}:{from}:{to}`.
    pub fn natural_key(&self) -> String {
        format!(
            "ibkr:statement:{}:{}:{}",
            self.account_id, self.from_date, self.to_date
        )
    }
}

impl IbkrPosition {
    /// `ibkr:position:{account}:{conid}:{reportDate}`.
    pub fn natural_key(&self) -> String {
        format!(
            "ibkr:position:{}:{}:{}",
            self.account_id, self.conid, self.report_date
        )
    }
}

impl IbkrCash {
    /// `ibkr:cash:{account}:{currency}:{toDate}`.
    pub fn natural_key(&self) -> String {
        format!(
            "ibkr:cash:{}:{}:{}",
            self.account_id, self.currency, self.to_date
        )
    }
}

impl IbkrTrade {
    /// `ibkr:trade:{account}:{tradeID}:{transactionID}` (an absent ID is
    /// empty). Both IDs are kept because a cancellation row repeats the
    /// trade's `tradeID` under a new `transactionID`.
    pub fn natural_key(&self) -> String {
        let trade = self.trade_id.as_deref().unwrap_or("");
        let transaction = self.transaction_id.as_deref().unwrap_or("");
        format!("ibkr:trade:{}:{trade}:{transaction}", self.account_id)
    }
}

impl IbkrRecord {
    /// The natural key of the record inside.
    pub fn natural_key(&self) -> String {
        match self {
            Self::Statement(r) => r.natural_key(),
            Self::Position(r) => r.natural_key(),
            Self::Cash(r) => r.natural_key(),
            Self::Trade(r) => r.natural_key(),
        }
    }
}

/// Reads a whole Flex XML file into statements; refuses the file at its
/// first problem. For large files prefer [`IbkrReader`].
pub fn parse_ibkr<R: BufRead>(reader: R) -> Result<Vec<IbkrStatement>, StatementError> {
    let mut statements: Vec<IbkrStatement> = Vec::new();
    for record in IbkrReader::new(reader) {
        let record = record?;
        if let IbkrRecord::Statement(header) = record {
            statements.push(IbkrStatement {
                header,
                positions: Vec::new(),
                cash: Vec::new(),
                trades: Vec::new(),
            });
            continue;
        }
        // The reader yields rows only inside a FlexStatement, after its header.
        let Some(current) = statements.last_mut() else {
            unreachable!("Flex row outside a FlexStatement")
        };
        match record {
            IbkrRecord::Position(row) => current.positions.push(row),
            IbkrRecord::Cash(row) => current.cash.push(row),
            IbkrRecord::Trade(row) => current.trades.push(row),
            IbkrRecord::Statement(_) => {}
        }
    }
    Ok(statements)
}
