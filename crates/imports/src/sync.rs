//! Provider syncs: each enabled provider fetched with `provider-sync` and written through the
//! importers, one transaction and one `import_runs` row per provider.

use bigdecimal::BigDecimal;
use serde::{Deserialize, Serialize};

use db_conn::DbConnection;
use pf_data::models::NewWiseBalance;
use provider_sync::evm::EvmClient;
use provider_sync::ibkr::IbkrClient;
use provider_sync::okx::OkxClient;
use provider_sync::wise::{StatementQuery, WiseClient};
use provider_sync::ProviderConfigs;
use statements::{EvmBalance, Source, WiseTransaction};

use crate::run::{finish, in_transaction, record_spec, RunKind, RunSpec, Written};
use crate::write::{now, Tally};
use crate::{ImportError, ImportReport};

/// How far back a Wise balance's first sync reads (Wise caps one statement at 469 days).
const WISE_FIRST_SYNC_DAYS: i64 = 90;

/// What one provider's sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderOutcome {
    /// `ibkr`, `wise`, `okx` or `evm`.
    pub provider: String,
    /// `ok`, `off` or `failed`.
    pub status: String,
    /// Why it is off or failed (never holds credentials).
    pub message: Option<String>,
    pub report: Option<ImportReport>,
}

/// Every provider, in [`Source::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub providers: Vec<ProviderOutcome>,
}

/// Syncs every provider whose credentials are configured; the others are reported `off`.
pub fn sync(conn: &mut DbConnection, configs: &ProviderConfigs) -> SyncReport {
    let providers = Source::ALL
        .into_iter()
        .map(|source| sync_one(conn, configs, source))
        .collect();
    SyncReport { providers }
}

/// Syncs one provider.
pub fn sync_only(conn: &mut DbConnection, configs: &ProviderConfigs, source: Source) -> SyncReport {
    SyncReport {
        providers: vec![sync_one(conn, configs, source)],
    }
}

fn sync_one(conn: &mut DbConnection, configs: &ProviderConfigs, source: Source) -> ProviderOutcome {
    let outcome = |status: &str, message: Option<String>, report| ProviderOutcome {
        provider: source.name().to_owned(),
        status: status.to_owned(),
        message,
        report,
    };
    let off = |var: &str| outcome("off", Some(format!("off: set {var}")), None);
    let result = match source {
        Source::Ibkr => match &configs.ibkr {
            None => return off("IBKR_FLEX_TOKEN"),
            Some(c) => ibkr(conn, c),
        },
        Source::Wise => match &configs.wise {
            None => return off("WISE_API_TOKEN"),
            Some(c) => wise(conn, c),
        },
        Source::Okx => match &configs.okx {
            None => return off("OKX_API_KEY"),
            Some(c) => okx(conn, c),
        },
        Source::Evm => match &configs.evm {
            None => return off("EVM_RPC_URL"),
            Some(c) => evm(conn, c),
        },
    };
    match result {
        Ok(report) => outcome("ok", None, Some(report)),
        Err(e) => outcome("failed", Some(e.one_line()), None),
    }
}

fn spec(source: Source) -> RunSpec {
    RunSpec {
        source,
        kind: RunKind::Sync,
    }
}

/// Fetches, then writes in one transaction; a failed fetch is recorded as a failed run.
fn fetch_and_write<T>(
    conn: &mut DbConnection,
    source: Source,
    fetch: impl FnOnce(&mut DbConnection) -> Result<T, ImportError>,
    write: impl FnOnce(&mut DbConnection, &mut Tally, T) -> Result<Written, ImportError>,
) -> Result<ImportReport, ImportError> {
    let started = now();
    let outcome =
        fetch(conn).and_then(|data| in_transaction(conn, |conn, tally| write(conn, tally, data)));
    finish(conn, &spec(source), None, started, outcome)
}

fn ibkr(
    conn: &mut DbConnection,
    config: &provider_sync::ibkr::IbkrConfig,
) -> Result<ImportReport, ImportError> {
    let fetched = IbkrClient::new(config.clone()).and_then(|c| c.fetch_statement());
    match fetched {
        Ok(bytes) => record_spec(conn, &spec(Source::Ibkr), &bytes[..]),
        Err(e) => {
            let failed = Err(ImportError::Provider(e));
            finish(conn, &spec(Source::Ibkr), None, now(), failed)
        }
    }
}

/// One balance's statement since its cursor, and the balance itself.
struct WiseFetched {
    profile_id: String,
    account_id: String,
    transactions: Vec<WiseTransaction>,
    balance: NewWiseBalance,
}

