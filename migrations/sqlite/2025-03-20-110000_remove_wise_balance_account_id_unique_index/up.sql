-- Alembic revision ffcccccc0002: remove_wise_balance_account_id_unique_index
-- One Wise account holds a balance per currency: account_id alone is not unique. Keep a plain
-- index of the same name for lookups.
DROP INDEX ix_wise_balances_account_id;
CREATE INDEX ix_wise_balances_account_id ON wise_balances (account_id);
