-- Alembic revision ffcccccc0003: add_asset_and_exchange_rate_snapshot
CREATE TABLE asset_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    snapshot_date DATE NOT NULL,
    snapshot_time TIMESTAMP NOT NULL,
    platform TEXT NOT NULL,
    asset_type TEXT NOT NULL,
    asset_code TEXT NOT NULL,
    asset_name TEXT,
    currency TEXT NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_asset_snapshots_snapshot_date ON asset_snapshots (snapshot_date);

CREATE TABLE exchange_rate_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    snapshot_date DATE NOT NULL,
    snapshot_time TIMESTAMP NOT NULL,
    from_currency TEXT NOT NULL,
    to_currency TEXT NOT NULL,
    rate TEXT NOT NULL,
    source TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_exchange_rate_snapshots_date_pair UNIQUE (snapshot_date, from_currency, to_currency)
);
