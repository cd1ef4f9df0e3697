-- Alembic revision 9ab46480ba00: fix_okx_market_data_precision
-- Widen the five price columns from REAL (binary floating point) to exact decimal text.
-- SQLite cannot change a column's type or constraints in place: this is the documented table
-- rebuild (https://www.sqlite.org/lang_altertable.html#otheralter) inside diesel's transaction.
-- No other table references okx_market_data, so no foreign-key handling (PRAGMA defer_foreign_keys)
-- is needed; rows, ids and the AUTOINCREMENT sequence are kept.

CREATE TABLE new_okx_market_data (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    inst_id TEXT NOT NULL,
    last_price TEXT NOT NULL,
    bid_price TEXT,
    ask_price TEXT,
    high_24h TEXT,
    low_24h TEXT,
    volume_24h TEXT,
    data_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Copy every row and id; the REAL prices become text (canonicalized just below).
INSERT INTO new_okx_market_data (id, inst_id, last_price, bid_price, ask_price, high_24h, low_24h, volume_24h,
    data_time, created_at, updated_at)
SELECT id, inst_id,
    CAST(last_price AS TEXT),
    CAST(bid_price AS TEXT),
    CAST(ask_price AS TEXT),
    CAST(high_24h AS TEXT),
    CAST(low_24h AS TEXT),
    volume_24h, data_time, created_at, updated_at
FROM okx_market_data;

-- Canonical decimal text for the former REAL values. CAST(x AS TEXT) renders a float the way SQLite
-- prints it ('12345.0', '1.0e-05', '0.1'), which depends on the SQLite version; this turns every such
-- rendering into plain decimal text without exponent or trailing zeros ('12345', '0.00001', '0.1').
CREATE TEMP TABLE okx_price_text (
    repr TEXT PRIMARY KEY, -- CAST(value AS TEXT)
    mantissa TEXT,         -- repr without its exponent
    exponent INTEGER,      -- power of ten after 'e', else 0
    digits TEXT,           -- the mantissa's digits, without sign and decimal point
    point INTEGER,         -- how many of those digits precede the decimal point
    plain TEXT             -- the canonical decimal text
);
INSERT OR IGNORE INTO okx_price_text (repr)
SELECT CAST(last_price AS TEXT) FROM okx_market_data WHERE typeof(last_price) = 'real'
UNION SELECT CAST(bid_price AS TEXT) FROM okx_market_data WHERE typeof(bid_price) = 'real'
UNION SELECT CAST(ask_price AS TEXT) FROM okx_market_data WHERE typeof(ask_price) = 'real'
UNION SELECT CAST(high_24h AS TEXT) FROM okx_market_data WHERE typeof(high_24h) = 'real'
UNION SELECT CAST(low_24h AS TEXT) FROM okx_market_data WHERE typeof(low_24h) = 'real';
UPDATE okx_price_text SET
    mantissa = CASE WHEN instr(repr, 'e') > 0 THEN substr(repr, 1, instr(repr, 'e') - 1) ELSE repr END,
    exponent = CASE WHEN instr(repr, 'e') > 0 THEN CAST(substr(repr, instr(repr, 'e') + 1) AS INTEGER) ELSE 0 END;
UPDATE okx_price_text SET
    digits = replace(ltrim(mantissa, '-'), '.', ''),
    point = exponent + CASE WHEN instr(mantissa, '.') > 0 THEN instr(ltrim(mantissa, '-'), '.') - 1
                            ELSE length(ltrim(mantissa, '-')) END;
-- replace(hex(zeroblob(n)), '00', '0') is a string of n zeros.
UPDATE okx_price_text SET plain = CASE
    WHEN point <= 0 THEN '0.' || replace(hex(zeroblob(-point)), '00', '0') || digits
    WHEN point >= length(digits) THEN digits || replace(hex(zeroblob(point - length(digits))), '00', '0')
    ELSE substr(digits, 1, point) || '.' || substr(digits, point + 1) END;
UPDATE okx_price_text SET plain = rtrim(rtrim(plain, '0'), '.') WHERE instr(plain, '.') > 0;
UPDATE okx_price_text SET plain = '-' || plain WHERE substr(mantissa, 1, 1) = '-' AND plain <> '0';
UPDATE new_okx_market_data SET last_price = (SELECT plain FROM temp.okx_price_text WHERE repr = last_price)
    WHERE last_price IN (SELECT repr FROM temp.okx_price_text);
UPDATE new_okx_market_data SET bid_price = (SELECT plain FROM temp.okx_price_text WHERE repr = bid_price)
    WHERE bid_price IN (SELECT repr FROM temp.okx_price_text);
UPDATE new_okx_market_data SET ask_price = (SELECT plain FROM temp.okx_price_text WHERE repr = ask_price)
    WHERE ask_price IN (SELECT repr FROM temp.okx_price_text);
UPDATE new_okx_market_data SET high_24h = (SELECT plain FROM temp.okx_price_text WHERE repr = high_24h)
    WHERE high_24h IN (SELECT repr FROM temp.okx_price_text);
UPDATE new_okx_market_data SET low_24h = (SELECT plain FROM temp.okx_price_text WHERE repr = low_24h)
    WHERE low_24h IN (SELECT repr FROM temp.okx_price_text);
DROP TABLE temp.okx_price_text;

-- Keep the AUTOINCREMENT high-water mark (ids of deleted rows are never reused).
DELETE FROM sqlite_sequence WHERE name = 'new_okx_market_data';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_okx_market_data', seq FROM sqlite_sequence WHERE name = 'okx_market_data';

DROP TABLE okx_market_data;
ALTER TABLE new_okx_market_data RENAME TO okx_market_data;
CREATE INDEX ix_okx_market_data_inst_id_data_time ON okx_market_data (inst_id, data_time);
