//! OKX account bills (CSV export and API v5 JSON) and account balances
//! (API v5 JSON).
//!
//! # Bills CSV export, as accepted
//!
//! Up to five preamble lines (e.g. a `UID:` line), then this header, columns
//! matched by name:
//!
//! `id,Order id,Time,Trade Type,Symbol,Action,Amount,Trading Unit,Filled Price,PnL,Fee,Fee Unit,Balance,Balance Unit`
//!
//! Required: `id`, `Time`, `Trade Type`, `Balance`, `Balance Unit`. `Time`
//! is `yyyy-MM-dd HH:mm:ss` in the time zone chosen at export; it is returned
//! unconverted. Empty cells and `--` mean no value.
//!
//! # API v5 JSON, as accepted
//!
//! The raw body of `GET /api/v5/account/bills` (or `bills-archive`):
//! `{"code":"0","msg":"","data":[{"billId","ccy","bal","balChg","sz","type","subType","ts",...}]}`
//! and of `GET /api/v5/account/balance`:
//! `{"code":"0","data":[{"totalEq","uTime","details":[{"ccy","eq","cashBal","availBal","frozenBal","eqUsd","uTime"}]}]}`.
//! OKX sends every number as a string; they are parsed exactly, `""` meaning
//! no value. `ts`/`uTime` are Unix milliseconds, returned as UTC. A `code`
//! other than `"0"` is refused with OKX's code and message.

use std::io::Read;

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::csv_rows::{read_rows, CsvLine, CsvSpec};
use crate::error::StatementError;
use crate::json_doc::JsonSpec;
use crate::text;

const CSV_SPEC: CsvSpec = CsvSpec {
    format: "OKX bills CSV",
    hint: "export the account bills from OKX again as CSV and upload the file unchanged",
    required: &["id", "Time", "Trade Type", "Balance", "Balance Unit"],
    preamble_lines: 5,
    blanks: &["--"],
};

const BILLS_SPEC: JsonSpec = JsonSpec {
    format: "OKX bills JSON",
    hint: "record the raw response body of GET /api/v5/account/bills again",
};

const BALANCE_SPEC: JsonSpec = JsonSpec {
    format: "OKX balance JSON",
    hint: "record the raw response body of GET /api/v5/account/balance again",
};

/// One account bill: a change of one currency's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OkxBill {
    /// `billId` (API) or `id` (CSV).
    pub bill_id: String,
    /// API: UTC. CSV: as exported.
    pub ts: NaiveDateTime,
    /// The currency whose balance changed (CSV: `Balance Unit`).
    pub ccy: String,
    /// The balance after the bill.
    pub bal: BigDecimal,
    /// The change of balance; the CSV export has no such column.
    pub bal_chg: Option<BigDecimal>,
    /// API: the numeric `type` code, e.g. `"2"` for trade. CSV: `Trade Type`.
    pub bill_type: String,
    /// API: the numeric `subType`. CSV: `Action`.
    pub sub_type: Option<String>,
    pub inst_type: Option<String>,
    /// API: `instId`. CSV: `Symbol`.
    pub inst_id: Option<String>,
    pub ord_id: Option<String>,
    /// Quantity traded (CSV: `Amount`).
    pub sz: Option<BigDecimal>,
    /// CSV only: `Trading Unit`, the currency of `sz`.
    pub sz_ccy: Option<String>,
    pub px: Option<BigDecimal>,
    pub pnl: Option<BigDecimal>,
    /// Signed as OKX reports it: negative when charged.
    pub fee: Option<BigDecimal>,
    /// API: `ccy` (fees are charged in the bill's currency). CSV: `Fee Unit`.
    pub fee_ccy: Option<String>,
}

/// One currency of an account balance snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OkxBalance {
    pub ccy: String,
    pub eq: BigDecimal,
    pub cash_bal: BigDecimal,
    pub avail_bal: Option<BigDecimal>,
    pub frozen_bal: Option<BigDecimal>,
    pub eq_usd: Option<BigDecimal>,
    /// `uTime`, UTC.
    pub updated: Option<NaiveDateTime>,
}

/// A whole `GET /api/v5/account/balance` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OkxAccountBalance {
    /// `totalEq`, in USD.
    pub total_eq: BigDecimal,
    pub updated: Option<NaiveDateTime>,
    pub balances: Vec<OkxBalance>,
}

impl OkxBill {
    /// `okx:bill:{billId}`.
    pub fn natural_key(&self) -> String {
        format!("okx:bill:{}", self.bill_id)
    }
}

