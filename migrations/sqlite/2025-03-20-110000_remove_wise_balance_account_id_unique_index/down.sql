-- Reverts Alembic revision ffcccccc0002: remove_wise_balance_account_id_unique_index
-- Restore the unique index; this fails if an account_id now occurs more than once.
DROP INDEX ix_wise_balances_account_id;
CREATE UNIQUE INDEX ix_wise_balances_account_id ON wise_balances (account_id);
