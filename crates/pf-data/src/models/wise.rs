//! Wise: multi-currency transactions and balances.

use chrono::NaiveDateTime;

use crate::decimal::Decimal;
use crate::resource::resource;

resource! {
    WiseTransaction, NewWiseTransaction => wise_transactions,
    time: transaction_date: NaiveDateTime,
    fields {
        profile_id: String,
        account_id: String,
        transaction_id: String,
        transaction_type: String,
        transaction_date: NaiveDateTime,
        amount: Decimal,
        currency: String,
        description: Option<String>,
        reference_number: Option<String>,
        primary_amount: Option<Decimal>,
        primary_currency: Option<String>,
        secondary_amount: Option<Decimal>,
        secondary_currency: Option<String>,
        status: String,
    }
}

resource! {
    WiseBalance, NewWiseBalance => wise_balances,
    time: update_time: NaiveDateTime,
    fields {
        profile_id: String,
        account_id: String,
        currency: String,
        available: Decimal,
        reserved: Decimal,
        update_time: NaiveDateTime,
        sync_cursor: Option<String>,
        last_synced_at: Option<NaiveDateTime>,
    }
}
