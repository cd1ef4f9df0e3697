//! The migration lock, taken before the plan is computed so concurrent migrators apply each
//! version exactly once. PostgreSQL: a session advisory lock, polled until a deadline (the
//! server drops it when the holder dies). SQLite: `BEGIN IMMEDIATE` held for the whole run
//! (the OS releases it when the holder dies) plus a row naming the owner, for `status`.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use crate::history::{self, LOCK_TABLE};
use crate::MigrateError;
use db_conn::DbConnection;

/// Fixed advisory-lock key for this application's migrations.
pub const PG_LOCK_KEY: i64 = 0x7066_6d69_6772_6174; // "pfmigrat"
/// How long a migrator waits for another by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(120);
const SQLITE_DEFAULT_BUSY_MS: u128 = 10_000;

/// The lock statements, written once: [`with_lock`] runs them and `sql` prints them.
pub mod statements {
    use super::{history, LOCK_TABLE, PG_LOCK_KEY};

    /// PostgreSQL: the tool polls this against a deadline.
    pub fn pg_try_acquire() -> String {
        format!("SELECT pg_try_advisory_lock({PG_LOCK_KEY})")
    }

    /// PostgreSQL: a printed script cannot poll, so it waits on the same key.
    pub fn pg_acquire_waiting() -> String {
        format!("SELECT pg_advisory_lock({PG_LOCK_KEY})")
    }

    pub fn pg_release() -> String {
        format!("SELECT pg_advisory_unlock({PG_LOCK_KEY})")
    }

    /// SQLite: the owner row (so `status` can name the holder), then the write lock.
    pub fn sqlite_acquire(owner: &str) -> [String; 2] {
        [
            format!(
                "INSERT OR REPLACE INTO {LOCK_TABLE} (id, owner, acquired_at) VALUES (1, {}, CURRENT_TIMESTAMP)",
                history::quote(owner)
            ),
            "BEGIN IMMEDIATE".to_owned(),
        ]
    }

    pub fn sqlite_release() -> [String; 2] {
        [format!("DELETE FROM {LOCK_TABLE}"), "COMMIT".to_owned()]
    }
}

/// "host:pid tool", recorded as the lock owner and in the checksum table.
pub fn owner_id(tool: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{host}:{} {tool}", std::process::id())
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    ok: bool,
}

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = Nullable<Text>)]
    holder: Option<String>,
}

/// Runs `work` while holding the migration lock; waits up to `wait` for it.
pub fn with_lock<T>(
    conn: &mut DbConnection,
    owner: &str,
    wait: Duration,
    work: impl FnOnce(&mut DbConnection) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    match conn {
        DbConnection::Pg(_) => {
            let started = Instant::now();
            loop {
                let got: Flag =
                    diesel::sql_query(format!("{} AS ok", statements::pg_try_acquire()))
                        .get_result(conn)?;
                if got.ok {
                    break;
                }
                if started.elapsed() >= wait {
                    let holder = holder(conn)?.unwrap_or_else(|| "unknown session".into());
                    return Err(MigrateError::LockTimeout {
                        holder,
                        seconds: wait.as_secs(),
                    });
                }
                std::thread::sleep(
                    Duration::from_millis(100).min(wait.saturating_sub(started.elapsed())),
                );
            }
            let result = work(conn);
            let _ = conn.batch_execute(&statements::pg_release());
            result
        }
        DbConnection::Sqlite(_) => {
            conn.batch_execute(&format!("PRAGMA busy_timeout = {}", wait.as_millis()))?;
            let result = sqlite_locked(conn, owner, wait, work);
            let _ = conn.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_DEFAULT_BUSY_MS}"));
            result
        }
    }
}

fn sqlite_locked<T>(
    conn: &mut DbConnection,
    owner: &str,
    wait: Duration,
    work: impl FnOnce(&mut DbConnection) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    let busy = |conn: &mut DbConnection, e: diesel::result::Error| -> MigrateError {
        let text = e.to_string();
        if text.contains("locked") || text.contains("busy") {
            let holder = holder(conn)
                .ok()
                .flatten()
                .unwrap_or_else(|| "another connection writing".into());
            MigrateError::LockTimeout {
                holder,
                seconds: wait.as_secs(),
            }
        } else {
            e.into()
        }
    };
    for ddl in history::create_tables_sql(conn.backend()) {
        conn.batch_execute(&ddl).map_err(|e| busy(conn, e))?;
    }
    for sql in statements::sqlite_acquire(owner) {
        conn.batch_execute(&sql).map_err(|e| busy(conn, e))?;
    }
    let release = statements::sqlite_release().join("; ");
    match work(conn) {
        Ok(value) => {
            conn.batch_execute(&release)?;
            Ok(value)
        }
        Err(e) => {
            // A failed migration was already rolled back to its savepoint: commit the ones
            // before it, as PostgreSQL (one transaction per migration) would.
            if conn.batch_execute(&release).is_err() {
                let _ = conn.batch_execute("ROLLBACK");
                let _ = conn.batch_execute(&format!(
                    "DELETE FROM {LOCK_TABLE} WHERE owner = {}",
                    history::quote(owner)
                ));
            }
            Err(e)
        }
    }
}

/// True when `owner` ("host:pid ...") names a process on this host that no longer runs.
fn owner_is_dead(owner: &str) -> bool {
    let mine = owner_id("");
    let (Some((host, rest)), Some((my_host, _))) = (owner.split_once(':'), mine.split_once(':'))
    else {
        return false;
    };
    let pid = rest.split_whitespace().next().unwrap_or("");
    host == my_host && !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists()
}

/// Who holds the lock now, if anyone.
pub fn holder(conn: &mut DbConnection) -> Result<Option<String>, MigrateError> {
    match conn {
        DbConnection::Pg(_) => {
            let (class, obj) = (
                (PG_LOCK_KEY >> 32) as u32,
                (PG_LOCK_KEY & 0xffff_ffff) as u32,
            );
            let sql = format!(
                "SELECT (SELECT 'pid ' || a.pid || COALESCE(' from ' || host(a.client_addr), '') || ' since ' || a.backend_start::text \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = {class} AND l.objid::bigint = {obj} \
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1) AS holder"
            );
            let row: Holder = diesel::sql_query(sql).get_result(conn)?;
            Ok(row.holder)
        }
        DbConnection::Sqlite(_) => {
            if !history::table_exists(conn, LOCK_TABLE)? {
                return Ok(None);
            }
            let row: Holder = diesel::sql_query(format!(
                "SELECT (SELECT owner || ' since ' || acquired_at FROM {LOCK_TABLE} WHERE id = 1) AS holder"
            ))
            .get_result(conn)?;
            let Some(owner) = row.holder else {
                return Ok(None);
            };
            // The row alone may be stale (its writer was killed): a dead process on this host
            // holds nothing. Read-only, so `status` and `sql` can call it.
            Ok(Some(if owner_is_dead(&owner) {
                format!("nobody (stale record from {owner}, whose process is gone)")
            } else {
                owner
            }))
        }
    }
}
