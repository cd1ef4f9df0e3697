-- Alembic revision ffaaaaaa0000: add_incremental_okx_and_wise_balance
-- Incremental sync: where the last balance sync stopped, and when it ran.
ALTER TABLE okx_balances ADD COLUMN sync_cursor TEXT;
ALTER TABLE okx_balances ADD COLUMN last_synced_at TIMESTAMP;
ALTER TABLE wise_balances ADD COLUMN sync_cursor TEXT;
ALTER TABLE wise_balances ADD COLUMN last_synced_at TIMESTAMP;
