-- Reverts Alembic revision f9adc45cf4ec: add_exclude_dates_to_dca_plans
ALTER TABLE dca_plans DROP COLUMN exclude_dates;
