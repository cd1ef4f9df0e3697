//! Wise balance statement CSV (one currency balance over a period).
//!
//! Accepted: the CSV Wise offers for download, header row first, columns
//! matched by name (order does not matter, unknown columns are ignored):
//!
//! `"TransferWise ID","Date","Amount","Currency","Description",
//! "Payment Reference","Running Balance","Exchange From","Exchange To",
//! "Exchange Rate","Payer Name","Payee Name","Payee Account Number",
//! "Merchant","Card Last Four Digits","Card Holder Full Name","Attachment",
//! "Note","Total fees"`, optionally `"Exchange To Amount"` and `"Date Time"`.
//!
//! Required: `TransferWise ID`, `Date`, `Amount`, `Currency`, `Description`,
//! `Running Balance`, `Total fees`. Dates are `dd-MM-yyyy` or `yyyy-MM-dd`;
//! `Date Time` adds ` HH:mm:ss[.SSS]`. Amounts use a decimal point and no
//! thousands separators, as Wise writes them. A leading byte-order mark is
//! ignored.

use std::io::Read;

use bigdecimal::BigDecimal;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::csv_rows::{read_rows, CsvLine, CsvSpec};
use crate::error::StatementError;
use crate::text;

const SPEC: CsvSpec = CsvSpec {
    format: "wise CSV",
    hint: "download the balance statement from Wise again as CSV and upload it unchanged",
    required: &[
        "TransferWise ID",
        "Date",
        "Amount",
        "Currency",
        "Description",
        "Running Balance",
        "Total fees",
    ],
    preamble_lines: 0,
    blanks: &[],
};

/// One line of a Wise balance statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WiseTransaction {
    /// `TransferWise ID`, e.g. `TRANSFER-123456789` or `CARD-987654321`.
    pub transaction_id: String,
    pub date: NaiveDate,
    /// From the `Date Time` column, in newer exports only.
    pub date_time: Option<NaiveDateTime>,
    /// Signed: negative when money left the balance.
    pub amount: BigDecimal,
    pub currency: String,
    pub description: String,
    /// `Payment Reference`.
    pub reference: Option<String>,
    /// The balance after this transaction.
    pub running_balance: BigDecimal,
    pub exchange_from: Option<String>,
    pub exchange_to: Option<String>,
    pub exchange_rate: Option<BigDecimal>,
    pub exchange_to_amount: Option<BigDecimal>,
    pub payer_name: Option<String>,
    pub payee_name: Option<String>,
    pub payee_account_number: Option<String>,
    pub merchant: Option<String>,
    pub card_last_four_digits: Option<String>,
    pub card_holder_full_name: Option<String>,
    pub attachment: Option<String>,
    pub note: Option<String>,
    /// `Total fees`; an empty cell means no fee and reads as zero.
    pub total_fees: BigDecimal,
}

impl WiseTransaction {
    /// `wise:{TransferWise ID}:{currency}`. The currency is part of the key
    /// because a conversion appears under one ID in the statements of both
    /// balances it moves money between.
    pub fn natural_key(&self) -> String {
        format!("wise:{}:{}", self.transaction_id, self.currency)
    }
}

/// Reads a Wise balance statement CSV; refuses the file at its first
/// problem.
pub fn parse_wise<R: Read>(reader: R) -> Result<Vec<WiseTransaction>, StatementError> {
    read_rows(reader, &SPEC, Row::convert)
}

/// A row as the CSV holds it; converted by [`Row::convert`].
#[derive(Deserialize)]
struct Row {
    #[serde(rename = "TransferWise ID")]
    id: String,
    #[serde(rename = "Date")]
    date: String,
    #[serde(rename = "Date Time", default)]
    date_time: Option<String>,
    #[serde(rename = "Amount")]
    amount: String,
    #[serde(rename = "Currency")]
    currency: String,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "Payment Reference", default)]
    reference: Option<String>,
    #[serde(rename = "Running Balance")]
    running_balance: String,
    #[serde(rename = "Exchange From", default)]
    exchange_from: Option<String>,
    #[serde(rename = "Exchange To", default)]
    exchange_to: Option<String>,
    #[serde(rename = "Exchange Rate", default)]
    exchange_rate: Option<String>,
    #[serde(rename = "Exchange To Amount", default)]
    exchange_to_amount: Option<String>,
    #[serde(rename = "Payer Name", default)]
    payer_name: Option<String>,
    #[serde(rename = "Payee Name", default)]
    payee_name: Option<String>,
    #[serde(rename = "Payee Account Number", default)]
    payee_account_number: Option<String>,
    #[serde(rename = "Merchant", default)]
    merchant: Option<String>,
    #[serde(rename = "Card Last Four Digits", default)]
    card_last_four_digits: Option<String>,
    #[serde(rename = "Card Holder Full Name", default)]
    card_holder_full_name: Option<String>,
    #[serde(rename = "Attachment", default)]
    attachment: Option<String>,
    #[serde(rename = "Note", default)]
    note: Option<String>,
    #[serde(rename = "Total fees")]
    total_fees: String,
}

fn date(text: &str) -> Option<NaiveDate> {
    text::date_dmy(text).or_else(|| text::date_ymd(text))
}

fn date_time(value: &str) -> Option<NaiveDateTime> {
    text::date_time(value, &[' '], date)
}

impl Row {
    fn convert(self, line: &CsvLine<'_>) -> Result<WiseTransaction, StatementError> {
        let total_fees = match line.opt(Some(self.total_fees)) {
            Some(fees) => line.decimal("Total fees", fees)?,
            None => BigDecimal::from(0),
        };
        let date_time = line
            .opt(self.date_time)
            .map(|v| line.parse("Date Time", v, date_time, "dd-MM-yyyy HH:mm:ss"))
            .transpose()?;
        Ok(WiseTransaction {
            transaction_id: line.required("TransferWise ID", self.id)?,
            date: line.parse("Date", self.date, date, "a date (dd-MM-yyyy)")?,
            date_time,
            amount: line.decimal("Amount", self.amount)?,
            currency: line.required("Currency", self.currency)?,
            description: self.description,
            reference: line.opt(self.reference),
            running_balance: line.decimal("Running Balance", self.running_balance)?,
            exchange_from: line.opt(self.exchange_from),
            exchange_to: line.opt(self.exchange_to),
            exchange_rate: line.opt_decimal("Exchange Rate", self.exchange_rate)?,
            exchange_to_amount: line.opt_decimal("Exchange To Amount", self.exchange_to_amount)?,
            payer_name: line.opt(self.payer_name),
            payee_name: line.opt(self.payee_name),
            payee_account_number: line.opt(self.payee_account_number),
            merchant: line.opt(self.merchant),
            card_last_four_digits: line.opt(self.card_last_four_digits),
            card_holder_full_name: line.opt(self.card_holder_full_name),
            attachment: line.opt(self.attachment),
            note: line.opt(self.note),
            total_fees,
        })
    }
}
