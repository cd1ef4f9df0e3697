//! What a database records about its migrations: diesel's own table (kept, so the plain diesel
//! CLI still works on it) and a side table with the checksum of each applied migration.

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use crate::Migration;
use db_conn::Backend;
use db_conn::DbConnection;

pub use db_conn::introspect::DIESEL_TABLE;
pub const CHECKSUM_TABLE: &str = "__pf_migration_checksums";
pub const LOCK_TABLE: &str = "__pf_migration_lock";

/// An applied version as the database records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedRow {
    pub version: String,
    pub run_on: Option<String>,
    /// None when applied by a tool that records no checksum (e.g. the plain diesel CLI).
    pub checksum: Option<String>,
}

/// The statements that create the bookkeeping tables; diesel's is spelled as diesel makes it.
pub fn create_tables_sql(backend: Backend) -> Vec<String> {
    let mut sql = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {DIESEL_TABLE} (version VARCHAR(50) PRIMARY KEY NOT NULL, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {CHECKSUM_TABLE} (version VARCHAR(50) PRIMARY KEY NOT NULL, \
             checksum VARCHAR(64) NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
             applied_by TEXT NOT NULL)"
        ),
    ];
    if backend == Backend::Sqlite {
        sql.push(format!(
            "CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), \
             owner TEXT NOT NULL, acquired_at TIMESTAMP NOT NULL)"
        ));
    }
    sql
}

pub use db_conn::sql::literal as quote;

pub fn record_sql(m: &Migration, owner: &str) -> Vec<String> {
    let v = quote(&m.version);
    vec![
        format!("INSERT INTO {DIESEL_TABLE} (version) VALUES ({v})"),
        format!(
            "INSERT INTO {CHECKSUM_TABLE} (version, checksum, applied_by) VALUES ({v}, {}, {})",
            quote(&m.checksum()),
            quote(owner)
        ),
    ]
}

/// Records a checksum for a version already in diesel's table (applied by another tool, or
/// stamped with --force after an intentional edit).
pub fn adopt_sql(m: &Migration, owner: &str) -> Vec<String> {
    let v = quote(&m.version);
    vec![
        format!("DELETE FROM {CHECKSUM_TABLE} WHERE version = {v}"),
        format!(
            "INSERT INTO {CHECKSUM_TABLE} (version, checksum, applied_by) VALUES ({v}, {}, {})",
            quote(&m.checksum()),
            quote(owner)
        ),
    ]
}

pub fn forget_sql(version: &str) -> Vec<String> {
    let v = quote(version);
    vec![
        format!("DELETE FROM {DIESEL_TABLE} WHERE version = {v}"),
        format!("DELETE FROM {CHECKSUM_TABLE} WHERE version = {v}"),
    ]
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    present: bool,
}

pub fn table_exists(conn: &mut DbConnection, table: &str) -> QueryResult<bool> {
    let sql = match conn.backend() {
        Backend::Postgres => format!("SELECT to_regclass({}) IS NOT NULL AS present", quote(table)),
        Backend::Sqlite => format!(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = {}) AS present",
            quote(table)
        ),
    };
    let row: Exists = diesel::sql_query(sql).get_result(conn)?;
    Ok(row.present)
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Nullable<Text>)]
    run_on: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    checksum: Option<String>,
}

/// Applied versions in version order; empty when diesel's table does not exist yet.
pub fn applied(conn: &mut DbConnection) -> QueryResult<Vec<AppliedRow>> {
    if !table_exists(conn, DIESEL_TABLE)? {
        return Ok(Vec::new());
    }
    let checksum = if table_exists(conn, CHECKSUM_TABLE)? {
        format!("(SELECT c.checksum FROM {CHECKSUM_TABLE} c WHERE c.version = d.version)")
    } else {
        "NULL".to_owned()
    };
    let sql = format!(
        "SELECT d.version AS version, CAST(d.run_on AS TEXT) AS run_on, {checksum} AS checksum \
         FROM {DIESEL_TABLE} d ORDER BY d.version"
    );
    let rows: Vec<Row> = diesel::sql_query(sql).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| AppliedRow {
            version: r.version,
            run_on: r.run_on,
            checksum: r.checksum,
        })
        .collect())
}
