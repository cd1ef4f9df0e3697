//! Scratch databases: a temporary SQLite file, or a temporary PostgreSQL database created on
//! the server (and dropped afterwards). Scratch work never runs inside the database it is
//! about: a live database is only read. Used to compute the schema a history produces (drift),
//! to prove down.sql reverses up.sql, and to prove a baseline equals its chain.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::{MigrateError, Migration};
use db_conn::introspect::SchemaSnapshot;
use db_conn::scratch::ScratchDatabase;
use db_conn::DatabaseTarget;
use db_conn::{self as db, DbConnection};

/// Where scratch databases are made.
#[derive(Clone, PartialEq, Eq)]
pub enum ScratchPlace {
    /// A new SQLite file in a temporary folder.
    Sqlite,
    /// A new database on the PostgreSQL server this admin URL connects to (needs CREATEDB).
    Postgres { server: String },
}

impl std::fmt::Debug for ScratchPlace {
    // The server URL holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite => f.write_str("Sqlite"),
            Self::Postgres { server } => write!(f, "Postgres({})", db_conn::redact_url(server)),
        }
    }
}

impl ScratchPlace {
    /// Beside `target`: a SQLite file for a SQLite target, a database on the same server for
    /// a PostgreSQL one.
    pub fn beside(target: &DatabaseTarget) -> Self {
        match target {
            DatabaseTarget::Sqlite { .. } => Self::Sqlite,
            DatabaseTarget::Postgres { url } => Self::Postgres {
                server: url.clone(),
            },
        }
    }
}

/// Runs `work` on a new, empty scratch database at `place`, removed afterwards.
pub fn with_scratch<T>(
    place: &ScratchPlace,
    work: impl FnOnce(&mut DbConnection) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    let scratch_error = |e: &dyn std::fmt::Display| MigrateError::Scratch(e.to_string());
    match place {
        ScratchPlace::Sqlite => {
            let dir = tempfile::tempdir().map_err(|e| scratch_error(&e))?;
            let target = DatabaseTarget::sqlite(dir.path().join("scratch.db"));
            let mut scratch = db::establish(&target).map_err(|e| scratch_error(&e))?;
            work(&mut scratch)
        }
        ScratchPlace::Postgres { server } => {
            let database =
                ScratchDatabase::create(server, "scratch").map_err(|e| scratch_error(&e))?;
            let mut scratch = db::establish(&database.target).map_err(|e| scratch_error(&e))?;
            let out = work(&mut scratch);
            // The connection must close before the database can be dropped.
            drop(scratch);
            drop(database);
            out
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

/// The schema `migrations` produce on an empty database at `place`.
pub fn schema_of(
    place: &ScratchPlace,
    migrations: &[&Migration],
) -> Result<SchemaSnapshot, MigrateError> {
    with_scratch(place, |scratch| {
        run_ups(scratch, migrations)?;
        Ok(SchemaSnapshot::capture(scratch)?)
    })
}

/// Differences between the live schema and the one its applied history produces (built in a
/// scratch database at `place`; the live one is only read).
pub fn drift(
    conn: &mut DbConnection,
    place: &ScratchPlace,
    applied: &[&Migration],
) -> Result<Vec<String>, MigrateError> {
    let live = SchemaSnapshot::capture(conn)?;
    let expected = schema_of(place, applied)?;
    Ok(live.diff_labeled(&expected, "the live database", "the migration history"))
}

/// For each migration: up, snapshot, down, snapshot must equal the state before, and up again
/// must give the same schema. Returns every migration whose down does not reverse its up, with
/// the differences. When a probe leaves the scratch database unusable (a down.sql that cannot
/// be undone, an up.sql that fails the second time), the probe goes on from a new scratch
/// database built up to that migration, so one defect does not hide the next.
pub fn check_reversible(
    place: &ScratchPlace,
    migrations: &[&Migration],
) -> Result<Vec<String>, MigrateError> {
    let mut problems = Vec::new();
    let mut start = 0;
    while start < migrations.len() {
        let resume = with_scratch(place, |scratch| {
            if run_ups(scratch, &migrations[..start]).is_err() {
                return Ok(None); // the chain itself does not build again: reported already
            }
            probe(scratch, &migrations[start..], &mut problems)
        })?;
        match resume {
            Some(next) => start += next,
            None => break,
        }
    }
    Ok(problems)
}

/// Probes `migrations` in order on `scratch`. Returns where to go on from (an index into
/// `migrations`) when the database became unusable, None when done or when nothing after can
/// run (an up.sql that fails).
fn probe(
    scratch: &mut DbConnection,
    migrations: &[&Migration],
    problems: &mut Vec<String>,
) -> Result<Option<usize>, MigrateError> {
    // A migration whose SQL fails is a defect of the history, reported as such.
    let failed = |m: &Migration, what: &str, e: MigrateError| {
        let reason = match e {
            MigrateError::Failed { message, .. } => message,
            other => other.to_string(),
        };
        format!("{}: {what} fails: {reason}", m.folder)
    };
    for (i, m) in migrations.iter().enumerate() {
        let before = SchemaSnapshot::capture(scratch)?;
        if let Err(e) = run_one(scratch, m, &m.up) {
            problems.push(failed(m, "up.sql", e));
            return Ok(None);
        }
        let Some(down) = &m.down else {
            problems.push(format!("{}: no down.sql", m.folder));
            continue;
        };
        let after_up = SchemaSnapshot::capture(scratch)?;
        if let Err(e) = run_one(scratch, m, down) {
            problems.push(failed(m, "down.sql", e));
            // A failed transactional down.sql was rolled back: the database is at after-up.
            if m.run_in_transaction {
                continue;
            }
            return Ok(Some(i + 1));
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
            return Ok(Some(i + 1));
        }
        if SchemaSnapshot::capture(scratch)? != after_up {
            problems.push(format!(
                "{}: up.sql gives a different schema the second time",
                m.folder
            ));
        }
    }
    Ok(None)
}