impl OkxBalance {
    /// `okx:balance:{ccy}:{uTime in ms}` (without the time if OKX gave none).
    pub fn natural_key(&self) -> String {
        match self.updated {
            Some(at) => format!(
                "okx:balance:{}:{}",
                self.ccy,
                at.and_utc().timestamp_millis()
            ),
            None => format!("okx:balance:{}", self.ccy),
        }
    }
}

/// Reads an OKX bills CSV export; refuses the file at its first problem.
pub fn parse_okx_bills_csv<R: Read>(reader: R) -> Result<Vec<OkxBill>, StatementError> {
    read_rows(reader, &CSV_SPEC, CsvRow::convert)
}

/// Reads the body of `GET /api/v5/account/bills`.
pub fn parse_okx_bills_json(body: &[u8]) -> Result<Vec<OkxBill>, StatementError> {
    let rows: Vec<RawBill> = data(&BILLS_SPEC, body)?;
    let rows = rows.into_iter().enumerate();
    rows.map(|(i, row)| row.convert(&format!("$.data[{i}]")))
        .collect()
}

/// Reads the body of `GET /api/v5/account/balance`.
pub fn parse_okx_balance(body: &[u8]) -> Result<OkxAccountBalance, StatementError> {
    let accounts: Vec<RawAccount> = data(&BALANCE_SPEC, body)?;
    let count = accounts.len();
    let Some(account) = accounts.into_iter().next().filter(|_| count == 1) else {
        let problem = format!("holds {count} accounts, expected exactly 1");
        return Err(BALANCE_SPEC.error("$.data", problem));
    };
    account.convert()
}

/// Checks OKX's `code` and returns `data`. The code is read first, on its
/// own, so an error answer is reported as such whatever its `data` holds.
fn data<T: serde::de::DeserializeOwned>(
    spec: &JsonSpec,
    body: &[u8],
) -> Result<Vec<T>, StatementError> {
    #[derive(Deserialize)]
    struct Head {
        code: Option<String>,
        #[serde(default)]
        msg: String,
    }
    #[derive(Deserialize)]
    struct Body<T> {
        data: Vec<T>,
    }
    let head: Head = spec.parse(body)?;
    match head.code.as_deref() {
        Some("0") => Ok(spec.parse::<Body<T>>(body)?.data),
        Some(code) => Err(StatementError::Provider {
            format: spec.format,
            code: code.to_owned(),
            msg: head.msg,
            hint: "fix the API request (key, permissions, parameters) and record the answer again",
        }),
        None => Err(spec.error(
            "$.code",
            "is missing: this is not an OKX API v5 answer".into(),
        )),
    }
}

/// Unix milliseconds as OKX sends them (a string of digits), as UTC.
fn millis(text: &str) -> Option<NaiveDateTime> {
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    DateTime::from_timestamp_millis(text.parse().ok()?).map(|at| at.naive_utc())
}

fn opt(value: String) -> Option<String> {
    Some(value).filter(|v| !v.is_empty())
}

/// An optional exact decimal at `path`; `""` is absent.
fn opt_decimal(
    spec: &JsonSpec,
    path: &str,
    value: &str,
) -> Result<Option<BigDecimal>, StatementError> {
    if value.is_empty() {
        return Ok(None);
    }
    spec.convert(path, value, text::decimal, "a decimal string")
        .map(Some)
}

fn decimal(spec: &JsonSpec, path: &str, value: &str) -> Result<BigDecimal, StatementError> {
    spec.convert(path, value, text::decimal, "a decimal string")
}

