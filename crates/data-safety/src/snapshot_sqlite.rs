//! SQLite: the online snapshot (`VACUUM INTO`, consistent while the service keeps writing),
//! the engine's own checks, and the two atomic ways to put a verified copy in place.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::{fault, store, BackupError};
use db_conn::DbConnection;

use db_conn::sql::{ident, literal};

fn utf8(path: &Path) -> Result<&str, BackupError> {
    path.to_str().ok_or_else(|| {
        BackupError::Refused(format!(
            "the path {} is not UTF-8: SQLite is given paths as text; use a UTF-8 path",
            path.display()
        ))
    })
}

/// Writes a consistent copy of the open database to `dest` (which must not exist). Runs in
/// its own read transaction, so writers keep going; it cannot run inside a transaction.
pub fn vacuum_into(conn: &mut SqliteConnection, dest: &Path) -> Result<(), BackupError> {
    conn.batch_execute(&format!("VACUUM INTO {}", literal(utf8(dest)?)))
        .map_err(BackupError::query(format!(
            "writing the snapshot {} (VACUUM INTO)",
            dest.display()
        )))
}

/// Opens an existing file as it is: no pragma written, nothing created.
pub fn open_existing(path: &Path) -> Result<SqliteConnection, BackupError> {
    if !path.is_file() {
        return Err(BackupError::Refused(format!(
            "{} does not exist",
            path.display()
        )));
    }
    let mut conn = SqliteConnection::establish(utf8(path)?).map_err(|e| {
        BackupError::Db(db_conn::DbError::Connect {
            target: path.display().to_string(),
            reason: e.to_string(),
        })
    })?;
    conn.batch_execute("PRAGMA busy_timeout = 10000")
        .map_err(BackupError::query("opening the snapshot"))?;
    Ok(conn)
}

/// A read-only in-memory database holding the database file image `bytes` (nothing on disk).
/// An image in WAL mode is read as a rollback-journal one (header bytes 18-19): an in-memory
/// database has no WAL, and the pages are the same.
pub fn open_in_memory(mut bytes: Vec<u8>) -> Result<SqliteConnection, BackupError> {
    if bytes.len() >= 20 && bytes[18] == 2 && bytes[19] == 2 {
        bytes[18] = 1;
        bytes[19] = 1;
    }
    let mut conn = SqliteConnection::establish(":memory:").map_err(|e| {
        BackupError::Db(db_conn::DbError::Connect {
            target: ":memory:".into(),
            reason: e.to_string(),
        })
    })?;
    conn.deserialize_readonly_database_from_buffer(&bytes)
        .map_err(BackupError::query("loading the snapshot into memory"))?;
    Ok(conn)
}

#[derive(diesel::QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

pub fn version(conn: &mut SqliteConnection) -> String {
    diesel::sql_query("SELECT sqlite_version() AS v")
        .get_result::<One>(conn)
        .map(|r| format!("SQLite {}", r.v))
        .unwrap_or_else(|_| "SQLite".into())
}

#[derive(diesel::QueryableByName)]
struct FkViolation {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    row_id: Option<i64>,
    #[diesel(sql_type = Text)]
    parent: String,
}

/// `PRAGMA integrity_check` and `foreign_key_check`: one line per problem, empty when sound.
pub fn engine_checks(conn: &mut SqliteConnection) -> Result<Vec<String>, BackupError> {
    let mut problems = Vec::new();
    let integrity: Vec<One> =
        diesel::sql_query("SELECT integrity_check AS v FROM pragma_integrity_check")
            .load(conn)
            .map_err(BackupError::query("running PRAGMA integrity_check"))?;
    problems.extend(
        integrity
            .into_iter()
            .filter(|r| r.v != "ok")
            .map(|r| format!("integrity_check: {}", r.v)),
    );
    let fks: Vec<FkViolation> = diesel::sql_query(
        "SELECT \"table\" AS tbl, rowid AS row_id, parent FROM pragma_foreign_key_check",
    )
    .load(conn)
    .map_err(BackupError::query("running PRAGMA foreign_key_check"))?;
    problems.extend(fks.into_iter().map(|v| {
        format!(
            "foreign_key_check: {} row {} points at a missing {} row",
            v.tbl,
            v.row_id.map_or("?".into(), |r| r.to_string()),
            v.parent
        )
    }));
    Ok(problems)
}

