-- Alembic revision a75b8ab8d7ec: add_asset_type_to_dca_plans_table
-- What a plan buys: 'fund' for every plan that existed before this migration.
ALTER TABLE dca_plans ADD COLUMN asset_type TEXT NOT NULL DEFAULT 'fund';
