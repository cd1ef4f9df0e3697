-- Reverts Alembic revision ffaaaaaa0000: add_incremental_okx_and_wise_balance
ALTER TABLE wise_balances DROP COLUMN last_synced_at;
ALTER TABLE wise_balances DROP COLUMN sync_cursor;
ALTER TABLE okx_balances DROP COLUMN last_synced_at;
ALTER TABLE okx_balances DROP COLUMN sync_cursor;
