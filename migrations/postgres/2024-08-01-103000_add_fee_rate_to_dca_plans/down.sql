-- Reverts Alembic revision 04f8249fc418: add_fee_rate_to_dca_plans
ALTER TABLE dca_plans DROP COLUMN fee_rate;
