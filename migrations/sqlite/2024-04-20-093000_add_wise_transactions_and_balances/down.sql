-- Reverts Alembic revision 9b2fcf59ac80: add_wise_transactions_and_balances
DROP TABLE wise_balances;
DROP TABLE wise_transactions;
