//! What a database holds beyond its schema, read generically (any table, no models): the rows
//! of every table and the positions of its sequences. Used to carry the rows migrations
//! inserted into a baseline and to prove two databases hold the same.
//!
//! A value a column's `now()` / `CURRENT_TIMESTAMP` default gave while a chain (or baseline)
//! ran is "set at insert time": it differs between two runs by nature, a baseline must leave
//! it to the default rather than freeze it, and a proof compares it as such (a frozen copy
//! is older than the run, so it shows as a value and the proof sees the difference).

use std::collections::{BTreeMap, BTreeSet};

use db_conn::sql::literal;
use db_conn::DbConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

pub use db_conn::sql::ident;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

fn lines(conn: &mut DbConnection, sql: &str) -> QueryResult<Vec<String>> {
    Ok(diesel::sql_query(sql)
        .load::<Line>(conn)?
        .into_iter()
        .map(|l| l.line)
        .collect())
}

/// A relation that holds rows.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The schema, for PostgreSQL tables outside `public`.
    #[diesel(sql_type = Nullable<Text>)]
    pub schema: Option<String>,
    #[diesel(sql_type = Text)]
    pub name: String,
    /// SQLite: the table has no rowid to order by (WITHOUT ROWID). PostgreSQL: a
    /// materialized view (read without ONLY).
    #[diesel(sql_type = Bool)]
    pub no_rowid_or_matview: bool,
    /// A SQLite virtual table (FTS5): its `CREATE VIRTUAL TABLE` text.
    #[diesel(sql_type = Nullable<Text>)]
    pub virtual_sql: Option<String>,
    /// False for a materialized view created WITH NO DATA (reading it fails).
    #[diesel(sql_type = Bool)]
    pub populated: bool,
}

impl Table {
    /// The name to write in SQL: quoted, qualified outside `public`.
    pub fn sql(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", ident(s), ident(&self.name)),
            None => ident(&self.name),
        }
    }

    /// The name to show and to key rows by.
    pub fn label(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Application tables (bookkeeping, SQLite internals and FTS5 shadow tables excluded; on
/// PostgreSQL every user schema, materialized views included), in creation order.
pub fn tables(conn: &mut DbConnection) -> QueryResult<Vec<Table>> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT NULL AS schema, t.name, t.wr AS no_rowid_or_matview, \
             CASE t.type WHEN 'virtual' THEN m.sql END AS virtual_sql, true AS populated \
             FROM pragma_table_list t JOIN sqlite_master m ON m.name = t.name AND m.type = 'table' \
             WHERE t.schema = 'main' AND t.type IN ('table', 'virtual') AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND t.name <> '__diesel_schema_migrations' AND t.name NOT LIKE '\\_\\_pf\\_%' ESCAPE '\\' ORDER BY m.rowid"
        }
        DbConnection::Pg(_) => {
            "SELECT CASE WHEN n.nspname <> 'public' THEN n.nspname::text END AS schema, c.relname::text AS name, \
             c.relkind = 'm' AS no_rowid_or_matview, NULL AS virtual_sql, c.relispopulated AS populated \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_%' AND c.relname <> '__diesel_schema_migrations' \
             AND c.relname NOT LIKE '\\_\\_pf\\_%' \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') \
             ORDER BY c.oid"
        }
    };
    diesel::sql_query(sql).load(conn)
}

/// The columns a row is read and inserted by (SQLite: generated columns excluded).
fn columns(conn: &mut DbConnection, table: &Table) -> QueryResult<Vec<String>> {
    let sql = match conn {
        DbConnection::Sqlite(_) => format!(
            "SELECT name AS line FROM pragma_table_info({}) ORDER BY cid",
            literal(&table.name)
        ),
        DbConnection::Pg(_) => format!(
            "SELECT attname::text AS line FROM pg_attribute WHERE attrelid = {}::regclass AND attnum > 0 \
             AND NOT attisdropped ORDER BY attnum",
            literal(&table.sql())
        ),
    };
    lines(conn, &sql)
}

/// A column whose default is the time of the insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeColumn {
    /// [`Table::label`] of its table.
    pub table: String,
    pub column: String,
    /// A `date` column (PostgreSQL): compared by day.
    pub date_only: bool,
}

