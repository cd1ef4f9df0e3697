//! [`hash::digests`] on two cores: the tables are shared between the caller's connection and
//! a second one that sees the same data (a second reader of a snapshot file, or a PostgreSQL
//! connection that imports the caller's exported snapshot). Each table is hashed exactly as
//! the serial code does, so the result is the same map.

use std::collections::BTreeMap;

use crate::catalog::{self, CatalogTable};
use crate::hash::{self, digest_fast, raw_count, table_exists};
use crate::manifest::TableDigest;
use crate::BackupError;
use db_conn::DbConnection;
use pf_data::models::visit_all;
use pf_data::resource::{Resource, ResourceVisitor};

/// How to open a second connection that sees exactly what the caller's sees: `open`, then
/// `prologue` as the first statement of its read transaction (PostgreSQL: `SET TRANSACTION
/// SNAPSHOT` of the caller's exported snapshot).
pub struct Second<'a> {
    pub open: &'a (dyn Fn() -> Result<DbConnection, BackupError> + Sync),
    pub prologue: Option<String>,
}

impl<'a> Second<'a> {
    /// Another connection opened by `open`, with nothing to run first (the data it reads does
    /// not change while it is hashed: a snapshot file, a scratch database, a restored one).
    pub fn reopening(open: &'a (dyn Fn() -> Result<DbConnection, BackupError> + Sync)) -> Self {
        Self {
            open,
            prologue: None,
        }
    }
}

/// One table to hash: one of our models, or a catalog table.
struct Task {
    key: String,
    catalog: Option<CatalogTable>,
    /// Its size (see [`sizes`]), to share the work evenly.
    size: i64,
}

/// Every table of [`hash::digests`], each hashed on one of two connections; serial when
/// `open` is None.
pub fn digests(
    conn: &mut DbConnection,
    second: Option<&Second>,
) -> Result<BTreeMap<String, TableDigest>, BackupError> {
    let Some(second) = second else {
        return Ok(hash::digests(conn)?);
    };
    let mut tasks = tasks(conn)?;
    // Largest first, each to the less loaded side: two halves of about equal size.
    tasks.sort_by(|a, b| b.size.cmp(&a.size).then(a.key.cmp(&b.key)));
    let (mut mine, mut theirs, mut load) = (Vec::new(), Vec::new(), (0i64, 0i64));
    for task in tasks {
        // Every table costs something (a query), however small.
        let cost = task.size.max(0) + 1;
        if load.0 <= load.1 {
            load.0 += cost;
            mine.push(task);
        } else {
            load.1 += cost;
            theirs.push(task);
        }
    }
    let (here, there) = std::thread::scope(|s| {
        let other = s.spawn(|| -> Result<_, BackupError> {
            use diesel::connection::{Connection, SimpleConnection};
            let mut other = (second.open)()?;
            other.transaction::<_, BackupError, _>(|c| {
                if let Some(prologue) = &second.prologue {
                    c.batch_execute(prologue)?;
                }
                hash_all(c, &theirs)
            })
        });
        let here = hash_all(conn, &mine);
        let there = other.join().expect("a hashing thread does not panic");
        (here, there)
    });
    let mut out = here?;
    out.extend(there?);
    Ok(out)
}

#[derive(diesel::QueryableByName)]
struct Estimate {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    size: i64,
}

/// A size per table, only to share the work: on PostgreSQL the bytes of its files (a stat, where
/// a COUNT(*) would scan every table once more, and exact right after a restore, when the
/// planner's estimates are not yet known); on SQLite the row count, which reads only the
/// smallest b-tree of each table.
fn sizes(conn: &mut DbConnection, tables: &[&str]) -> Result<Vec<i64>, BackupError> {
    use diesel::RunQueryDsl;
    if let DbConnection::Pg(_) = conn {
        let estimates: Vec<Estimate> = diesel::sql_query(
            "SELECT c.relname::text AS name, pg_total_relation_size(c.oid) AS size \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
        )
        .load(conn)?;
        let of = |t: &str| estimates.iter().find(|e| e.name == t).map_or(0, |e| e.size);
        return Ok(tables.iter().map(|t| of(t)).collect());
    }
    tables.iter().map(|t| Ok(raw_count(conn, t)?)).collect()
}

fn tasks(conn: &mut DbConnection) -> Result<Vec<Task>, BackupError> {
    let mut present = Vec::new();
    for table in model_tables() {
        if table_exists(conn, table)? {
            present.push(table);
        }
    }
    let rows = sizes(conn, &present)?;
    let mut tasks: Vec<Task> = present
        .iter()
        .zip(rows)
        .map(|(table, rows)| Task {
            key: (*table).to_owned(),
            catalog: None,
            size: rows,
        })
        .collect();
    for table in catalog::user_tables(conn)? {
        if !tasks.iter().any(|t| t.key == table.key) {
            tasks.push(Task {
                key: table.key.clone(),
                size: 0,
                catalog: Some(table),
            });
        }
    }
    Ok(tasks)
}

fn hash_all(
    conn: &mut DbConnection,
    tasks: &[Task],
) -> Result<BTreeMap<String, TableDigest>, BackupError> {
    let mut out = BTreeMap::new();
    for task in tasks {
        let digest = match &task.catalog {
            Some(table) => catalog::digest(conn, table)?,
            None => model_or_catalog(conn, &task.key)?,
        };
        out.insert(task.key.clone(), digest);
    }
    Ok(out)
}

/// Our table through its model; through the catalog when a row cannot be read through the
/// model (a schema of another release), as the serial code does.
fn model_or_catalog(conn: &mut DbConnection, key: &str) -> Result<TableDigest, BackupError> {
    struct One<'a> {
        conn: &'a mut DbConnection,
        key: &'a str,
        found: Option<diesel::QueryResult<TableDigest>>,
    }
    impl ResourceVisitor for One<'_> {
        fn visit<R: Resource>(&mut self) {
            if self.found.is_none() && R::TABLE == self.key {
                use diesel::Connection;
                self.found = Some(self.conn.transaction(|c| digest_fast::<R>(c)));
            }
        }
    }
    let mut one = One {
        conn,
        key,
        found: None,
    };
    visit_all(&mut one);
    match one.found {
        Some(Ok(digest)) => Ok(digest),
        _ => {
            let table = catalog::user_tables(conn)?
                .into_iter()
                .find(|t| t.key == key)
                .ok_or_else(|| {
                    BackupError::Refused(format!("table {key} vanished while hashing"))
                })?;
            Ok(catalog::digest(conn, &table)?)
        }
    }
}

fn model_tables() -> Vec<&'static str> {
    struct Names(Vec<&'static str>);
    impl ResourceVisitor for Names {
        fn visit<R: Resource>(&mut self) {
            self.0.push(R::TABLE);
        }
    }
    let mut names = Names(Vec::new());
    visit_all(&mut names);
    names.0
}
