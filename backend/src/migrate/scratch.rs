//! Scratch databases: a temporary SQLite file, or a temporary schema inside the connected
//! PostgreSQL database (no CREATE DATABASE privilege needed). Used to compute the schema a
//! history produces (drift), and to prove down.sql reverses up.sql.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{MigrateError, Migration};
use crate::config::DatabaseTarget;
use crate::db::introspect::SchemaSnapshot;
use crate::db::{self, DbConnection};

/// Runs `work` on an empty scratch database of the same backend as `conn`.
pub fn with_scratch<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    match conn {
        DbConnection::Sqlite(_) => {
            let dir = tempfile::tempdir().map_err(|e| MigrateError::Scratch(e.to_string()))?;
            let target = DatabaseTarget::sqlite(dir.path().join("scratch.db"));
            let mut scratch =
                db::establish(&target).map_err(|e| MigrateError::Scratch(e.to_string()))?;
            work(&mut scratch)
        }
        DbConnection::Pg(_) => {
            let schema = format!(
                "pf_scratch_{}_{}",
                std::process::id(),
                chrono::Utc::now()
                    .timestamp_nanos_opt()
                    .unwrap_or_default()
                    .rem_euclid(1_000_000_000)
            );
            // Everything happens in one transaction that is always rolled back: the scratch
            // schema never becomes visible, and a killed process leaves nothing behind in the
            // (possibly live) database.
            let mut output = None;
            let outcome = conn.transaction::<(), MigrateError, _>(|c| {
                c.batch_execute(&format!(
                    "CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema}"
                ))?;
                output = Some(work(c)?);
                Err(MigrateError::Scratch("rolled back on purpose".into()))
            });
            match (output, outcome) {
                (Some(value), _) => Ok(value),
                (None, Err(e)) => Err(e),
                (None, Ok(())) => unreachable!("the scratch transaction always rolls back"),
            }
        }
    }
}

/// Runs each migration's up.sql, each in its own transaction when it asks for one.
pub fn run_ups(conn: &mut DbConnection, migrations: &[&Migration]) -> Result<(), MigrateError> {
    for m in migrations {
        run_one(conn, m, &m.up)?;
    }
    Ok(())
}

pub fn run_one(conn: &mut DbConnection, m: &Migration, sql: &str) -> Result<(), MigrateError> {
    let fail = |e: diesel::result::Error| MigrateError::Failed {
        folder: m.folder.clone(),
        message: e.to_string(),
    };
    if m.run_in_transaction {
        conn.transaction(|c| c.batch_execute(sql)).map_err(fail)
    } else {
        conn.batch_execute(sql).map_err(fail)
    }
}

/// The schema `migrations` produce on an empty database of `conn`'s backend.
pub fn schema_of(
    conn: &mut DbConnection,
    migrations: &[&Migration],
) -> Result<SchemaSnapshot, MigrateError> {
    with_scratch(conn, |scratch| {
        run_ups(scratch, migrations)?;
        Ok(SchemaSnapshot::capture(scratch)?)
    })
}

/// Differences between the live schema and the one its applied history produces.
pub fn drift(conn: &mut DbConnection, applied: &[&Migration]) -> Result<Vec<String>, MigrateError> {
    let live = SchemaSnapshot::capture(conn)?;
    let expected = schema_of(conn, applied)?;
    Ok(live.diff_labeled(&expected, "the live database", "the migration history"))
}

/// For each migration: up, snapshot, down, snapshot must equal the state before. Returns the
/// folders whose down does not reverse their up, with the differences.
pub fn check_reversible(
    conn: &mut DbConnection,
    migrations: &[&Migration],
) -> Result<Vec<String>, MigrateError> {
    with_scratch(conn, |scratch| {
        let mut problems = Vec::new();
        // A migration whose SQL fails is a defect of the history, reported as such with what was
        // found before it. A failed transactional down.sql was rolled back to its savepoint, so
        // the later migrations are still checked; any other failure ends the probe there,
        // since what follows depends on it.
        let failed = |m: &Migration, what: &str, e: MigrateError| {
            let reason = match e {
                MigrateError::Failed { message, .. } => message,
                other => other.to_string(),
            };
            format!("{}: {what} fails: {reason}", m.folder)
        };
        for m in migrations {
            let before = SchemaSnapshot::capture(scratch)?;
            if let Err(e) = run_one(scratch, m, &m.up) {
                problems.push(failed(m, "up.sql", e));
                break;
            }
            let Some(down) = &m.down else {
                problems.push(format!("{}: no down.sql", m.folder));
                continue;
            };
            let after_up = SchemaSnapshot::capture(scratch)?;
            if let Err(e) = run_one(scratch, m, down) {
                problems.push(failed(m, "down.sql", e));
                if m.run_in_transaction {
                    continue;
                }
                break;
            }
            let diff = before.diff_labeled(
                &SchemaSnapshot::capture(scratch)?,
                "before up",
                "after up+down",
            );
            if !diff.is_empty() {
                problems.push(format!(
                    "{}: down.sql does not reverse up.sql: {}",
                    m.folder,
                    diff.join("; ")
                ));
            }
            if let Err(e) = run_one(scratch, m, &m.up) {
                problems.push(failed(
                    m,
                    "up.sql run again after down.sql (down.sql leaves something behind)",
                    e,
                ));
                break;
            }
            if SchemaSnapshot::capture(scratch)? != after_up {
                problems.push(format!(
                    "{}: up.sql gives a different schema the second time",
                    m.folder
                ));
            }
        }
        Ok(problems)
    })
}
