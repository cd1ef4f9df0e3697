-- Reverts Alembic revision ffcccccc0004: add_base_value_to_asset_snapshot
ALTER TABLE asset_snapshots DROP COLUMN base_value;
