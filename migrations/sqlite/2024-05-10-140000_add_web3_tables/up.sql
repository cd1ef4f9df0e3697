-- Alembic revision 8a343c129269: add_web3_tables
CREATE TABLE web3_balances (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    wallet_address TEXT NOT NULL,
    chain TEXT NOT NULL,
    total_value_usd TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE web3_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    wallet_address TEXT NOT NULL,
    chain TEXT NOT NULL,
    token_symbol TEXT NOT NULL,
    token_name TEXT,
    contract_address TEXT,
    balance TEXT NOT NULL,
    price_usd TEXT,
    value_usd TEXT,
    update_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE web3_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    wallet_address TEXT NOT NULL,
    chain TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    from_address TEXT,
    to_address TEXT,
    token_symbol TEXT,
    amount TEXT NOT NULL,
    gas_fee TEXT,
    tx_time TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_web3_transactions_chain_tx_hash UNIQUE (chain, tx_hash)
);
CREATE INDEX ix_web3_transactions_tx_time ON web3_transactions (tx_time);
