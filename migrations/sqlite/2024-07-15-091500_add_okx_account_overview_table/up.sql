-- Alembic revision 033880ebf93b: add_okx_account_overview_table
CREATE TABLE okx_account_overview (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    total_equity_usd TEXT NOT NULL,
    available_balance_usd TEXT,
    unrealized_pnl_usd TEXT,
    account_level TEXT,
    snapshot_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_okx_account_overview_snapshot_time ON okx_account_overview (snapshot_time);
