-- Reverts Alembic revision 1c00ade64ab5: fix_wise_tables_structure
-- Back to the original wise tables (old column names, nullable columns, no status). Values
-- backfilled by up.sql stay (they cannot be told apart).
-- SQLite cannot change a column's type or constraints in place: this is the documented table
-- rebuild (https://www.sqlite.org/lang_altertable.html#otheralter) inside diesel's transaction.
-- No other table references the wise tables, so no foreign-key handling (PRAGMA defer_foreign_keys)
-- is needed; rows, ids and the AUTOINCREMENT sequence are kept.
-- The CREATE TABLE text reproduces byte for byte what #4 and #14 left in sqlite_schema (ALTER TABLE
-- ADD COLUMN splices ', column TYPE' after the last column), hence the long line.

-- wise_balances ------------------------------------------------------------------------------
CREATE TABLE new_wise_balances (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    profile_id TEXT,
    account_id TEXT,
    currency TEXT,
    amount TEXT,
    reserved_amount TEXT,
    update_time TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO new_wise_balances (id, profile_id, account_id, currency, amount, reserved_amount, update_time,
    created_at, updated_at)
SELECT id, profile_id, account_id, currency, available, reserved, update_time, created_at, updated_at
FROM wise_balances;

-- Keep the AUTOINCREMENT high-water mark (ids of deleted rows are never reused).
DELETE FROM sqlite_sequence WHERE name = 'new_wise_balances';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_wise_balances', seq FROM sqlite_sequence WHERE name = 'wise_balances';

DROP TABLE wise_balances;
ALTER TABLE new_wise_balances RENAME TO wise_balances;
CREATE UNIQUE INDEX ix_wise_balances_account_id ON wise_balances (account_id);

-- wise_transactions --------------------------------------------------------------------------
CREATE TABLE new_wise_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    profile_id TEXT,
    account_id TEXT,
    transaction_id TEXT,
    type TEXT,
    date TIMESTAMP,
    amount TEXT,
    currency TEXT,
    description TEXT,
    reference_number TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, primary_amount TEXT, primary_currency TEXT, secondary_amount TEXT, secondary_currency TEXT,
    CONSTRAINT uq_wise_transactions_transaction_id UNIQUE (transaction_id)
);

INSERT INTO new_wise_transactions (id, profile_id, account_id, transaction_id, type, date, amount, currency,
    description, reference_number, created_at, updated_at,
    primary_amount, primary_currency, secondary_amount, secondary_currency)
SELECT id, profile_id, account_id, transaction_id, transaction_type, transaction_date, amount, currency,
    description, reference_number, created_at, updated_at,
    primary_amount, primary_currency, secondary_amount, secondary_currency
FROM wise_transactions;

-- Keep the AUTOINCREMENT high-water mark (ids of deleted rows are never reused).
DELETE FROM sqlite_sequence WHERE name = 'new_wise_transactions';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_wise_transactions', seq FROM sqlite_sequence WHERE name = 'wise_transactions';

DROP TABLE wise_transactions;
ALTER TABLE new_wise_transactions RENAME TO wise_transactions;
CREATE INDEX ix_wise_transactions_date ON wise_transactions (date);