fn opt_millis(
    spec: &JsonSpec,
    path: &str,
    value: &str,
) -> Result<Option<NaiveDateTime>, StatementError> {
    if value.is_empty() {
        return Ok(None);
    }
    spec.convert(path, value, millis, "Unix milliseconds")
        .map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBill {
    bill_id: String,
    ccy: String,
    bal: String,
    bal_chg: String,
    #[serde(rename = "type")]
    bill_type: String,
    ts: String,
    #[serde(default)]
    sub_type: String,
    #[serde(default)]
    inst_type: String,
    #[serde(default)]
    inst_id: String,
    #[serde(default)]
    ord_id: String,
    #[serde(default)]
    sz: String,
    #[serde(default)]
    px: String,
    #[serde(default)]
    pnl: String,
    #[serde(default)]
    fee: String,
}

impl RawBill {
    fn convert(self, at: &str) -> Result<OkxBill, StatementError> {
        let s = &BILLS_SPEC;
        let path = |field: &str| format!("{at}.{field}");
        if self.bill_id.is_empty() {
            return Err(s.error(path("billId"), "is empty".into()));
        }
        Ok(OkxBill {
            ts: s.convert(&path("ts"), &self.ts, millis, "Unix milliseconds")?,
            bal: decimal(s, &path("bal"), &self.bal)?,
            bal_chg: Some(decimal(s, &path("balChg"), &self.bal_chg)?),
            sz: opt_decimal(s, &path("sz"), &self.sz)?,
            px: opt_decimal(s, &path("px"), &self.px)?,
            pnl: opt_decimal(s, &path("pnl"), &self.pnl)?,
            fee: opt_decimal(s, &path("fee"), &self.fee)?,
            fee_ccy: opt(self.ccy.clone()),
            bill_id: self.bill_id,
            ccy: self.ccy,
            bill_type: self.bill_type,
            sub_type: opt(self.sub_type),
            inst_type: opt(self.inst_type),
            inst_id: opt(self.inst_id),
            ord_id: opt(self.ord_id),
            sz_ccy: None,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAccount {
    total_eq: String,
    #[serde(default)]
    u_time: String,
    details: Vec<RawDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDetail {
    ccy: String,
    eq: String,
    cash_bal: String,
    #[serde(default)]
    avail_bal: String,
    #[serde(default)]
    frozen_bal: String,
    #[serde(default)]
    eq_usd: String,
    #[serde(default)]
    u_time: String,
}

impl RawAccount {
    fn convert(self) -> Result<OkxAccountBalance, StatementError> {
        let s = &BALANCE_SPEC;
        let mut balances = Vec::with_capacity(self.details.len());
        for (i, d) in self.details.into_iter().enumerate() {
            let path = |field: &str| format!("$.data[0].details[{i}].{field}");
            balances.push(OkxBalance {
                eq: decimal(s, &path("eq"), &d.eq)?,
                cash_bal: decimal(s, &path("cashBal"), &d.cash_bal)?,
                avail_bal: opt_decimal(s, &path("availBal"), &d.avail_bal)?,
                frozen_bal: opt_decimal(s, &path("frozenBal"), &d.frozen_bal)?,
                eq_usd: opt_decimal(s, &path("eqUsd"), &d.eq_usd)?,
                updated: opt_millis(s, &path("uTime"), &d.u_time)?,
                ccy: d.ccy,
            });
        }
        Ok(OkxAccountBalance {
            total_eq: decimal(s, "$.data[0].totalEq", &self.total_eq)?,
            updated: opt_millis(s, "$.data[0].uTime", &self.u_time)?,
            balances,
        })
    }
}

/// A row of the bills CSV export, by header name.
#[derive(Deserialize)]
struct CsvRow {
    id: String,
    #[serde(rename = "Order id", default)]
    order_id: Option<String>,
    #[serde(rename = "Time")]
    time: String,
    #[serde(rename = "Trade Type")]
    trade_type: String,
    #[serde(rename = "Symbol", default)]
    symbol: Option<String>,
    #[serde(rename = "Action", default)]
    action: Option<String>,
    #[serde(rename = "Amount", default)]
    amount: Option<String>,
    #[serde(rename = "Trading Unit", default)]
    trading_unit: Option<String>,
    #[serde(rename = "Filled Price", default)]
    filled_price: Option<String>,
    #[serde(rename = "PnL", default)]
    pnl: Option<String>,
    #[serde(rename = "Fee", default)]
    fee: Option<String>,
    #[serde(rename = "Fee Unit", default)]
    fee_unit: Option<String>,
    #[serde(rename = "Balance")]
    balance: String,
    #[serde(rename = "Balance Unit")]
    balance_unit: String,
}

fn csv_time(value: &str) -> Option<NaiveDateTime> {
    text::date_time(value, &[' '], text::date_ymd)
}

impl CsvRow {
    fn convert(self, line: &CsvLine<'_>) -> Result<OkxBill, StatementError> {
        Ok(OkxBill {
            bill_id: line.required("id", self.id)?,
            ts: line.parse("Time", self.time, csv_time, "yyyy-MM-dd HH:mm:ss")?,
            ccy: line.required("Balance Unit", self.balance_unit)?,
            bal: line.decimal("Balance", self.balance)?,
            bal_chg: None,
            bill_type: line.required("Trade Type", self.trade_type)?,
            sub_type: line.opt(self.action),
            inst_type: None,
            inst_id: line.opt(self.symbol),
            ord_id: line.opt(self.order_id),
            sz: line.opt_decimal("Amount", self.amount)?,
            sz_ccy: line.opt(self.trading_unit),
            px: line.opt_decimal("Filled Price", self.filled_price)?,
            pnl: line.opt_decimal("PnL", self.pnl)?,
            fee: line.opt_decimal("Fee", self.fee)?,
            fee_ccy: line.opt(self.fee_unit),
        })
    }
}
