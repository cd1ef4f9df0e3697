-- Reverts Alembic revision ffcccccc0003: add_asset_and_exchange_rate_snapshot
DROP TABLE exchange_rate_snapshots;
DROP TABLE asset_snapshots;
