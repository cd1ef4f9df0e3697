-- Alembic revision 94e7ccaad3b2: add_fund_dividend_table
CREATE TABLE fund_dividends (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    fund_id BIGINT NOT NULL REFERENCES fund_info (id),
    ex_dividend_date DATE NOT NULL,
    payment_date DATE,
    dividend_per_share TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_fund_dividends_fund_id_ex_dividend_date UNIQUE (fund_id, ex_dividend_date)
);
