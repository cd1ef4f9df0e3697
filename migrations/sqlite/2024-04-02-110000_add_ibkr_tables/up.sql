-- Alembic revision a1b2c3d4e5f6: add_ibkr_tables
CREATE TABLE ibkr_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id TEXT NOT NULL,
    account_name TEXT,
    account_type TEXT,
    base_currency TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_ibkr_accounts_account_id UNIQUE (account_id)
);

CREATE TABLE ibkr_balances (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ibkr_account_id BIGINT NOT NULL REFERENCES ibkr_accounts (id),
    currency TEXT NOT NULL,
    cash_balance TEXT NOT NULL,
    net_liquidation TEXT,
    buying_power TEXT,
    snapshot_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_ibkr_balances_ibkr_account_id_snapshot_date ON ibkr_balances (ibkr_account_id, snapshot_date);

CREATE TABLE ibkr_positions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ibkr_account_id BIGINT NOT NULL REFERENCES ibkr_accounts (id),
    symbol TEXT NOT NULL,
    sec_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    quantity TEXT NOT NULL,
    avg_cost TEXT,
    market_price TEXT,
    market_value TEXT,
    unrealized_pnl TEXT,
    snapshot_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_ibkr_positions_ibkr_account_id_snapshot_date ON ibkr_positions (ibkr_account_id, snapshot_date);

CREATE TABLE ibkr_sync_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ibkr_account_id BIGINT REFERENCES ibkr_accounts (id),
    sync_type TEXT NOT NULL,
    status TEXT NOT NULL,
    records_synced INTEGER NOT NULL DEFAULT 0,
    error_message TEXT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_ibkr_sync_logs_ibkr_account_id_started_at ON ibkr_sync_logs (ibkr_account_id, started_at);
