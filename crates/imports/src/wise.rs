//! Wise: statement rows into `wise_transactions` (key `transaction_id`); the sync's balances
//! into `wise_balances` (key profile, account, currency) with the incremental cursor.

use diesel::prelude::*;

use db_conn::DbConnection;
use pf_data::models::{NewWiseBalance, NewWiseTransaction, WiseBalance, WiseTransaction};
use pf_data::resource::Resource;
use pf_data::schema;
use statements::WiseTransaction as Row;

use crate::run::Written;
use crate::write::{dec, opt_dec, upsert, Outcome, Tally};
use crate::ImportError;

pub(crate) fn write_csv(
    conn: &mut DbConnection,
    tally: &mut Tally,
    bytes: &[u8],
) -> Result<Written, ImportError> {
    let rows = statements::parse_wise(bytes)?;
    let ids = Ids::default();
    for row in &rows {
        transaction(conn, tally, &ids, row)?;
    }
    Ok(Written::default())
}

/// Profile and balance ids: known when syncing, absent from a CSV export (empty then, and an
/// import keeps the ids a sync stored before).
#[derive(Debug, Default, Clone)]
pub(crate) struct Ids {
    pub(crate) profile_id: String,
    pub(crate) account_id: String,
}

/// Upserts one statement row. A conversion appears under one ID in the statements of both
/// balances; the row stored first keeps both sides (`primary_*`, `secondary_*`), and the other
/// balance's copy is skipped.
pub(crate) fn transaction(
    conn: &mut DbConnection,
    tally: &mut Tally,
    ids: &Ids,
    row: &Row,
) -> Result<(), ImportError> {
    let key = row.natural_key();
    use schema::wise_transactions::dsl as t;
    let existing: Option<WiseTransaction> = t::wise_transactions
        .filter(t::transaction_id.eq(&row.transaction_id))
        .select(WiseTransaction::as_select())
        .first(conn)
        .optional()?;
    if existing
        .as_ref()
        .is_some_and(|e| e.currency != row.currency)
    {
        tally.count(WiseTransaction::TABLE, Outcome::Skipped);
        return Ok(());
    }
    let conversion = row.exchange_from.is_some() && row.exchange_to.is_some();
    let keep = |new: &str, old: Option<&String>| match (new.is_empty(), old) {
        (true, Some(old)) => old.clone(),
        _ => new.to_owned(),
    };
    let amount = dec(&key, "Amount", &row.amount)?;
    let input = NewWiseTransaction {
        profile_id: keep(&ids.profile_id, existing.as_ref().map(|e| &e.profile_id)),
        account_id: keep(&ids.account_id, existing.as_ref().map(|e| &e.account_id)),
        transaction_id: row.transaction_id.clone(),
        transaction_type: kind(&row.transaction_id),
        transaction_date: row
            .date_time
            .unwrap_or_else(|| row.date.and_time(chrono::NaiveTime::MIN)),
        amount: amount.clone(),
        currency: row.currency.clone(),
        description: Some(row.description.clone()).filter(|d| !d.is_empty()),
        reference_number: row.reference.clone(),
        primary_amount: conversion.then(|| amount.clone()),
        primary_currency: conversion.then(|| row.currency.clone()),
        secondary_amount: if conversion {
            opt_dec(&key, "Exchange To Amount", row.exchange_to_amount.as_ref())?
        } else {
            None
        },
        secondary_currency: row.exchange_to.clone().filter(|_| conversion),
        status: "completed".to_owned(),
    };
    upsert(conn, tally, &key, existing, &input, &[]).map(drop)
}

/// `TRANSFER`, `CARD`, `BALANCE` (conversions), ...: the prefix of Wise's transaction ID.
fn kind(transaction_id: &str) -> String {
    transaction_id
        .split_once('-')
        .map_or(transaction_id, |(prefix, _)| prefix)
        .to_owned()
}

/// Upserts one balance as the sync read it, storing where the next sync starts.
pub(crate) fn balance(
    conn: &mut DbConnection,
    tally: &mut Tally,
    input: NewWiseBalance,
) -> Result<(), ImportError> {
    let key = format!(
        "wise:balance:{}:{}:{}",
        input.profile_id, input.account_id, input.currency
    );
    use schema::wise_balances::dsl as t;
    let existing: Option<WiseBalance> = t::wise_balances
        .filter(t::profile_id.eq(&input.profile_id))
        .filter(t::account_id.eq(&input.account_id))
        .filter(t::currency.eq(&input.currency))
        .select(WiseBalance::as_select())
        .first(conn)
        .optional()?;
    // The cursor moves on every sync; only a changed amount counts as an update.
    let ignore = ["update_time", "sync_cursor", "last_synced_at"];
    let Some(row) = existing else {
        return upsert::<WiseBalance>(conn, tally, &key, None, &input, &ignore).map(drop);
    };
    if crate::write::differs(&row, &input, &ignore) {
        upsert(conn, tally, &key, Some(row), &input, &ignore).map(drop)
    } else {
        diesel::update(t::wise_balances.find(row.id))
            .set((
                t::sync_cursor.eq(&input.sync_cursor),
                t::last_synced_at.eq(input.last_synced_at),
            ))
            .execute(conn)?;
        tally.count(WiseBalance::TABLE, Outcome::Skipped);
        Ok(())
    }
}

/// The cursor the last sync stored for this balance.
pub(crate) fn cursor(
    conn: &mut DbConnection,
    profile_id: &str,
    account_id: &str,
) -> Result<Option<chrono::NaiveDateTime>, ImportError> {
    use schema::wise_balances::dsl as t;
    let stored: Option<Option<String>> = t::wise_balances
        .filter(t::profile_id.eq(profile_id))
        .filter(t::account_id.eq(account_id))
        .select(t::sync_cursor)
        .first(conn)
        .optional()?;
    Ok(stored
        .flatten()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(&c).ok())
        .map(|t| t.naive_utc()))
}

pub(crate) fn from_big(
    record: &str,
    field: &'static str,
    v: &bigdecimal::BigDecimal,
) -> Result<pf_data::decimal::Decimal, ImportError> {
    dec(record, field, v)
}
