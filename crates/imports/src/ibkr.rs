//! IBKR Flex statements: accounts, positions and cash upserted one by one, trades in batches
//! of [`BATCH`] (one lookup and one multi-row insert per batch) as the reader streams them.

use std::collections::HashMap;
use std::io::BufRead;

use diesel::prelude::*;

use db_conn::DbConnection;
use pf_data::models::{
    IbkrAccount, IbkrBalance, IbkrPosition, NewIbkrAccount, NewIbkrBalance, NewIbkrPosition,
    NewUserOperation, UserOperation,
};
use pf_data::resource::Resource;
use pf_data::schema;
use statements::{IbkrCash, IbkrPosition as Position, IbkrReader, IbkrRecord, IbkrTrade};

use crate::run::Written;
use crate::write::{dec, differs, now, opt_dec, upsert, Outcome, Tally};
use crate::ImportError;

/// `user_operations.platform` of imported IBKR trades.
pub const PLATFORM: &str = "IBKR";
/// Trades per lookup-and-insert round trip.
const BATCH: usize = 1000;
/// IBKR's default base currency; Flex rows do not state the account's, so a new account gets
/// this one (an import never overwrites what the user set later).
const DEFAULT_BASE_CURRENCY: &str = "USD";

pub(crate) fn write<R: BufRead>(
    conn: &mut DbConnection,
    tally: &mut Tally,
    input: R,
) -> Result<Written, ImportError> {
    let mut state = State::default();
    for record in IbkrReader::new(input) {
        match record? {
            IbkrRecord::Statement(header) => {
                state.account(conn, tally, &header.account_id)?;
            }
            IbkrRecord::Position(row) => {
                let account = state.account(conn, tally, &row.account_id)?;
                position(conn, tally, account, &row)?;
            }
            IbkrRecord::Cash(row) => {
                let account = state.account(conn, tally, &row.account_id)?;
                cash(conn, tally, account, &row)?;
            }
            IbkrRecord::Trade(row) => {
                state.account(conn, tally, &row.account_id)?;
                state.trades.push(trade(&row)?);
                if state.trades.len() >= BATCH {
                    flush_trades(conn, tally, &mut state.trades)?;
                }
            }
        }
    }
    flush_trades(conn, tally, &mut state.trades)?;
    Ok(Written {
        ibkr_account: state.first_account,
    })
}

#[derive(Default)]
struct State {
    accounts: HashMap<String, i64>,
    first_account: Option<i64>,
    trades: Vec<(String, NewUserOperation)>,
}

impl State {
    /// The `ibkr_accounts` id of `account_id`, created on first sight (counted once per run).
    fn account(
        &mut self,
        conn: &mut DbConnection,
        tally: &mut Tally,
        account_id: &str,
    ) -> Result<i64, ImportError> {
        if let Some(id) = self.accounts.get(account_id) {
            return Ok(*id);
        }
        use schema::ibkr_accounts::dsl as t;
        let existing: Option<IbkrAccount> = t::ibkr_accounts
            .filter(t::account_id.eq(account_id))
            .select(IbkrAccount::as_select())
            .first(conn)
            .optional()?;
        let id = match existing {
            Some(row) => {
                tally.count(IbkrAccount::TABLE, Outcome::Skipped);
                row.id
            }
            None => {
                let input = NewIbkrAccount {
                    account_id: account_id.to_owned(),
                    account_name: None,
                    account_type: None,
                    base_currency: DEFAULT_BASE_CURRENCY.to_owned(),
                    is_active: true,
                };
                tally.count(IbkrAccount::TABLE, Outcome::Added);
                IbkrAccount::create(conn, &input)?.id
            }
        };
        self.accounts.insert(account_id.to_owned(), id);
        self.first_account.get_or_insert(id);
        Ok(id)
    }
}

fn position(
    conn: &mut DbConnection,
    tally: &mut Tally,
    account: i64,
    row: &Position,
) -> Result<(), ImportError> {
    let key = row.natural_key();
    let input = NewIbkrPosition {
        ibkr_account_id: account,
        symbol: row.symbol.clone(),
        sec_type: row.asset_category.clone(),
        currency: row.currency.clone(),
        quantity: dec(&key, "position", &row.position)?,
        avg_cost: opt_dec(&key, "costBasisPrice", row.cost_basis_price.as_ref())?,
        market_price: Some(dec(&key, "markPrice", &row.mark_price)?),
        market_value: Some(dec(&key, "positionValue", &row.position_value)?),
        unrealized_pnl: None,
        snapshot_date: row.report_date,
    };
    use schema::ibkr_positions::dsl as t;
    let existing: Option<IbkrPosition> = t::ibkr_positions
        .filter(t::ibkr_account_id.eq(account))
        .filter(t::symbol.eq(&input.symbol))
        .filter(t::sec_type.eq(&input.sec_type))
        .filter(t::currency.eq(&input.currency))
        .filter(t::snapshot_date.eq(input.snapshot_date))
        .select(IbkrPosition::as_select())
        .first(conn)
        .optional()?;
    upsert(conn, tally, &key, existing, &input, &[]).map(drop)
}

