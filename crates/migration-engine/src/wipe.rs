//! Removing every object of the current schema, for `reset` (which backs up first).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use db_conn::sql::ident as quote_ident;
use db_conn::DbConnection;

#[derive(QueryableByName)]
struct Object {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Drops every table, view and trigger (bookkeeping included) in one transaction.
pub fn drop_everything(conn: &mut DbConnection) -> QueryResult<usize> {
    match conn {
        DbConnection::Sqlite(_) => {
            let objects: Vec<Object> = diesel::sql_query(
                "SELECT type AS kind, name FROM sqlite_master WHERE type IN ('view', 'table') \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type DESC",
            )
            .load(conn)?;
            // foreign_keys cannot change inside a transaction; defer the checks to COMMIT,
            // by which time every table is gone.
            let mut sql = String::from("BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON;");
            for o in &objects {
                sql.push_str(&format!(
                    " DROP {} IF EXISTS {};",
                    o.kind.to_uppercase(),
                    quote_ident(&o.name)
                ));
            }
            sql.push_str(" COMMIT;");
            conn.batch_execute(&sql)?;
            Ok(objects.len())
        }
        DbConnection::Pg(_) => {
            let objects: Vec<Object> = diesel::sql_query(
                "SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind, \
                 c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')",
            )
            .load(conn)?;
            let mut sql = String::from("BEGIN;");
            for o in &objects {
                sql.push_str(&format!(
                    " DROP {} IF EXISTS {} CASCADE;",
                    o.kind.to_uppercase(),
                    quote_ident(&o.name)
                ));
            }
            sql.push_str(" COMMIT;");
            conn.batch_execute(&sql)?;
            Ok(objects.len())
        }
    }
}
