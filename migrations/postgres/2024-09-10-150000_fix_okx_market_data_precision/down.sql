-- Reverts Alembic revision 9ab46480ba00: fix_okx_market_data_precision
-- Narrow the price columns back to NUMERIC(20,8). Values are rounded to 8 decimals; a value with
-- more than 12 integer digits makes this fail (numeric field overflow) rather than lose it.
ALTER TABLE okx_market_data
    ALTER COLUMN last_price TYPE NUMERIC(20,8),
    ALTER COLUMN bid_price TYPE NUMERIC(20,8),
    ALTER COLUMN ask_price TYPE NUMERIC(20,8),
    ALTER COLUMN high_24h TYPE NUMERIC(20,8),
    ALTER COLUMN low_24h TYPE NUMERIC(20,8);
