-- Reverts Alembic revision 94e7ccaad3b2: add_fund_dividend_table
DROP TABLE fund_dividends;