#[derive(QueryableByName)]
struct DefaultRow {
    #[diesel(sql_type = Text)]
    table_label: String,
    #[diesel(sql_type = Text)]
    column: String,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Text)]
    default: String,
}

fn is_insert_time(default: &str) -> bool {
    let d = default.to_ascii_lowercase();
    [
        "now()",
        "current_timestamp",
        "current_date",
        "localtimestamp",
        "transaction_timestamp()",
        "statement_timestamp()",
        "clock_timestamp()",
        "'now'",
    ]
    .iter()
    .any(|f| d.contains(f))
}

/// Every column whose default is the current time (of a table [`tables`] lists).
pub fn time_columns(conn: &mut DbConnection) -> QueryResult<Vec<TimeColumn>> {
    let rows: Vec<DefaultRow> = match conn {
        DbConnection::Sqlite(_) => {
            let mut out = Vec::new();
            for t in tables(conn)? {
                out.extend(
                    diesel::sql_query(
                        "SELECT ? AS table_label, name AS column, type AS type_name, dflt_value AS \"default\" \
                         FROM pragma_table_info(?) WHERE dflt_value IS NOT NULL",
                    )
                    .bind::<Text, _>(t.label())
                    .bind::<Text, _>(&t.name)
                    .load::<DefaultRow>(conn)?,
                );
            }
            out
        }
        DbConnection::Pg(_) => diesel::sql_query(
            "SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END AS table_label, \
             a.attname::text AS column, format_type(a.atttypid, a.atttypmod) AS type_name, \
             pg_get_expr(d.adbin, d.adrelid) AS \"default\" \
             FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
             JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND a.attgenerated = '' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
        )
        .load(conn)?,
    };
    let pg = matches!(conn, DbConnection::Pg(_));
    Ok(rows
        .into_iter()
        .filter(|r| is_insert_time(&r.default))
        .filter(|r| !pg || r.type_name.starts_with("timestamp") || r.type_name == "date")
        .map(|r| TimeColumn {
            table: r.table_label,
            column: r.column,
            date_only: r.type_name == "date",
        })
        .collect())
}

/// The database's current time, as the lower bound of what a run about to start sets.
pub fn now(conn: &mut DbConnection) -> QueryResult<String> {
    let sql = match conn {
        DbConnection::Sqlite(_) => "SELECT datetime('now') AS line",
        DbConnection::Pg(_) => "SELECT now()::text AS line",
    };
    Ok(lines(conn, sql)?.remove(0))
}

/// SQL true when `column` holds a value set at or after `since`.
fn set_since(conn: &DbConnection, column: &str, date_only: bool, since: &str) -> String {
    let (c, s) = (ident(column), literal(since));
    match conn {
        DbConnection::Sqlite(_) => format!(
            "(typeof({c}) = 'text' AND {c} >= CASE WHEN length({c}) <= 10 THEN substr({s}, 1, 10) ELSE {s} END)"
        ),
        DbConnection::Pg(_) if date_only => format!("{c} >= CAST(CAST({s} AS timestamptz) AS date)"),
        DbConnection::Pg(_) => format!("{c} >= CAST({s} AS timestamptz)"),
    }
}

/// One row: each column with its value as a SQL literal, `None` when set at insert time.
pub type Row = Vec<(String, Option<String>)>;

/// Every row of `table` (SQLite: in rowid order), with values of `time` columns set since
/// `since` marked.
pub fn rows(
    conn: &mut DbConnection,
    table: &Table,
    time: &[TimeColumn],
    since: &str,
) -> QueryResult<Vec<Row>> {
    if !table.populated {
        return Ok(Vec::new());
    }
    let cols = columns(conn, table)?;
    let label = table.label();
    let exprs: Vec<String> = cols
        .iter()
        .map(|c| {
            let quoted = match conn {
                DbConnection::Sqlite(_) => format!("quote({})", ident(c)),
                DbConnection::Pg(_) => format!("quote_nullable({})", ident(c)),
            };
            match time.iter().find(|t| t.table == label && &t.column == c) {
                Some(t) => format!(
                    "CASE WHEN {} THEN NULL ELSE {quoted} END",
                    set_since(conn, c, t.date_only, since)
                ),
                None => quoted,
            }
        })
        .collect();
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            let order = if table.no_rowid_or_matview {
                ""
            } else {
                " ORDER BY rowid"
            };
            format!(
                "SELECT json_array({}) AS line FROM {}{order}",
                exprs.join(", "),
                table.sql()
            )
        }
        DbConnection::Pg(_) => {
            let only = if table.no_rowid_or_matview {
                ""
            } else {
                "ONLY "
            };
            format!(
                "SELECT array_to_json(ARRAY[{}]::text[])::text AS line FROM {only}{}",
                exprs.join(", "),
                table.sql()
            )
        }
    };
    lines(conn, &sql)?
        .into_iter()
        .map(|line| {
            let values: Vec<Option<String>> = serde_json::from_str(&line)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            Ok(cols.iter().cloned().zip(values).collect())
        })
        .collect()
}

