//! The backend's integration tests: real SQLite files and, with TEST_DATABASE_URL, a real
//! PostgreSQL server (a fresh database per test). REQUIRE_POSTGRES=1 turns a missing server
//! into a failure instead of a skip.

mod api_crud;
mod api_errors;
mod backup_encrypted;
mod backup_hash;
mod backup_logical;
mod backup_remote;
mod backup_snapshot;
mod backup_util;
mod binary;
mod deploy;
mod drill;
mod health;
mod imports_api;
mod ledger_api;
mod migrations;
mod page;
mod railway_ts;
mod samples;
mod support;
