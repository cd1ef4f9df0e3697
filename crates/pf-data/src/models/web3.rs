//! On-chain wallets: per-chain totals, token holdings and transactions.

use chrono::NaiveDateTime;

use crate::decimal::Decimal;
use crate::resource::resource;

resource! {
    Web3Balance, NewWeb3Balance => web3_balances,
    time: update_time: NaiveDateTime,
    fields {
        wallet_address: String,
        chain: String,
        total_value_usd: Decimal,
        update_time: NaiveDateTime,
    }
}

resource! {
    Web3Token, NewWeb3Token => web3_tokens,
    time: update_time: NaiveDateTime,
    fields {
        wallet_address: String,
        chain: String,
        token_symbol: String,
        token_name: Option<String>,
        contract_address: Option<String>,
        balance: Decimal,
        price_usd: Option<Decimal>,
        value_usd: Option<Decimal>,
        update_time: NaiveDateTime,
    }
}

resource! {
    Web3Transaction, NewWeb3Transaction => web3_transactions,
    time: tx_time: NaiveDateTime,
    fields {
        wallet_address: String,
        chain: String,
        tx_hash: String,
        from_address: Option<String>,
        to_address: Option<String>,
        token_symbol: Option<String>,
        amount: Decimal,
        gas_fee: Option<Decimal>,
        tx_time: NaiveDateTime,
        status: String,
    }
}
