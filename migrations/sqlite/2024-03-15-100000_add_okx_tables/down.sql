-- Reverts Alembic revision c56f9f034ac1: add_okx_tables
DROP TABLE okx_market_data;
DROP TABLE okx_positions;
DROP TABLE okx_transactions;
DROP TABLE okx_balances;
