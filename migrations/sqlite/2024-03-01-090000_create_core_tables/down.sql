-- Reverts Alembic revision base: create_core_tables (the initial schema)
-- Dropping system_config also removes the default rows inserted by up.sql.
DROP TABLE system_config;
DROP TABLE user_operations;
DROP TABLE dca_plans;
DROP TABLE asset_positions;
DROP TABLE fund_info;
