-- Reverts Alembic revision a1b2c3d4e5f6: add_ibkr_tables
DROP TABLE ibkr_sync_logs;
DROP TABLE ibkr_positions;
DROP TABLE ibkr_balances;
DROP TABLE ibkr_accounts;
