//! Everything a database holds, as text: `pg_dump` of a PostgreSQL database, the catalog
//! (`sqlite_master`, `PRAGMA user_version`) of a SQLite one. Diesel's version table and this
//! project's `__pf_*` bookkeeping are left out: they are not the schema a history builds.

use db_conn::introspect::{BOOKKEEPING_PREFIX, DIESEL_TABLE};
use db_conn::DbConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};
use xshell::{cmd, Shell};

use super::{normalize_for_compare, normalize_sql};

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("pg_dump is not installed ({0}): install the PostgreSQL client (e.g. apt-get install postgresql-client)")]
    Missing(String),
    #[error(
        "pg_dump {client} is older than the server ({server}): install postgresql-client-{server}"
    )]
    TooOld { client: u32, server: u32 },
    #[error("pg_dump failed: {0}")]
    Failed(String),
    #[error("dumping a PostgreSQL database needs its URL")]
    NoUrl,
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// pg_dump refuses servers newer than itself: says so before trying.
pub fn check_pg_dump(sh: &Shell, conn: &mut DbConnection) -> Result<(), DumpError> {
    let server: Setting =
        diesel::sql_query("SELECT current_setting('server_version_num') AS value")
            .get_result(conn)?;
    let server = server.value.parse::<u32>().unwrap_or(0) / 10_000;
    let version = cmd!(sh, "pg_dump --version")
        .quiet()
        .read()
        .map_err(|e| DumpError::Missing(e.to_string()))?;
    let client: u32 = version
        .split_whitespace()
        .find_map(|w| w.split('.').next().and_then(|m| m.parse().ok()))
        .unwrap_or(0);
    if client < server {
        return Err(DumpError::TooOld { client, server });
    }
    Ok(())
}

/// `pg_dump --no-owner --no-privileges` of the database at `url` (comments kept, bookkeeping
/// tables left out) with `extra` options. The password goes through `PGPASSWORD`, never the
/// command line; time zone UTC, so timestamps print as a UTC session reads them.
pub fn pg_dump(sh: &Shell, url: &str, extra: &[&str]) -> Result<String, DumpError> {
    let (url, password) = db_conn::split_password(url);
    let exclude = [
        format!("--exclude-table={DIESEL_TABLE}"),
        format!("--exclude-table={BOOKKEEPING_PREFIX}*"),
    ];
    let mut command = cmd!(
        sh,
        "pg_dump --no-owner --no-privileges {exclude...} {extra...} --dbname {url}"
    )
    .quiet()
    .ignore_status()
    .env("PGTZ", "UTC");
    if let Some(p) = password {
        command = command.env("PGPASSWORD", p);
    }
    let out = command
        .output()
        .map_err(|e| DumpError::Missing(e.to_string()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(DumpError::Failed(db_conn::redact_urls_in(stderr.trim())));
    }
    String::from_utf8(out.stdout).map_err(|e| DumpError::Failed(e.to_string()))
}

/// The whole schema of the database at `url`: every object, attribute and comment.
pub fn pg_schema(sh: &Shell, url: &str) -> Result<String, DumpError> {
    pg_dump(sh, url, &["--schema-only"])
}

#[derive(QueryableByName)]
struct Entry {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct UserVersion {
    #[diesel(sql_type = Integer)]
    user_version: i32,
}

/// Every `sqlite_master` entry (tables, virtual tables and their shadow tables, indexes,
/// views, triggers) but SQLite's internals and the bookkeeping, one line each,
/// whitespace-normalized and sorted (creation order is not schema), and `PRAGMA
/// user_version`.
pub fn sqlite_schema(conn: &mut DbConnection) -> Result<Vec<String>, DumpError> {
    let entries: Vec<Entry> = diesel::sql_query(
        "SELECT type AS kind, name, tbl_name AS table_name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND tbl_name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND tbl_name <> ? AND tbl_name NOT LIKE ? ESCAPE '\\'",
    )
    .bind::<Text, _>(DIESEL_TABLE)
    .bind::<Text, _>(format!("{}%", BOOKKEEPING_PREFIX.replace('_', "\\_")))
    .load(conn)?;
    let mut lines: Vec<String> = entries
        .into_iter()
        .map(|e| {
            let sql = e.sql.map_or_else(String::new, |s| normalize_sql(&s));
            format!("{} {} ON {}: {sql}", e.kind, e.name, e.table_name)
        })
        .collect();
    lines.sort();
    let version: UserVersion =
        diesel::sql_query("SELECT user_version FROM pragma_user_version").get_result(conn)?;
    lines.push(format!("PRAGMA user_version = {}", version.user_version));
    Ok(lines)
}

/// Everything the database `conn` holds, as the statement lines a proof compares:
/// [`normalize_for_compare`] of its pg_dump (`url` is the same database's URL), or
/// [`sqlite_schema`].
pub fn whole_schema(
    sh: &Shell,
    conn: &mut DbConnection,
    url: Option<&str>,
) -> Result<Vec<String>, DumpError> {
    match conn {
        DbConnection::Sqlite(_) => sqlite_schema(conn),
        DbConnection::Pg(_) => {
            let url = url.ok_or(DumpError::NoUrl)?;
            Ok(normalize_for_compare(&pg_schema(sh, url)?))
        }
    }
}
