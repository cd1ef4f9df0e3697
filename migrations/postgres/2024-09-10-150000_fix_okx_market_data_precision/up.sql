-- Alembic revision 9ab46480ba00: fix_okx_market_data_precision
-- Widen the price columns from NUMERIC(20,8) (8 decimals, 12 integer digits: too narrow for
-- low-priced tokens) to NUMERIC(38,18), like every other decimal column. Values are kept exactly.
ALTER TABLE okx_market_data
    ALTER COLUMN last_price TYPE NUMERIC(38,18),
    ALTER COLUMN bid_price TYPE NUMERIC(38,18),
    ALTER COLUMN ask_price TYPE NUMERIC(38,18),
    ALTER COLUMN high_24h TYPE NUMERIC(38,18),
    ALTER COLUMN low_24h TYPE NUMERIC(38,18);