/// A row as an INSERT; columns set at insert time are left to their default.
pub fn insert_statement(table: &Table, row: &Row) -> String {
    let kept: Vec<(&String, &String)> = row
        .iter()
        .filter_map(|(c, v)| v.as_ref().map(|v| (c, v)))
        .collect();
    if kept.is_empty() {
        return format!("INSERT INTO {} DEFAULT VALUES;", table.sql());
    }
    let names: Vec<String> = kept.iter().map(|(c, _)| ident(c)).collect();
    let values: Vec<&str> = kept.iter().map(|(_, v)| v.as_str()).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({});",
        table.sql(),
        names.join(", "),
        values.join(", ")
    )
}

/// PostgreSQL: the distinct values (as text, DateStyle ISO, as pg_dump prints them) that
/// `column` of `table` got at or after `since`.
pub fn values_set_since(
    conn: &mut DbConnection,
    table: &Table,
    column: &TimeColumn,
    since: &str,
) -> QueryResult<BTreeSet<String>> {
    let sql = format!(
        "SELECT DISTINCT CAST({} AS text) AS line FROM ONLY {} WHERE {}",
        ident(&column.column),
        table.sql(),
        set_since(conn, &column.column, column.date_only, since)
    );
    Ok(lines(conn, &sql)?.into_iter().collect())
}

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Sequence positions: SQLite's `sqlite_sequence`, PostgreSQL's sequences of every user
/// schema (identity ones included).
pub fn sequences(conn: &mut DbConnection) -> QueryResult<BTreeMap<String, Option<String>>> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            if lines(conn, "SELECT name AS line FROM sqlite_master WHERE name = 'sqlite_sequence'")?.is_empty() {
                return Ok(BTreeMap::new());
            }
            "SELECT name, CAST(seq AS TEXT) AS value FROM sqlite_sequence WHERE name NOT LIKE '\\_\\_pf\\_%' ESCAPE '\\'"
        }
        DbConnection::Pg(_) => {
            "SELECT CASE WHEN schemaname = 'public' THEN sequencename::text ELSE schemaname || '.' || sequencename END AS name, \
             last_value::text AS value FROM pg_sequences \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND sequencename NOT LIKE '\\_\\_pf\\_%'"
        }
    };
    Ok(diesel::sql_query(sql)
        .load::<Pair>(conn)?
        .into_iter()
        .map(|p| (p.name, p.value))
        .collect())
}

/// Every table's rows (as INSERT text, sorted) and the sequence positions: equal contents
/// compare equal.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Contents {
    pub rows: BTreeMap<String, Vec<String>>,
    pub sequences: BTreeMap<String, Option<String>>,
}

/// The contents, with values of `time` columns set since `since` shown as set at insert time.
pub fn capture(conn: &mut DbConnection, time: &[TimeColumn], since: &str) -> QueryResult<Contents> {
    let mut all = BTreeMap::new();
    for t in tables(conn)? {
        let mut shown: Vec<String> = rows(conn, &t, time, since)?
            .iter()
            .map(|row| {
                let values: Vec<String> = row
                    .iter()
                    .map(|(c, v)| format!("{c}={}", v.as_deref().unwrap_or("<set at insert time>")))
                    .collect();
                values.join(", ")
            })
            .collect();
        shown.sort();
        if !t.populated {
            shown.push("<not populated>".to_owned());
        }
        all.insert(t.label(), shown);
    }
    Ok(Contents {
        rows: all,
        sequences: sequences(conn)?,
    })
}
