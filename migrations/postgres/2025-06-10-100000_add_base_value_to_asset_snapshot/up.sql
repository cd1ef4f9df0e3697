-- Alembic revision ffcccccc0004: add_base_value_to_asset_snapshot
-- The holding's value converted to system_config.base_currency.
ALTER TABLE asset_snapshots ADD COLUMN base_value NUMERIC(38,18);
