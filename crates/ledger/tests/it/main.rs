//! The ledger jobs against real databases: SQLite always, PostgreSQL with TEST_DATABASE_URL
//! (REQUIRE_POSTGRES=1 makes a missing server a failure).

mod dca;
mod networth;
mod support;
mod valuation;
