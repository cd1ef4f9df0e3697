-- Alembic revision c56f9f034ac1: add_okx_tables
CREATE TABLE okx_balances (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    currency TEXT NOT NULL,
    available TEXT NOT NULL,
    frozen TEXT NOT NULL,
    total TEXT NOT NULL,
    usd_value TEXT,
    update_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE okx_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    bill_id TEXT NOT NULL,
    inst_id TEXT,
    tx_type TEXT NOT NULL,
    side TEXT,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    fee TEXT,
    balance TEXT,
    tx_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_okx_transactions_bill_id UNIQUE (bill_id)
);
CREATE INDEX ix_okx_transactions_tx_time ON okx_transactions (tx_time);

CREATE TABLE okx_positions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    inst_id TEXT NOT NULL,
    pos_side TEXT NOT NULL,
    position TEXT NOT NULL,
    avg_price TEXT,
    mark_price TEXT,
    unrealized_pnl TEXT,
    currency TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The five price columns start out as REAL (binary floating point: the original precision bug);
-- #11 rebuilds the table with TEXT (exact decimal text). The table name is written quoted,
-- exactly as SQLite's ALTER TABLE ... RENAME TO writes it, so that #11's rebuild and its
-- down.sql leave byte-identical sqlite_schema text behind.
CREATE TABLE "okx_market_data" (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    inst_id TEXT NOT NULL,
    last_price REAL NOT NULL,
    bid_price REAL,
    ask_price REAL,
    high_24h REAL,
    low_24h REAL,
    volume_24h TEXT,
    data_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_okx_market_data_inst_id_data_time ON okx_market_data (inst_id, data_time);
