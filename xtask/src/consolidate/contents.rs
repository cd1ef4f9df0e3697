//! What a database holds beyond its schema, read generically (any table, no models): the rows
//! of every table and the positions of its id sequences. Used to carry the rows migrations
//! inserted into a baseline and to prove two databases hold the same.

use std::collections::BTreeMap;

use db_conn::sql::literal as quote;
use db_conn::DbConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Application tables (bookkeeping excluded), in creation order.
pub fn tables(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT name AS line FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND name <> '__diesel_schema_migrations' AND name NOT LIKE '\\_\\_pf\\_%' ESCAPE '\\' ORDER BY rowid"
        }
        DbConnection::Pg(_) => {
            "SELECT c.relname::text AS line FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> '__diesel_schema_migrations' \
             AND c.relname NOT LIKE '\\_\\_pf\\_%' ORDER BY c.oid"
        }
    };
    Ok(diesel::sql_query(sql)
        .load::<Line>(conn)?
        .into_iter()
        .map(|l| l.line)
        .collect())
}

pub use db_conn::sql::ident;

fn columns(conn: &mut DbConnection, table: &str) -> QueryResult<Vec<String>> {
    let sql = match conn {
        DbConnection::Sqlite(_) => format!("SELECT name AS line FROM pragma_table_info({}) ORDER BY cid", quote(table)),
        DbConnection::Pg(_) => format!(
            "SELECT attname::text AS line FROM pg_attribute WHERE attrelid = {}::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            quote(&ident(table))
        ),
    };
    Ok(diesel::sql_query(sql)
        .load::<Line>(conn)?
        .into_iter()
        .map(|l| l.line)
        .collect())
}

/// Every row of `table` as an INSERT statement with literal values, in id (rowid) order.
pub fn insert_statements(conn: &mut DbConnection, table: &str) -> QueryResult<Vec<String>> {
    insert_statements_masked(conn, table, &[])
}

/// Like [`insert_statements`], with the values of `masked` columns replaced by a marker: for
/// comparing rows whose timestamps come from `DEFAULT CURRENT_TIMESTAMP` at insert time.
pub fn insert_statements_masked(
    conn: &mut DbConnection,
    table: &str,
    masked: &[String],
) -> QueryResult<Vec<String>> {
    let cols = columns(conn, table)?;
    let names = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
    let quote_fn = match conn {
        DbConnection::Sqlite(_) => "quote",
        DbConnection::Pg(_) => "quote_nullable",
    };
    let values = cols
        .iter()
        .map(|c| {
            if masked.contains(c) {
                "'<set at insert time>'".to_owned()
            } else {
                format!("{quote_fn}({})", ident(c))
            }
        })
        .collect::<Vec<_>>()
        .join(" || ', ' || ");
    let order = match conn {
        DbConnection::Sqlite(_) => "rowid",
        DbConnection::Pg(_) => "1",
    };
    let sql = format!(
        "SELECT 'INSERT INTO {} ({names}) VALUES (' || {values} || ');' AS line FROM {} ORDER BY {order}",
        ident(table).replace('\'', "''"),
        ident(table)
    );
    Ok(diesel::sql_query(sql)
        .load::<Line>(conn)?
        .into_iter()
        .map(|l| l.line)
        .collect())
}

/// Sequence positions: SQLite's `sqlite_sequence`, PostgreSQL's sequences of the schema.
pub fn sequences(conn: &mut DbConnection) -> QueryResult<BTreeMap<String, Option<String>>> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            let exists: Vec<Line> = diesel::sql_query(
                "SELECT name AS line FROM sqlite_master WHERE name = 'sqlite_sequence'",
            )
            .load(conn)?;
            if exists.is_empty() {
                return Ok(BTreeMap::new());
            }
            "SELECT name, CAST(seq AS TEXT) AS value FROM sqlite_sequence WHERE name NOT LIKE '\\_\\_pf\\_%' ESCAPE '\\'"
        }
        DbConnection::Pg(_) => {
            "SELECT sequencename::text AS name, last_value::text AS value FROM pg_sequences \
             WHERE schemaname = current_schema() AND sequencename NOT LIKE '\\_\\_pf\\_%'"
        }
    };
    Ok(diesel::sql_query(sql)
        .load::<Pair>(conn)?
        .into_iter()
        .map(|p| (p.name, p.value))
        .collect())
}

/// Every table's rows (as INSERT text) and the sequence positions: equal contents compare equal.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Contents {
    pub rows: BTreeMap<String, Vec<String>>,
    pub sequences: BTreeMap<String, Option<String>>,
}

/// `masked`: table -> columns whose values are set at insert time (compared as present only).
pub fn capture(
    conn: &mut DbConnection,
    masked: &BTreeMap<String, Vec<String>>,
) -> QueryResult<Contents> {
    let mut rows = BTreeMap::new();
    for t in tables(conn)? {
        let mut lines =
            insert_statements_masked(conn, &t, masked.get(&t).map_or(&[][..], |v| v.as_slice()))?;
        lines.sort();
        rows.insert(t, lines);
    }
    Ok(Contents {
        rows,
        sequences: sequences(conn)?,
    })
}
