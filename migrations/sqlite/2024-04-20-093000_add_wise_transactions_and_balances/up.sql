-- Alembic revision 9b2fcf59ac80: add_wise_transactions_and_balances
-- The original Wise tables: every business column nullable, the columns still named type/date and
-- amount/reserved_amount. #15 renames them and adds the NOT NULL constraints.
-- Table names are written quoted, exactly as SQLite's ALTER TABLE ... RENAME TO writes them, so
-- that #15's rebuild and its down.sql leave byte-identical sqlite_schema text behind.
CREATE TABLE "wise_transactions" (
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
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_wise_transactions_transaction_id UNIQUE (transaction_id)
);
CREATE INDEX ix_wise_transactions_date ON wise_transactions (date);

CREATE TABLE "wise_balances" (
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
CREATE UNIQUE INDEX ix_wise_balances_account_id ON wise_balances (account_id);
