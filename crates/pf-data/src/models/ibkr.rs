//! Interactive Brokers: accounts and what each sync found in them.

use chrono::{NaiveDate, NaiveDateTime};

use crate::decimal::Decimal;
use crate::resource::resource;

resource! {
    IbkrAccount, NewIbkrAccount => ibkr_accounts,
    time: created_at: NaiveDateTime,
    fields {
        account_id: String,
        account_name: Option<String>,
        account_type: Option<String>,
        base_currency: String,
        is_active: bool,
    }
}

resource! {
    IbkrBalance, NewIbkrBalance => ibkr_balances,
    time: snapshot_date: NaiveDate,
    fields {
        ibkr_account_id: i64,
        currency: String,
        cash_balance: Decimal,
        net_liquidation: Option<Decimal>,
        buying_power: Option<Decimal>,
        snapshot_date: NaiveDate,
    }
}

resource! {
    IbkrPosition, NewIbkrPosition => ibkr_positions,
    time: snapshot_date: NaiveDate,
    fields {
        ibkr_account_id: i64,
        symbol: String,
        sec_type: String,
        currency: String,
        quantity: Decimal,
        avg_cost: Option<Decimal>,
        market_price: Option<Decimal>,
        market_value: Option<Decimal>,
        unrealized_pnl: Option<Decimal>,
        snapshot_date: NaiveDate,
    }
}

resource! {
    IbkrSyncLog, NewIbkrSyncLog => ibkr_sync_logs,
    time: started_at: NaiveDateTime,
    fields {
        ibkr_account_id: Option<i64>,
        sync_type: String,
        status: String,
        records_synced: i32,
        error_message: Option<String>,
        started_at: NaiveDateTime,
        finished_at: Option<NaiveDateTime>,
    }
}
