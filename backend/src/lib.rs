//! personalfinance service: the HTTP API, the start guard and the storage rules, over the
//! data (`pf-data`), the migration engine and data safety. See ARCHITECTURE.md for the map.

pub mod api;
pub mod backup_cli;
pub mod cli_imports;
pub mod cli_ledger;
pub mod guard;
pub mod instance;
pub mod server;
pub mod storage;
