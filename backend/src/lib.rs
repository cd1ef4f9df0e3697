//! personalfinance backend: the diesel-based service and the database-operations library
//! that `xtask` shares. See ARCHITECTURE.md for the map.

pub mod api;
pub mod backup;
pub mod config;
pub mod db;
pub mod decimal;
pub mod guard;
pub mod migrate;
pub mod models;
pub mod resource;
pub mod schema;
pub mod server;
pub mod storage;
pub mod testing;
