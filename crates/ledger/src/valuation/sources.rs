//! Every holding as of a date, read from the tables that record them.
//!
//! - `asset_positions` (manual holdings): per (platform, asset_type, asset_code, currency)
//!   the newest row created on or before the date; `market_value`, else quantity ×
//!   `current_price`.
//! - `ibkr_positions` and `ibkr_balances` (cash): per account, every row of the account's
//!   latest `snapshot_date` on or before the date. A whole snapshot, not the latest row per
//!   symbol, because a position missing from the latest snapshot was closed.
//! - `okx_balances`: per currency the newest row by `update_time`; its `usd_value` in USD
//!   when present, else `total` in the coin itself (valued with a coin→… rate).
//! - `wise_balances`: per (account, currency) the newest row; `available + reserved`.
//! - `web3_tokens`: per (wallet, chain, symbol, contract) the newest row; `value_usd`, else
//!   `balance × price_usd`, in USD. A token with neither is left out and listed in the
//!   report: wallets collect unpriced airdrops that would otherwise block every snapshot.
//!   `web3_balances` is not read: it is the sum of the wallet's tokens.
//!
//! "On or before the date" for a timestamp means before the end of that calendar day in
//! `system_config.snapshot_timezone`.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, One};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::max;
use diesel::prelude::*;

use db_conn::DbConnection;
use pf_data::models::{
    AssetPosition, IbkrBalance, IbkrPosition, OkxBalance, Web3Token, WiseBalance,
};
use pf_data::schema::{
    asset_positions::dsl as ap, ibkr_accounts::dsl as ia, ibkr_balances::dsl as ib,
    ibkr_positions::dsl as ip, okx_balances::dsl as ob, web3_tokens::dsl as wt,
    wise_balances::dsl as wb,
};
use portfolio::Holding;

use crate::money::big;
use crate::settings::Settings;

pub const IBKR: &str = "IBKR";
pub const OKX: &str = "OKX";
pub const WISE: &str = "Wise";
pub const WEB3: &str = "Web3";

/// A holding and the `asset_name` its snapshot row gets (the account or wallet for
/// provider holdings, so two accounts holding one symbol stay two rows).
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub holding: Holding,
    pub asset_name: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub sources: Vec<Source>,
    /// Tokens left out for having no price, as `chain wallet symbol`.
    pub unpriced_tokens: Vec<String>,
}

pub(crate) fn collect(
    conn: &mut DbConnection,
    settings: &Settings,
    date: NaiveDate,
) -> QueryResult<Collected> {
    let end = settings.day_end_utc(date);
    let mut out = Collected::default();
    positions(conn, end, &mut out)?;
    ibkr(conn, date, &mut out)?;
    okx(conn, end, &mut out)?;
    wise(conn, end, &mut out)?;
    web3(conn, end, &mut out)?;
    Ok(out)
}

/// Currency codes are compared exactly by the rate book; providers differ in case.
fn code(text: &str) -> String {
    text.trim().to_ascii_uppercase()
}

fn push(out: &mut Collected, holding: Holding, asset_name: Option<String>) {
    out.sources.push(Source {
        holding,
        asset_name,
    });
}

/// The newest row per key by `(stamp, id)`, in key order (so a run is repeatable).
fn latest<R, K: Ord>(
    rows: Vec<R>,
    key: impl Fn(&R) -> K,
    stamp: impl Fn(&R) -> (NaiveDateTime, i64),
) -> Vec<R> {
    let mut newest: BTreeMap<K, R> = BTreeMap::new();
    for row in rows {
        let k = key(&row);
        match newest.get(&k) {
            Some(kept) if stamp(kept) >= stamp(&row) => {}
            _ => {
                newest.insert(k, row);
            }
        }
    }
    newest.into_values().collect()
}

fn positions(conn: &mut DbConnection, end: NaiveDateTime, out: &mut Collected) -> QueryResult<()> {
    let rows: Vec<AssetPosition> = ap::asset_positions
        .filter(ap::created_at.lt(end))
        .select(AssetPosition::as_select())
        .load(conn)?;
    let key = |r: &AssetPosition| {
        let cur = code(&r.currency);
        (
            r.platform.clone(),
            r.asset_type.clone(),
            r.asset_code.clone(),
            cur,
        )
    };
    for r in latest(rows, key, |r| (r.created_at, r.id)) {
        let holding = Holding {
            platform: r.platform,
            asset_type: r.asset_type,
            asset_code: r.asset_code,
            currency: code(&r.currency),
            quantity: big(&r.quantity),
            price: r.current_price.as_ref().map(big),
            value: r.market_value.as_ref().map(big),
        };
        push(out, holding, r.asset_name);
    }
    Ok(())
}

/// The asset type a snapshot row gets for IBKR's `sec_type`.
fn sec_type(sec: &str) -> String {
    match sec.trim().to_ascii_uppercase().as_str() {
        "STK" => "stock".into(),
        "ETF" => "etf".into(),
        "OPT" => "option".into(),
        "FUT" => "future".into(),
        "BOND" => "bond".into(),
        "FUND" => "fund".into(),
        "CASH" => "cash".into(),
        other => other.to_ascii_lowercase(),
    }
}

