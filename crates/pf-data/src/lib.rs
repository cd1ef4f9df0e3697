//! personalfinance's data: the diesel schema, exact decimals, one `resource!` model per
//! table, row counts, and the migration trees embedded at build time.

pub mod counts;
pub mod decimal;
pub mod migrations;
pub mod models;
pub mod resource;
pub mod schema;
