-- Alembic revision 1c00ade64ab5: fix_wise_tables_structure
-- wise_transactions: clearer column names, required columns NOT NULL, and a status.
ALTER TABLE wise_transactions RENAME COLUMN type TO transaction_type;
ALTER TABLE wise_transactions RENAME COLUMN date TO transaction_date;
ALTER INDEX ix_wise_transactions_date RENAME TO ix_wise_transactions_transaction_date;

-- Backfill the NULLs the old schema allowed. transaction_id is unique, so it gets a per-row value.
UPDATE wise_transactions SET
    profile_id = COALESCE(profile_id, 'unknown'),
    account_id = COALESCE(account_id, 'unknown'),
    transaction_id = COALESCE(transaction_id, 'unknown-' || id),
    transaction_type = COALESCE(transaction_type, 'unknown'),
    transaction_date = COALESCE(transaction_date, created_at),
    amount = COALESCE(amount, 0),
    currency = COALESCE(currency, 'unknown')
WHERE profile_id IS NULL OR account_id IS NULL OR transaction_id IS NULL OR transaction_type IS NULL
   OR transaction_date IS NULL OR amount IS NULL OR currency IS NULL;

ALTER TABLE wise_transactions
    ALTER COLUMN profile_id SET NOT NULL,
    ALTER COLUMN account_id SET NOT NULL,
    ALTER COLUMN transaction_id SET NOT NULL,
    ALTER COLUMN transaction_type SET NOT NULL,
    ALTER COLUMN transaction_date SET NOT NULL,
    ALTER COLUMN amount SET NOT NULL,
    ALTER COLUMN currency SET NOT NULL,
    ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';

-- wise_balances: amount/reserved_amount become available/reserved, required columns NOT NULL.
ALTER TABLE wise_balances RENAME COLUMN amount TO available;
ALTER TABLE wise_balances RENAME COLUMN reserved_amount TO reserved;

-- Backfill. account_id still carries the unique index ix_wise_balances_account_id, so it gets a
-- per-row value.
UPDATE wise_balances SET
    profile_id = COALESCE(profile_id, 'unknown'),
    account_id = COALESCE(account_id, 'unknown-' || id),
    currency = COALESCE(currency, 'unknown'),
    available = COALESCE(available, 0),
    reserved = COALESCE(reserved, 0),
    update_time = COALESCE(update_time, updated_at)
WHERE profile_id IS NULL OR account_id IS NULL OR currency IS NULL OR available IS NULL
   OR reserved IS NULL OR update_time IS NULL;

ALTER TABLE wise_balances
    ALTER COLUMN profile_id SET NOT NULL,
    ALTER COLUMN account_id SET NOT NULL,
    ALTER COLUMN currency SET NOT NULL,
    ALTER COLUMN available SET NOT NULL,
    ALTER COLUMN reserved SET DEFAULT 0,
    ALTER COLUMN reserved SET NOT NULL,
    ALTER COLUMN update_time SET NOT NULL;
