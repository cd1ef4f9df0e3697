-- Reverts Alembic revision 1c00ade64ab5: fix_wise_tables_structure
-- The columns become nullable again; values backfilled by up.sql stay (they cannot be told apart).
ALTER TABLE wise_balances
    ALTER COLUMN update_time DROP NOT NULL,
    ALTER COLUMN reserved DROP NOT NULL,
    ALTER COLUMN reserved DROP DEFAULT,
    ALTER COLUMN available DROP NOT NULL,
    ALTER COLUMN currency DROP NOT NULL,
    ALTER COLUMN account_id DROP NOT NULL,
    ALTER COLUMN profile_id DROP NOT NULL;
ALTER TABLE wise_balances RENAME COLUMN reserved TO reserved_amount;
ALTER TABLE wise_balances RENAME COLUMN available TO amount;

ALTER TABLE wise_transactions
    DROP COLUMN status,
    ALTER COLUMN currency DROP NOT NULL,
    ALTER COLUMN amount DROP NOT NULL,
    ALTER COLUMN transaction_date DROP NOT NULL,
    ALTER COLUMN transaction_type DROP NOT NULL,
    ALTER COLUMN transaction_id DROP NOT NULL,
    ALTER COLUMN account_id DROP NOT NULL,
    ALTER COLUMN profile_id DROP NOT NULL;
ALTER INDEX ix_wise_transactions_transaction_date RENAME TO ix_wise_transactions_date;
ALTER TABLE wise_transactions RENAME COLUMN transaction_date TO date;
ALTER TABLE wise_transactions RENAME COLUMN transaction_type TO type;