fn wise(
    conn: &mut DbConnection,
    config: &provider_sync::wise::WiseConfig,
) -> Result<ImportReport, ImportError> {
    let fetch = |conn: &mut DbConnection| {
        let client = WiseClient::new(config.clone())?;
        let end = chrono::Utc::now();
        let mut fetched = Vec::new();
        for profile in client.all_balances()? {
            for balance in profile.balances {
                let (profile_id, account_id) =
                    (profile.profile_id.to_string(), balance.id.to_string());
                let start = crate::wise::cursor(conn, &profile_id, &account_id)?
                    .map(|t| t.and_utc())
                    .unwrap_or(end - chrono::Duration::days(WISE_FIRST_SYNC_DAYS));
                let query = StatementQuery {
                    profile_id: profile.profile_id,
                    balance_id: balance.id,
                    currency: balance.currency.clone(),
                    interval_start: start,
                    interval_end: end,
                };
                let statement = client.statement(&query)?;
                let record = format!("wise:balance:{profile_id}:{account_id}");
                let money = |m: &provider_sync::wise::Money, field| {
                    crate::wise::from_big(&record, field, &m.value)
                };
                let row = NewWiseBalance {
                    profile_id: profile_id.clone(),
                    account_id: account_id.clone(),
                    currency: balance.currency.clone(),
                    available: money(&balance.amount, "amount")?,
                    reserved: match &balance.reserved_amount {
                        Some(m) => money(m, "reservedAmount")?,
                        None => pf_data::decimal::Decimal::zero(),
                    },
                    update_time: end.naive_utc(),
                    sync_cursor: Some(end.to_rfc3339()),
                    last_synced_at: Some(now()),
                };
                fetched.push(WiseFetched {
                    transactions: statement.transactions.iter().map(wise_row).collect(),
                    profile_id,
                    account_id,
                    balance: row,
                });
            }
        }
        Ok(fetched)
    };
    fetch_and_write(conn, Source::Wise, fetch, |conn, tally, fetched| {
        for balance in fetched {
            let ids = crate::wise::Ids {
                profile_id: balance.profile_id,
                account_id: balance.account_id,
            };
            for row in &balance.transactions {
                crate::wise::transaction(conn, tally, &ids, row)?;
            }
            crate::wise::balance(conn, tally, balance.balance)?;
        }
        Ok(Written::default())
    })
}

/// A statement API transaction as the CSV parser would have read it.
fn wise_row(t: &provider_sync::wise::WiseTransaction) -> WiseTransaction {
    let zero = || BigDecimal::from(0);
    WiseTransaction {
        transaction_id: t.reference_number.clone(),
        date: t.date.date_naive(),
        date_time: Some(t.date.naive_utc()),
        amount: t.amount.value.clone(),
        currency: t.amount.currency.clone(),
        description: t.details.description.clone().unwrap_or_default(),
        reference: None,
        running_balance: t
            .running_balance
            .as_ref()
            .map_or_else(zero, |m| m.value.clone()),
        exchange_from: None,
        exchange_to: None,
        exchange_rate: None,
        exchange_to_amount: None,
        payer_name: None,
        payee_name: None,
        payee_account_number: None,
        merchant: None,
        card_last_four_digits: None,
        card_holder_full_name: None,
        attachment: None,
        note: None,
        total_fees: t.total_fees.as_ref().map_or_else(zero, |m| m.value.clone()),
    }
}

fn okx(
    conn: &mut DbConnection,
    config: &provider_sync::okx::OkxConfig,
) -> Result<ImportReport, ImportError> {
    let fetch = |conn: &mut DbConnection| {
        let client = OkxClient::new(config.clone())?;
        let cursor = crate::okx::stored_cursor(conn)?;
        let bills = client.bills_since(cursor.as_deref())?;
        // The raw pages go through the file importer's parser: one reading of OKX's format.
        let mut rows = Vec::new();
        for page in &bills.pages {
            rows.extend(statements::parse_okx_bills_json(&page.raw)?);
        }
        let balance = statements::parse_okx_balance(&client.balance()?.raw)?;
        Ok((rows, balance, bills.cursor))
    };
    fetch_and_write(
        conn,
        Source::Okx,
        fetch,
        |conn, tally, (rows, balance, cursor)| {
            crate::okx::bills(conn, tally, &rows)?;
            let cursor = crate::okx::Cursor {
                newest_bill: cursor,
                synced_at: now(),
            };
            crate::okx::balance(conn, tally, &balance, Some(&cursor))?;
            Ok(Written::default())
        },
    )
}

/// The chain name of the configured node: `ethereum` for ETH, else the native symbol.
fn chain_name(config: &provider_sync::evm::EvmConfig) -> String {
    match config.native_symbol.as_str() {
        "ETH" => "ethereum".to_owned(),
        other => other.to_lowercase(),
    }
}

fn evm(
    conn: &mut DbConnection,
    config: &provider_sync::evm::EvmConfig,
) -> Result<ImportReport, ImportError> {
    let chain = chain_name(config);
    let fetch = |_: &mut DbConnection| {
        let wallets = EvmClient::new(config.clone())?.wallet_balances()?;
        let mut rows = Vec::new();
        for wallet in wallets {
            for b in std::iter::once(&wallet.native).chain(&wallet.tokens) {
                rows.push(EvmBalance {
                    chain: chain.clone(),
                    wallet: wallet.address.to_lowercase(),
                    symbol: b.symbol.clone(),
                    contract: b.contract.as_ref().map(|c| c.to_lowercase()),
                    decimals: b.decimals,
                    balance: b.amount.clone(),
                    block: Some(wallet.block_number),
                });
            }
        }
        Ok(rows)
    };
    fetch_and_write(conn, Source::Evm, fetch, |conn, tally, rows| {
        crate::evm::balances(conn, tally, &rows)?;
        Ok(Written::default())
    })
}
