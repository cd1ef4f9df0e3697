-- Reverts Alembic revision 8a343c129269: add_web3_tables
DROP TABLE web3_transactions;
DROP TABLE web3_tokens;
DROP TABLE web3_balances;