/// Copies `src` to `dest` (0600, fsynced).
pub fn copy_private(src: &Path, dest: &Path) -> Result<(), BackupError> {
    let _ = std::fs::remove_file(dest);
    let mut out = store::create_private_file(dest)?;
    let mut input = std::fs::File::open(src).map_err(BackupError::io("read", src))?;
    std::io::copy(&mut input, &mut out).map_err(BackupError::io("write", dest))?;
    out.sync_all().map_err(BackupError::io("fsync", dest))
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether another connection has the database open: closing the last connection of a WAL
/// database removes its `-wal` and `-shm` files, so after our own close they remain only if
/// someone else holds it.
pub fn in_use_after_checkpoint(db: &Path) -> Result<bool, BackupError> {
    if !db.exists() {
        return Ok(false);
    }
    {
        let mut conn = open_existing(db)?;
        // Fold the WAL into the file, so the file alone is the whole database.
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)") {
            let text = e.to_string();
            // A file SQLite cannot read at all is in use by nobody; anything else (busy, ...)
            // is an error the caller treats as "in use".
            if text.contains("not a database") || text.contains("malformed") {
                return Ok(false);
            }
            return Err(BackupError::query("checkpointing the database")(e));
        }
    }
    Ok(sidecar(db, "-wal").exists() || sidecar(db, "-shm").exists())
}

/// Gives `staged` the database file's permissions and owner, so the file that replaces it is
/// readable by whoever could read it before; false when the owner cannot be given (then the
/// content is replaced in place instead).
pub fn same_owner_and_mode(db: &Path, staged: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(db) else {
        return true;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(ours) = std::fs::metadata(staged) else {
            return false;
        };
        if (ours.uid(), ours.gid()) != (meta.uid(), meta.gid())
            && std::os::unix::fs::chown(staged, Some(meta.uid()), Some(meta.gid())).is_err()
        {
            return false;
        }
    }
    std::fs::set_permissions(staged, meta.permissions()).is_ok()
}

/// Removes `-wal` and `-shm` files nobody holds (a crashed process's, of a database that
/// could not be opened to recover them): they must never be applied to the file that
/// replaces it.
pub fn remove_sidecars(db: &Path) -> Result<(), BackupError> {
    for suffix in ["-wal", "-shm"] {
        let side = sidecar(db, suffix);
        if side.exists() {
            std::fs::remove_file(&side).map_err(BackupError::io("remove", &side))?;
        }
    }
    Ok(())
}

/// Replaces the database file by `staged` (a verified copy in the same folder) with one
/// rename: a kill before it leaves the old file, after it the new one. Only when no other
/// process has the database open (see [`in_use_after_checkpoint`]).
pub fn replace_by_rename(db: &Path, staged: &Path) -> Result<(), BackupError> {
    store::fsync_file(staged)?;
    fault::pause(fault::FaultPoint::RestoreBeforeSwap);
    std::fs::rename(staged, db).map_err(BackupError::io("rename the restored copy over", db))?;
    store::fsync_dir(db.parent().unwrap_or(Path::new(".")))
}

