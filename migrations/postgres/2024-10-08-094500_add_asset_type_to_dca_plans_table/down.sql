-- Reverts Alembic revision a75b8ab8d7ec: add_asset_type_to_dca_plans_table
ALTER TABLE dca_plans DROP COLUMN asset_type;
