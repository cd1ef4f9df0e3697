-- Alembic revision f9adc45cf4ec: add_exclude_dates_to_dca_plans
-- Dates a plan skips: a JSON array of ISO dates, e.g. '["2024-12-25","2025-01-01"]'.
ALTER TABLE dca_plans ADD COLUMN exclude_dates TEXT;
