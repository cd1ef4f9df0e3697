-- Reverts Alembic revision c6ea9ed77ea8: add_dca_plan_fields_and_user_operation
DROP INDEX ix_user_operations_dca_plan_id;
ALTER TABLE user_operations DROP COLUMN dca_plan_id;

ALTER TABLE dca_plans DROP COLUMN last_executed_date;
ALTER TABLE dca_plans DROP COLUMN end_date;
ALTER TABLE dca_plans DROP COLUMN start_date;
ALTER TABLE dca_plans DROP COLUMN frequency_value;
