-- Alembic revision c6ea9ed77ea8: add_dca_plan_fields_and_user_operation
-- DCA scheduling fields.
ALTER TABLE dca_plans ADD COLUMN frequency_value INTEGER;
ALTER TABLE dca_plans ADD COLUMN start_date DATE;
ALTER TABLE dca_plans ADD COLUMN end_date DATE;
ALTER TABLE dca_plans ADD COLUMN last_executed_date DATE;

-- The DCA plan that generated an operation (NULL for manual operations).
ALTER TABLE user_operations ADD COLUMN dca_plan_id BIGINT REFERENCES dca_plans (id);
CREATE INDEX ix_user_operations_dca_plan_id ON user_operations (dca_plan_id);