fn cash(
    conn: &mut DbConnection,
    tally: &mut Tally,
    account: i64,
    row: &IbkrCash,
) -> Result<(), ImportError> {
    let key = row.natural_key();
    let input = NewIbkrBalance {
        ibkr_account_id: account,
        currency: row.currency.clone(),
        cash_balance: dec(&key, "endingCash", &row.ending_cash)?,
        net_liquidation: None,
        buying_power: None,
        snapshot_date: row.to_date,
    };
    use schema::ibkr_balances::dsl as t;
    let existing: Option<IbkrBalance> = t::ibkr_balances
        .filter(t::ibkr_account_id.eq(account))
        .filter(t::currency.eq(&input.currency))
        .filter(t::snapshot_date.eq(input.snapshot_date))
        .select(IbkrBalance::as_select())
        .first(conn)
        .optional()?;
    upsert(conn, tally, &key, existing, &input, &[]).map(drop)
}

/// A trade as an operation: the direction from the quantity's sign (a cancellation row has the
/// opposite sign of what it cancels, so the operations net out), amounts unsigned, the fee as
/// paid (IBKR reports commissions negative).
fn trade(row: &IbkrTrade) -> Result<(String, NewUserOperation), ImportError> {
    let key = row.natural_key();
    let negative = row.quantity.sign() == bigdecimal::num_bigint::Sign::Minus;
    let mut notes = format!(
        "{} {}",
        row.buy_sell,
        row.description.as_deref().unwrap_or("")
    );
    if let Some(fee_ccy) = &row.ib_commission_currency {
        if *fee_ccy != row.currency {
            notes.push_str(&format!(" (commission in {fee_ccy})"));
        }
    }
    let input = NewUserOperation {
        operation_date: row.trade_date,
        platform: PLATFORM.to_owned(),
        asset_code: row.symbol.clone(),
        operation_type: if negative { "sell" } else { "buy" }.to_owned(),
        quantity: Some(dec(&key, "quantity", &row.quantity.abs())?),
        price: Some(dec(&key, "tradePrice", &row.trade_price)?),
        amount: dec(&key, "proceeds", &row.proceeds.abs())?,
        currency: row.currency.clone(),
        fee: Some(dec(&key, "ibCommission", &(-&row.ib_commission))?),
        notes: Some(notes.trim().to_owned()),
        dca_plan_id: None,
        nav: None,
        external_id: Some(key.clone()),
    };
    UserOperation::validate(&input).map_err(|message| ImportError::Invalid {
        record: key.clone(),
        message,
    })?;
    Ok((key, input))
}

/// The columns of an inserted operation, as one multi-row INSERT takes them (no DEFAULT
/// keyword, which SQLite's VALUES lacks).
#[derive(Insertable)]
#[diesel(table_name = schema::user_operations, treat_none_as_default_value = false)]
struct OperationRow<'a> {
    operation_date: chrono::NaiveDate,
    platform: &'a str,
    asset_code: &'a str,
    operation_type: &'a str,
    quantity: Option<&'a pf_data::decimal::Decimal>,
    price: Option<&'a pf_data::decimal::Decimal>,
    amount: &'a pf_data::decimal::Decimal,
    currency: &'a str,
    fee: Option<&'a pf_data::decimal::Decimal>,
    notes: Option<&'a str>,
    external_id: Option<&'a str>,
}

fn flush_trades(
    conn: &mut DbConnection,
    tally: &mut Tally,
    batch: &mut Vec<(String, NewUserOperation)>,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    // A key repeated inside the batch: the later row wins, as a later import would.
    let mut latest: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
    for (i, (key, _)) in batch.iter().enumerate() {
        latest.insert(key, i);
    }
    let keys: Vec<&str> = latest.keys().copied().collect();
    use schema::user_operations::dsl as t;
    let existing: HashMap<String, UserOperation> = t::user_operations
        .filter(t::platform.eq(PLATFORM))
        .filter(t::external_id.eq_any(&keys))
        .select(UserOperation::as_select())
        .load(conn)?
        .into_iter()
        .filter_map(|row| Some((row.external_id.clone()?, row)))
        .collect();
    let mut inserts = Vec::new();
    let stamp = now();
    for (i, (key, input)) in batch.iter().enumerate() {
        if latest[key.as_str()] != i {
            tally.count(UserOperation::TABLE, Outcome::Skipped);
            continue;
        }
        match existing.get(key) {
            None => inserts.push(OperationRow {
                operation_date: input.operation_date,
                platform: &input.platform,
                asset_code: &input.asset_code,
                operation_type: &input.operation_type,
                quantity: input.quantity.as_ref(),
                price: input.price.as_ref(),
                amount: &input.amount,
                currency: &input.currency,
                fee: input.fee.as_ref(),
                notes: input.notes.as_deref(),
                external_id: input.external_id.as_deref(),
            }),
            Some(row) if differs(row, input, &["dca_plan_id", "nav"]) => {
                let changes = NewUserOperation {
                    dca_plan_id: row.dca_plan_id,
                    nav: row.nav.clone(),
                    ..input.clone()
                };
                diesel::update(t::user_operations.find(row.id))
                    .set((&changes, t::updated_at.eq(stamp)))
                    .execute(conn)?;
                tally.count(UserOperation::TABLE, Outcome::Updated);
            }
            Some(_) => tally.count(UserOperation::TABLE, Outcome::Skipped),
        }
    }
    let added = inserts.len();
    if added > 0 {
        match conn {
            DbConnection::Pg(c) => diesel::insert_into(t::user_operations)
                .values(&inserts)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(t::user_operations)
                .values(&inserts)
                .execute(c)?,
        };
    }
    (0..added).for_each(|_| tally.count(UserOperation::TABLE, Outcome::Added));
    batch.clear();
    Ok(())
}
