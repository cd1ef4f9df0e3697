-- Alembic revision 04f8249fc418: add_fee_rate_to_dca_plans
-- Per-plan fee rate; NULL means system_config.default_dca_fee_rate.
ALTER TABLE dca_plans ADD COLUMN fee_rate TEXT;
