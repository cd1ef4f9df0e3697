-- Reverts Alembic revision 9ab46480ba00: fix_okx_market_data_precision
-- Back to REAL price columns (binary floating point: values are rounded to the nearest double).
-- SQLite cannot change a column's type or constraints in place: this is the documented table
-- rebuild (https://www.sqlite.org/lang_altertable.html#otheralter) inside diesel's transaction.
-- No other table references okx_market_data, so no foreign-key handling (PRAGMA defer_foreign_keys)
-- is needed; rows, ids and the AUTOINCREMENT sequence are kept.

CREATE TABLE new_okx_market_data (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    inst_id TEXT NOT NULL,
    last_price REAL NOT NULL,
    bid_price REAL,
    ask_price REAL,
    high_24h REAL,
    low_24h REAL,
    volume_24h TEXT,
    data_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO new_okx_market_data (id, inst_id, last_price, bid_price, ask_price, high_24h, low_24h, volume_24h,
    data_time, created_at, updated_at)
SELECT id, inst_id,
    CAST(last_price AS REAL),
    CAST(bid_price AS REAL),
    CAST(ask_price AS REAL),
    CAST(high_24h AS REAL),
    CAST(low_24h AS REAL),
    volume_24h, data_time, created_at, updated_at
FROM okx_market_data;

-- Keep the AUTOINCREMENT high-water mark (ids of deleted rows are never reused).
DELETE FROM sqlite_sequence WHERE name = 'new_okx_market_data';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_okx_market_data', seq FROM sqlite_sequence WHERE name = 'okx_market_data';

DROP TABLE okx_market_data;
ALTER TABLE new_okx_market_data RENAME TO okx_market_data;
CREATE INDEX ix_okx_market_data_inst_id_data_time ON okx_market_data (inst_id, data_time);
