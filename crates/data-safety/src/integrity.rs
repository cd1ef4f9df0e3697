//! `integrity`: is the data sound? The engine's own checks (SQLite `integrity_check` and
//! `foreign_key_check`; PostgreSQL constraints not validated and invalid indexes), orphan rows
//! of every foreign key (looked up in the catalog, counted with NOT EXISTS), every row of every
//! table readable through its model (catches e.g. a decimal stored as unparseable text),
//! per-table counts, and the age of the newest asset snapshot.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Text};
use diesel::RunQueryDsl;
use serde::{Deserialize, Serialize};

use crate::{hash, snapshot_sqlite, BackupError};
use db_conn::DatabaseTarget;
use db_conn::{self as db, DbConnection};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphans {
    pub table: String,
    pub column: String,
    pub parent: String,
    pub rows: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityReport {
    pub backend: String,
    pub ok: bool,
    /// Everything wrong, one line each; empty when sound.
    pub problems: Vec<String>,
    pub tables: BTreeMap<String, u64>,
    pub total_rows: u64,
    pub foreign_keys_checked: usize,
    pub orphans: Vec<Orphans>,
    pub newest_asset_snapshot: Option<NaiveDate>,
    pub newest_asset_snapshot_age_days: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    col: String,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    parent_col: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

fn foreign_keys(conn: &mut DbConnection) -> diesel::QueryResult<Vec<ForeignKey>> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT m.name AS child, f.\"from\" AS col, f.\"table\" AS parent, COALESCE(f.\"to\", 'id') AS parent_col \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq"
        }
        DbConnection::Pg(_) => {
            "SELECT cl.relname::text AS child, a.attname::text AS col, pcl.relname::text AS parent, pa.attname::text AS parent_col \
             FROM pg_constraint c \
             JOIN pg_class cl ON cl.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = cl.relnamespace \
             JOIN pg_class pcl ON pcl.oid = c.confrelid \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] \
             WHERE c.contype = 'f' AND n.nspname = current_schema() AND array_length(c.conkey, 1) = 1 \
             ORDER BY 1, 2"
        }
    };
    diesel::sql_query(sql).load(conn)
}

use db_conn::sql::ident as q;

/// Checks the database `target`. `max_snapshot_age_days`: an asset snapshot older than this
/// counts as a problem (None: reported only).
pub fn check(
    target: &DatabaseTarget,
    max_snapshot_age_days: Option<i64>,
) -> Result<IntegrityReport, BackupError> {
    let mut conn = db::establish(target)?;
    check_conn(&mut conn, max_snapshot_age_days)
}

pub fn check_conn(
    conn: &mut DbConnection,
    max_snapshot_age_days: Option<i64>,
) -> Result<IntegrityReport, BackupError> {
    let mut problems = engine_checks(conn)?;
    let fks = foreign_keys(conn).map_err(BackupError::query("listing foreign keys"))?;
    let orphans = orphans(conn, &fks)?;
    problems.extend(orphans.iter().map(|o| {
        format!(
            "{} row(s) of {} point at a missing {} row through {}",
            o.rows, o.table, o.parent, o.column
        )
    }));
    let (digests, unreadable) = hash::digests_detailed(conn)?;
    problems.extend(unreadable);
    let tables: BTreeMap<String, u64> = digests.iter().map(|(t, d)| (t.clone(), d.rows)).collect();
    let newest = newest_snapshot(conn)?;
    let age = newest.map(|d| (chrono::Utc::now().date_naive() - d).num_days());
    if let (Some(age), Some(max)) = (age, max_snapshot_age_days) {
        if age > max {
            problems.push(format!(
                "the newest asset snapshot is {age} day(s) old (limit {max}): the daily snapshot job is not running"
            ));
        }
    }
    Ok(IntegrityReport {
        backend: conn.backend_name().to_owned(),
        ok: problems.is_empty(),
        problems,
        total_rows: tables.values().sum(),
        tables,
        foreign_keys_checked: fks.len(),
        orphans,
        newest_asset_snapshot: newest,
        newest_asset_snapshot_age_days: age,
    })
}

/// What the engine itself reports: SQLite's integrity and foreign-key checks; PostgreSQL's
/// constraints not validated and indexes left invalid.
fn engine_checks(conn: &mut DbConnection) -> Result<Vec<String>, BackupError> {
    match conn {
        DbConnection::Sqlite(c) => snapshot_sqlite::engine_checks(c),
        DbConnection::Pg(_) => {
            let unvalidated: Vec<Line> = diesel::sql_query(
                "SELECT format('constraint %s on %s is not validated', c.conname, c.conrelid::regclass) AS line \
                 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
                 WHERE NOT c.convalidated AND n.nspname = current_schema()",
            )
            .load(conn)
            .map_err(BackupError::query("listing constraints not validated"))?;
            let invalid: Vec<Line> = diesel::sql_query(
                "SELECT format('index %s is invalid (a failed CREATE INDEX CONCURRENTLY?): REINDEX it', i.indexrelid::regclass) AS line \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE NOT i.indisvalid AND n.nspname = current_schema()",
            )
            .load(conn)
            .map_err(BackupError::query("listing invalid indexes"))?;
            Ok(unvalidated
                .into_iter()
                .chain(invalid)
                .map(|l| l.line)
                .collect())
        }
    }
}

/// Rows whose foreign key points at no parent (possible where the engine did not enforce it).
fn orphans(conn: &mut DbConnection, fks: &[ForeignKey]) -> Result<Vec<Orphans>, BackupError> {
    let mut found = Vec::new();
    for fk in fks {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {c} x WHERE x.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {p} y WHERE y.{pc} = x.{col})",
            c = q(&fk.child),
            col = q(&fk.col),
            p = q(&fk.parent),
            pc = q(&fk.parent_col)
        );
        let n = diesel::sql_query(sql)
            .get_result::<Count>(conn)
            .map_err(BackupError::query(format!(
                "counting orphans of {}.{}",
                fk.child, fk.col
            )))?
            .n;
        if n > 0 {
            found.push(Orphans {
                table: fk.child.clone(),
                column: fk.col.clone(),
                parent: fk.parent.clone(),
                rows: n,
            });
        }
    }
    Ok(found)
}

fn newest_snapshot(conn: &mut DbConnection) -> Result<Option<NaiveDate>, BackupError> {
    use diesel::dsl::max;
    use diesel::QueryDsl;
    use pf_data::schema::asset_snapshots::dsl as s;
    if !hash::table_exists(conn, "asset_snapshots")? {
        return Ok(None);
    }
    s::asset_snapshots
        .select(max(s::snapshot_date))
        .first::<Option<NaiveDate>>(conn)
        .map_err(BackupError::query("reading the newest asset snapshot"))
}
