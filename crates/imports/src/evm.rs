//! EVM wallets: one `web3_tokens` row per chain, wallet and asset (the native coin has no
//! contract), holding the latest balance read.
//!
//! `web3_balances` (a wallet's total in USD) is not written: neither the file nor the RPC node
//! gives prices, and a total of 0 USD would be false.

use diesel::prelude::*;

use db_conn::DbConnection;
use pf_data::models::{NewWeb3Token, Web3Token};
use pf_data::schema;
use statements::EvmBalance;

use crate::run::Written;
use crate::write::{dec, now, upsert, Tally};
use crate::ImportError;

pub(crate) fn write_file(
    conn: &mut DbConnection,
    tally: &mut Tally,
    bytes: &[u8],
) -> Result<Written, ImportError> {
    balances(conn, tally, &statements::parse_evm_balances(bytes)?)?;
    Ok(Written::default())
}

pub(crate) fn balances(
    conn: &mut DbConnection,
    tally: &mut Tally,
    rows: &[EvmBalance],
) -> Result<(), ImportError> {
    use schema::web3_tokens::dsl as t;
    let read_at = now();
    for row in rows {
        let key = row.natural_key();
        let chain = row.chain.to_lowercase();
        let mut query = t::web3_tokens
            .filter(t::chain.eq(&chain))
            .filter(t::wallet_address.eq(&row.wallet))
            .select(Web3Token::as_select())
            .into_boxed();
        query = match &row.contract {
            Some(contract) => query.filter(t::contract_address.eq(contract)),
            None => query
                .filter(t::contract_address.is_null())
                .filter(t::token_symbol.eq(&row.symbol)),
        };
        let existing: Option<Web3Token> = query.first(conn).optional()?;
        let input = NewWeb3Token {
            wallet_address: row.wallet.clone(),
            chain,
            token_symbol: row.symbol.clone(),
            token_name: existing.as_ref().and_then(|e| e.token_name.clone()),
            contract_address: row.contract.clone(),
            balance: dec(&key, "balance", &row.balance)?,
            price_usd: existing.as_ref().and_then(|e| e.price_usd.clone()),
            value_usd: existing.as_ref().and_then(|e| e.value_usd.clone()),
            update_time: read_at,
        };
        // The read time moves on every run; only a changed balance is news.
        upsert(conn, tally, &key, existing, &input, &["update_time"])?;
    }
    Ok(())
}
