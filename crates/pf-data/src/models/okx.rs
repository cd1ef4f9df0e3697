//! OKX exchange: balances, transactions, positions, market data and the account overview.

use chrono::NaiveDateTime;

use crate::decimal::Decimal;
use crate::resource::resource;

resource! {
    OkxBalance, NewOkxBalance => okx_balances,
    time: update_time: NaiveDateTime,
    fields {
        currency: String,
        available: Decimal,
        frozen: Decimal,
        total: Decimal,
        usd_value: Option<Decimal>,
        update_time: NaiveDateTime,
        sync_cursor: Option<String>,
        last_synced_at: Option<NaiveDateTime>,
    }
}

resource! {
    OkxTransaction, NewOkxTransaction => okx_transactions,
    time: tx_time: NaiveDateTime,
    fields {
        bill_id: String,
        inst_id: Option<String>,
        tx_type: String,
        side: Option<String>,
        amount: Decimal,
        currency: String,
        fee: Option<Decimal>,
        balance: Option<Decimal>,
        tx_time: NaiveDateTime,
    }
}

resource! {
    OkxPosition, NewOkxPosition => okx_positions,
    time: update_time: NaiveDateTime,
    fields {
        inst_id: String,
        pos_side: String,
        position: Decimal,
        avg_price: Option<Decimal>,
        mark_price: Option<Decimal>,
        unrealized_pnl: Option<Decimal>,
        currency: String,
        update_time: NaiveDateTime,
    }
}

resource! {
    OkxMarketData, NewOkxMarketData => okx_market_data,
    time: data_time: NaiveDateTime,
    fields {
        inst_id: String,
        last_price: Decimal,
        bid_price: Option<Decimal>,
        ask_price: Option<Decimal>,
        high_24h: Option<Decimal>,
        low_24h: Option<Decimal>,
        volume_24h: Option<Decimal>,
        data_time: NaiveDateTime,
    }
}

resource! {
    OkxAccountOverview, NewOkxAccountOverview => okx_account_overview,
    time: snapshot_time: NaiveDateTime,
    fields {
        total_equity_usd: Decimal,
        available_balance_usd: Option<Decimal>,
        unrealized_pnl_usd: Option<Decimal>,
        account_level: Option<String>,
        snapshot_time: NaiveDateTime,
    }
}
