//! OKX: bills into `okx_transactions` (key `bill_id`), balances into `okx_balances` (one
//! current row per currency), and the bills cursor the sync keeps on those rows.

use diesel::prelude::*;

use db_conn::DbConnection;
use pf_data::decimal::Decimal;
use pf_data::models::{NewOkxBalance, NewOkxTransaction, OkxBalance, OkxTransaction};
use pf_data::schema;
use statements::{OkxAccountBalance, OkxBill};

use crate::run::Written;
use crate::write::{dec, now, opt_dec, upsert, Tally};
use crate::ImportError;

/// A `{` first is an API answer: a balance when it holds `details`, else bills; anything else
/// is the bills CSV export.
pub(crate) fn write_file(
    conn: &mut DbConnection,
    tally: &mut Tally,
    bytes: &[u8],
) -> Result<Written, ImportError> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 16)]);
    let head = text.trim_start_matches('\u{feff}').trim_start();
    if !head.starts_with('{') {
        bills(conn, tally, &statements::parse_okx_bills_csv(bytes)?)?;
    } else if head.contains("\"details\"") {
        balance(conn, tally, &statements::parse_okx_balance(bytes)?, None)?;
    } else {
        bills(conn, tally, &statements::parse_okx_bills_json(bytes)?)?;
    }
    Ok(Written::default())
}

pub(crate) fn bills(
    conn: &mut DbConnection,
    tally: &mut Tally,
    rows: &[OkxBill],
) -> Result<(), ImportError> {
    use schema::okx_transactions::dsl as t;
    for row in rows {
        let key = row.natural_key();
        let amount = match (&row.bal_chg, &row.sz) {
            (Some(change), _) => dec(&key, "balChg", change)?,
            (None, Some(size)) => dec(&key, "Amount", size)?,
            (None, None) => Decimal::zero(),
        };
        let input = NewOkxTransaction {
            bill_id: row.bill_id.clone(),
            inst_id: row.inst_id.clone(),
            tx_type: row.bill_type.clone(),
            side: row.sub_type.clone(),
            amount,
            currency: row.ccy.clone(),
            fee: opt_dec(&key, "fee", row.fee.as_ref())?,
            balance: Some(dec(&key, "bal", &row.bal)?),
            tx_time: row.ts,
        };
        let existing: Option<OkxTransaction> = t::okx_transactions
            .filter(t::bill_id.eq(&row.bill_id))
            .select(OkxTransaction::as_select())
            .first(conn)
            .optional()?;
        upsert(conn, tally, &key, existing, &input, &[])?;
    }
    Ok(())
}

/// Where the bills sync stopped, kept on the balance rows (one account, one cursor).
pub(crate) struct Cursor {
    pub(crate) newest_bill: Option<String>,
    pub(crate) synced_at: chrono::NaiveDateTime,
}

pub(crate) fn balance(
    conn: &mut DbConnection,
    tally: &mut Tally,
    account: &OkxAccountBalance,
    cursor: Option<&Cursor>,
) -> Result<(), ImportError> {
    use schema::okx_balances::dsl as t;
    let fetched = now();
    for row in &account.balances {
        let key = row.natural_key();
        let existing: Option<OkxBalance> = t::okx_balances
            .filter(t::currency.eq(&row.ccy))
            .select(OkxBalance::as_select())
            .first(conn)
            .optional()?;
        let input = NewOkxBalance {
            currency: row.ccy.clone(),
            available: dec(
                &key,
                "availBal",
                row.avail_bal.as_ref().unwrap_or(&row.cash_bal),
            )?,
            frozen: opt_dec(&key, "frozenBal", row.frozen_bal.as_ref())?
                .unwrap_or_else(Decimal::zero),
            total: dec(&key, "eq", &row.eq)?,
            usd_value: opt_dec(&key, "eqUsd", row.eq_usd.as_ref())?,
            update_time: row.updated.or(account.updated).unwrap_or(fetched),
            // A file import leaves the sync's cursor where it was.
            sync_cursor: match cursor {
                Some(c) => c.newest_bill.clone(),
                None => existing.as_ref().and_then(|e| e.sync_cursor.clone()),
            },
            last_synced_at: match cursor {
                Some(c) => Some(c.synced_at),
                None => existing.as_ref().and_then(|e| e.last_synced_at),
            },
        };
        let ignore: &[&str] = if row.updated.or(account.updated).is_some() {
            &["sync_cursor", "last_synced_at"]
        } else {
            &["update_time", "sync_cursor", "last_synced_at"]
        };
        let id = upsert(conn, tally, &key, existing, &input, ignore)?;
        if cursor.is_some() {
            diesel::update(t::okx_balances.find(id))
                .set((
                    t::sync_cursor.eq(&input.sync_cursor),
                    t::last_synced_at.eq(input.last_synced_at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The newest bill a previous sync stored.
pub(crate) fn stored_cursor(conn: &mut DbConnection) -> Result<Option<String>, ImportError> {
    use schema::okx_balances::dsl as t;
    let cursor: Option<Option<String>> = t::okx_balances
        .filter(t::sync_cursor.is_not_null())
        .order(t::last_synced_at.desc())
        .select(t::sync_cursor)
        .first(conn)
        .optional()?;
    Ok(cursor.flatten())
}
