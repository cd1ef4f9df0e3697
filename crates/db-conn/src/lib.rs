//! Opening a database from what a user typed: a URL or a SQLite path becomes a
//! [`DatabaseTarget`], which opens one [`DbConnection`] type for both backends with the
//! settings every SQLite connection needs. Knows no table of any application.

pub mod connection;
pub mod introspect;
pub mod objects;
pub mod paths;
pub mod scratch;
pub mod sql;
pub mod target;

pub use connection::*;
pub use target::*;