fn ibkr(conn: &mut DbConnection, date: NaiveDate, out: &mut Collected) -> QueryResult<()> {
    let accounts: BTreeMap<i64, String> = ia::ibkr_accounts
        .select((ia::id, ia::account_id))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let position_days: Vec<(i64, Option<NaiveDate>)> = ip::ibkr_positions
        .filter(ip::snapshot_date.le(date))
        .group_by(ip::ibkr_account_id)
        .select((ip::ibkr_account_id, max(ip::snapshot_date)))
        .load(conn)?;
    for (account, day) in position_days {
        let Some(day) = day else { continue };
        let rows: Vec<IbkrPosition> = ip::ibkr_positions
            .filter(ip::ibkr_account_id.eq(account))
            .filter(ip::snapshot_date.eq(day))
            .select(IbkrPosition::as_select())
            .order(ip::id.asc())
            .load(conn)?;
        for r in rows {
            let holding = Holding {
                platform: IBKR.into(),
                asset_type: sec_type(&r.sec_type),
                asset_code: r.symbol,
                currency: code(&r.currency),
                quantity: big(&r.quantity),
                price: r.market_price.as_ref().map(big),
                value: r.market_value.as_ref().map(big),
            };
            push(out, holding, accounts.get(&account).cloned());
        }
    }
    let balance_days: Vec<(i64, Option<NaiveDate>)> = ib::ibkr_balances
        .filter(ib::snapshot_date.le(date))
        .group_by(ib::ibkr_account_id)
        .select((ib::ibkr_account_id, max(ib::snapshot_date)))
        .load(conn)?;
    for (account, day) in balance_days {
        let Some(day) = day else { continue };
        let rows: Vec<IbkrBalance> = ib::ibkr_balances
            .filter(ib::ibkr_account_id.eq(account))
            .filter(ib::snapshot_date.eq(day))
            .select(IbkrBalance::as_select())
            .order(ib::id.asc())
            .load(conn)?;
        // A `BASE`/`BASE_SUMMARY` row repeats the others converted: counting it would double.
        for r in rows
            .into_iter()
            .filter(|r| !code(&r.currency).starts_with("BASE"))
        {
            let cash = big(&r.cash_balance);
            let holding = Holding {
                platform: IBKR.into(),
                asset_type: "cash".into(),
                asset_code: code(&r.currency),
                currency: code(&r.currency),
                quantity: cash.clone(),
                price: Some(BigDecimal::one()),
                value: Some(cash),
            };
            push(out, holding, accounts.get(&account).cloned());
        }
    }
    Ok(())
}

fn okx(conn: &mut DbConnection, end: NaiveDateTime, out: &mut Collected) -> QueryResult<()> {
    let rows: Vec<OkxBalance> = ob::okx_balances
        .filter(ob::update_time.lt(end))
        .select(OkxBalance::as_select())
        .load(conn)?;
    for r in latest(rows, |r| code(&r.currency), |r| (r.update_time, r.id)) {
        let coin = code(&r.currency);
        let total = big(&r.total);
        let (currency, value) = match &r.usd_value {
            Some(usd) => ("USD".to_owned(), big(usd)),
            None => (coin.clone(), total.clone()),
        };
        let holding = Holding {
            platform: OKX.into(),
            asset_type: "crypto".into(),
            asset_code: coin,
            currency,
            quantity: total,
            price: None,
            value: Some(value),
        };
        push(out, holding, None);
    }
    Ok(())
}

fn wise(conn: &mut DbConnection, end: NaiveDateTime, out: &mut Collected) -> QueryResult<()> {
    let rows: Vec<WiseBalance> = wb::wise_balances
        .filter(wb::update_time.lt(end))
        .select(WiseBalance::as_select())
        .load(conn)?;
    let key = |r: &WiseBalance| (r.account_id.clone(), code(&r.currency));
    for r in latest(rows, key, |r| (r.update_time, r.id)) {
        let amount = big(&r.available) + big(&r.reserved);
        let holding = Holding {
            platform: WISE.into(),
            asset_type: "cash".into(),
            asset_code: code(&r.currency),
            currency: code(&r.currency),
            quantity: amount.clone(),
            price: Some(BigDecimal::one()),
            value: Some(amount),
        };
        push(out, holding, Some(r.account_id));
    }
    Ok(())
}

fn web3(conn: &mut DbConnection, end: NaiveDateTime, out: &mut Collected) -> QueryResult<()> {
    let rows: Vec<Web3Token> = wt::web3_tokens
        .filter(wt::update_time.lt(end))
        .select(Web3Token::as_select())
        .load(conn)?;
    let key = |r: &Web3Token| {
        let wallet = r.wallet_address.to_ascii_lowercase();
        let contract = r.contract_address.as_ref().map(|c| c.to_ascii_lowercase());
        (wallet, r.chain.clone(), r.token_symbol.clone(), contract)
    };
    for r in latest(rows, key, |r| (r.update_time, r.id)) {
        let place = format!("{} {}", r.chain, r.wallet_address);
        if r.value_usd.is_none() && r.price_usd.is_none() {
            out.unpriced_tokens
                .push(format!("{place} {}", r.token_symbol));
            continue;
        }
        let holding = Holding {
            platform: WEB3.into(),
            asset_type: "token".into(),
            asset_code: r.token_symbol,
            currency: "USD".into(),
            quantity: big(&r.balance),
            price: r.price_usd.as_ref().map(big),
            value: r.value_usd.as_ref().map(big),
        };
        push(out, holding, Some(place));
    }
    Ok(())
}
