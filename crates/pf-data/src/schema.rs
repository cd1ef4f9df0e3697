// @generated automatically by Diesel CLI.

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    asset_positions (id) {
        id -> Int8,
        platform -> Text,
        asset_type -> Text,
        asset_code -> Text,
        asset_name -> Nullable<Text>,
        currency -> Text,
        quantity -> Numeric,
        avg_cost -> Nullable<Numeric>,
        current_price -> Nullable<Numeric>,
        market_value -> Nullable<Numeric>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    asset_snapshots (id) {
        id -> Int8,
        snapshot_date -> Date,
        snapshot_time -> Timestamp,
        platform -> Text,
        asset_type -> Text,
        asset_code -> Text,
        asset_name -> Nullable<Text>,
        currency -> Text,
        quantity -> Numeric,
        price -> Nullable<Numeric>,
        value -> Numeric,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        base_value -> Nullable<Numeric>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    dca_plans (id) {
        id -> Int8,
        plan_name -> Text,
        platform -> Text,
        asset_code -> Text,
        amount -> Numeric,
        currency -> Text,
        frequency -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        frequency_value -> Nullable<Int4>,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        last_executed_date -> Nullable<Date>,
        fee_rate -> Nullable<Numeric>,
        asset_type -> Text,
        exclude_dates -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    exchange_rate_snapshots (id) {
        id -> Int8,
        snapshot_date -> Date,
        snapshot_time -> Timestamp,
        from_currency -> Text,
        to_currency -> Text,
        rate -> Numeric,
        source -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    fund_dividends (id) {
        id -> Int8,
        fund_id -> Int8,
        ex_dividend_date -> Date,
        payment_date -> Nullable<Date>,
        dividend_per_share -> Numeric,
        currency -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    fund_info (id) {
        id -> Int8,
        fund_code -> Text,
        fund_name -> Text,
        fund_type -> Nullable<Text>,
        currency -> Text,
        nav -> Nullable<Numeric>,
        nav_date -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    ibkr_accounts (id) {
        id -> Int8,
        account_id -> Text,
        account_name -> Nullable<Text>,
        account_type -> Nullable<Text>,
        base_currency -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    ibkr_balances (id) {
        id -> Int8,
        ibkr_account_id -> Int8,
        currency -> Text,
        cash_balance -> Numeric,
        net_liquidation -> Nullable<Numeric>,
        buying_power -> Nullable<Numeric>,
        snapshot_date -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    ibkr_positions (id) {
        id -> Int8,
        ibkr_account_id -> Int8,
        symbol -> Text,
        sec_type -> Text,
        currency -> Text,
        quantity -> Numeric,
        avg_cost -> Nullable<Numeric>,
        market_price -> Nullable<Numeric>,
        market_value -> Nullable<Numeric>,
        unrealized_pnl -> Nullable<Numeric>,
        snapshot_date -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    ibkr_sync_logs (id) {
        id -> Int8,
        ibkr_account_id -> Nullable<Int8>,
        sync_type -> Text,
        status -> Text,
        records_synced -> Int4,
        error_message -> Nullable<Text>,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    import_runs (id) {
        id -> Int8,
        source -> Text,
        file_sha256 -> Nullable<Text>,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        status -> Text,
        added -> Int4,
        updated -> Int4,
        skipped -> Int4,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    okx_account_overview (id) {
        id -> Int8,
        total_equity_usd -> Numeric,
        available_balance_usd -> Nullable<Numeric>,
        unrealized_pnl_usd -> Nullable<Numeric>,
        account_level -> Nullable<Text>,
        snapshot_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    okx_balances (id) {
        id -> Int8,
        currency -> Text,
        available -> Numeric,
        frozen -> Numeric,
        total -> Numeric,
        usd_value -> Nullable<Numeric>,
        update_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sync_cursor -> Nullable<Text>,
        last_synced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    okx_market_data (id) {
        id -> Int8,
        inst_id -> Text,
        last_price -> Numeric,
        bid_price -> Nullable<Numeric>,
        ask_price -> Nullable<Numeric>,
        high_24h -> Nullable<Numeric>,
        low_24h -> Nullable<Numeric>,
        volume_24h -> Nullable<Numeric>,
        data_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    okx_positions (id) {
        id -> Int8,
        inst_id -> Text,
        pos_side -> Text,
        position -> Numeric,
        avg_price -> Nullable<Numeric>,
        mark_price -> Nullable<Numeric>,
        unrealized_pnl -> Nullable<Numeric>,
        currency -> Text,
        update_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    okx_transactions (id) {
        id -> Int8,
        bill_id -> Text,
        inst_id -> Nullable<Text>,
        tx_type -> Text,
        side -> Nullable<Text>,
        amount -> Numeric,
        currency -> Text,
        fee -> Nullable<Numeric>,
        balance -> Nullable<Numeric>,
        tx_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    system_config (id) {
        id -> Int8,
        config_key -> Text,
        config_value -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    user_operations (id) {
        id -> Int8,
        operation_date -> Date,
        platform -> Text,
        asset_code -> Text,
        operation_type -> Text,
        quantity -> Nullable<Numeric>,
        price -> Nullable<Numeric>,
        amount -> Numeric,
        currency -> Text,
        fee -> Nullable<Numeric>,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        dca_plan_id -> Nullable<Int8>,
        nav -> Nullable<Numeric>,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    web3_balances (id) {
        id -> Int8,
        wallet_address -> Text,
        chain -> Text,
        total_value_usd -> Numeric,
        update_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    web3_tokens (id) {
        id -> Int8,
        wallet_address -> Text,
        chain -> Text,
        token_symbol -> Text,
        token_name -> Nullable<Text>,
        contract_address -> Nullable<Text>,
        balance -> Numeric,
        price_usd -> Nullable<Numeric>,
        value_usd -> Nullable<Numeric>,
        update_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    web3_transactions (id) {
        id -> Int8,
        wallet_address -> Text,
        chain -> Text,
        tx_hash -> Text,
        from_address -> Nullable<Text>,
        to_address -> Nullable<Text>,
        token_symbol -> Nullable<Text>,
        amount -> Numeric,
        gas_fee -> Nullable<Numeric>,
        tx_time -> Timestamp,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    wise_balances (id) {
        id -> Int8,
        profile_id -> Text,
        account_id -> Text,
        currency -> Text,
        available -> Numeric,
        reserved -> Numeric,
        update_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sync_cursor -> Nullable<Text>,
        last_synced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::decimal::Numeric;

    wise_transactions (id) {
        id -> Int8,
        profile_id -> Text,
        account_id -> Text,
        transaction_id -> Text,
        transaction_type -> Text,
        transaction_date -> Timestamp,
        amount -> Numeric,
        currency -> Text,
        description -> Nullable<Text>,
        reference_number -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        primary_amount -> Nullable<Numeric>,
        primary_currency -> Nullable<Text>,
        secondary_amount -> Nullable<Numeric>,
        secondary_currency -> Nullable<Text>,
        status -> Text,
    }
}

diesel::joinable!(fund_dividends -> fund_info (fund_id));
diesel::joinable!(ibkr_balances -> ibkr_accounts (ibkr_account_id));
diesel::joinable!(ibkr_positions -> ibkr_accounts (ibkr_account_id));
diesel::joinable!(ibkr_sync_logs -> ibkr_accounts (ibkr_account_id));
diesel::joinable!(user_operations -> dca_plans (dca_plan_id));

diesel::allow_tables_to_appear_in_same_query!(
    asset_positions,
    asset_snapshots,
    dca_plans,
    exchange_rate_snapshots,
    fund_dividends,
    fund_info,
    ibkr_accounts,
    ibkr_balances,
    ibkr_positions,
    ibkr_sync_logs,
    import_runs,
    okx_account_overview,
    okx_balances,
    okx_market_data,
    okx_positions,
    okx_transactions,
    system_config,
    user_operations,
    web3_balances,
    web3_tokens,
    web3_transactions,
    wise_balances,
    wise_transactions,
);
