-- Alembic revision 1c00ade64ab5: fix_wise_tables_structure
-- wise_transactions and wise_balances: renamed columns, required columns NOT NULL, a status column;
-- the same result, column order included, as the PostgreSQL migration.
-- SQLite cannot change a column's type or constraints in place: this is the documented table
-- rebuild (https://www.sqlite.org/lang_altertable.html#otheralter) inside diesel's transaction.
-- No other table references the wise tables, so no foreign-key handling (PRAGMA defer_foreign_keys)
-- is needed; rows, ids and the AUTOINCREMENT sequence are kept.

-- wise_transactions --------------------------------------------------------------------------
CREATE TABLE new_wise_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    profile_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    transaction_type TEXT NOT NULL,
    transaction_date TIMESTAMP NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    description TEXT,
    reference_number TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    primary_amount TEXT,
    primary_currency TEXT,
    secondary_amount TEXT,
    secondary_currency TEXT,
    status TEXT NOT NULL DEFAULT 'completed',
    CONSTRAINT uq_wise_transactions_transaction_id UNIQUE (transaction_id)
);

-- Copy every row and id, backfilling the NULLs the old schema allowed (transaction_id is unique, so it
-- gets a per-row value); existing rows get status 'completed'.
INSERT INTO new_wise_transactions (id, profile_id, account_id, transaction_id, transaction_type,
    transaction_date, amount, currency, description, reference_number, created_at, updated_at,
    primary_amount, primary_currency, secondary_amount, secondary_currency, status)
SELECT id, COALESCE(profile_id, 'unknown'), COALESCE(account_id, 'unknown'),
    COALESCE(transaction_id, 'unknown-' || id), COALESCE(type, 'unknown'), COALESCE(date, created_at),
    COALESCE(amount, '0'), COALESCE(currency, 'unknown'), description, reference_number, created_at, updated_at,
    primary_amount, primary_currency, secondary_amount, secondary_currency, 'completed'
FROM wise_transactions;

-- Keep the AUTOINCREMENT high-water mark (ids of deleted rows are never reused).
DELETE FROM sqlite_sequence WHERE name = 'new_wise_transactions';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_wise_transactions', seq FROM sqlite_sequence WHERE name = 'wise_transactions';

DROP TABLE wise_transactions;
ALTER TABLE new_wise_transactions RENAME TO wise_transactions;
CREATE INDEX ix_wise_transactions_transaction_date ON wise_transactions (transaction_date);

-- wise_balances ------------------------------------------------------------------------------
CREATE TABLE new_wise_balances (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    profile_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    available TEXT NOT NULL,
    reserved TEXT NOT NULL DEFAULT '0',
    update_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Copy every row and id, backfilling NULLs (account_id still has a unique index: per-row value).
INSERT INTO new_wise_balances (id, profile_id, account_id, currency, available, reserved, update_time,
    created_at, updated_at)
SELECT id, COALESCE(profile_id, 'unknown'), COALESCE(account_id, 'unknown-' || id), COALESCE(currency, 'unknown'),
    COALESCE(amount, '0'), COALESCE(reserved_amount, '0'), COALESCE(update_time, updated_at),
    created_at, updated_at
FROM wise_balances;

-- Keep the AUTOINCREMENT high-water mark (ids of deleted rows are never reused).
DELETE FROM sqlite_sequence WHERE name = 'new_wise_balances';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_wise_balances', seq FROM sqlite_sequence WHERE name = 'wise_balances';

DROP TABLE wise_balances;
ALTER TABLE new_wise_balances RENAME TO wise_balances;
CREATE UNIQUE INDEX ix_wise_balances_account_id ON wise_balances (account_id);