#[derive(diesel::QueryableByName)]
struct Object {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

/// Replaces the whole content of the open database by `staged`'s in one transaction: every
/// table, index, view and trigger dropped and recreated from the copy, every row copied, the
/// AUTOINCREMENT counters too. Other connections wait on the lock and then see the new
/// content; a kill before COMMIT leaves the old content (the WAL discards the transaction).
pub fn replace_in_transaction(conn: &mut DbConnection, staged: &Path) -> Result<(), BackupError> {
    let DbConnection::Sqlite(conn) = conn else {
        return Err(BackupError::Refused("not a SQLite database".into()));
    };
    // Outside the transaction: SQLite ignores this pragma inside one.
    conn.batch_execute("PRAGMA foreign_keys = OFF")
        .map_err(step("foreign_keys"))?;
    conn.batch_execute(&format!(
        "ATTACH DATABASE {} AS pf_restore_src",
        literal(utf8(staged)?)
    ))
    .map_err(step("attaching the verified copy"))?;
    let result = conn
        .batch_execute("BEGIN IMMEDIATE")
        .map_err(step("BEGIN IMMEDIATE"))
        .and_then(|()| {
            let work = replace_schema_and_rows(conn).and_then(|()| {
                fault::pause(fault::FaultPoint::RestoreBeforeCommit);
                conn.batch_execute("COMMIT").map_err(step("COMMIT"))
            });
            if work.is_err() {
                let _ = conn.batch_execute("ROLLBACK");
            }
            work
        });
    let _ = conn.batch_execute("DETACH DATABASE pf_restore_src");
    let _ = conn.batch_execute("PRAGMA foreign_keys = ON");
    result
}

fn step(what: &str) -> impl FnOnce(diesel::result::Error) -> BackupError {
    BackupError::query(format!("restoring in one transaction: {what}"))
}

/// Inside the open transaction: drops every table and view of `main`, recreates the copy's
/// schema, copies every row and the AUTOINCREMENT counters, and checks the foreign keys.
fn replace_schema_and_rows(conn: &mut SqliteConnection) -> Result<(), BackupError> {
    let old: Vec<Object> = diesel::sql_query(
        "SELECT type AS kind, name, sql FROM main.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'",
    )
    .load(conn)
    .map_err(step("listing the current tables"))?;
    for o in &old {
        let kind = if o.kind == "view" { "VIEW" } else { "TABLE" };
        conn.batch_execute(&format!("DROP {kind} IF EXISTS main.{}", ident(&o.name)))
            .map_err(step(&format!("dropping {}", o.name)))?;
    }
    let new: Vec<Object> = diesel::sql_query(
        "SELECT type AS kind, name, sql FROM pf_restore_src.sqlite_master \
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid",
    )
    .load(conn)
    .map_err(step("reading the copy's schema"))?;
    for o in &new {
        conn.batch_execute(o.sql.as_deref().unwrap_or_default())
            .map_err(step(&format!("creating {} {}", o.kind, o.name)))?;
    }
    for o in new.iter().filter(|o| o.kind == "table") {
        conn.batch_execute(&format!(
            "INSERT INTO main.{0} SELECT * FROM pf_restore_src.{0}",
            ident(&o.name)
        ))
        .map_err(step(&format!("copying the rows of {}", o.name)))?;
    }
    copy_sequences(conn)?;
    let fks: Vec<FkViolation> = diesel::sql_query(
        "SELECT \"table\" AS tbl, rowid AS row_id, parent FROM pragma_foreign_key_check",
    )
    .load(conn)
    .map_err(step("foreign_key_check"))?;
    match fks.first() {
        Some(v) => Err(BackupError::Refused(format!(
            "the restored rows break a foreign key ({} points at a missing {} row): nothing was changed",
            v.tbl, v.parent
        ))),
        None => Ok(()),
    }
}

/// The AUTOINCREMENT counters, when both databases keep them.
fn copy_sequences(conn: &mut SqliteConnection) -> Result<(), BackupError> {
    let has_sequence = |conn: &mut SqliteConnection, schema: &str| {
        diesel::sql_query(format!(
            "SELECT name AS v FROM {schema}.sqlite_master WHERE name = 'sqlite_sequence'"
        ))
        .load::<One>(conn)
        .map(|r| !r.is_empty())
    };
    if has_sequence(conn, "pf_restore_src").map_err(step("sqlite_sequence"))?
        && has_sequence(conn, "main").map_err(step("sqlite_sequence"))?
    {
        conn.batch_execute(
            "DELETE FROM main.sqlite_sequence; INSERT INTO main.sqlite_sequence SELECT * FROM pf_restore_src.sqlite_sequence",
        )
        .map_err(step("copying the AUTOINCREMENT counters"))?;
    }
    Ok(())
}
