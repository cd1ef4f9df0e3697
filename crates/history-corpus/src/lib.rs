//! Generated, deliberately hard diesel migration histories for the engine's tests: hundreds of
//! migrations that use every kind of object a real PostgreSQL or SQLite history holds, with
//! the quirks real projects have (diesel's own first migration, mixed version formats,
//! kebab-case and one-word names, a last statement without `;` followed by comments, `public.`
//! qualification, a migration outside a transaction). Every down.sql reverses its up.sql
//! exactly, so a history applied and then reverted leaves an empty schema.
//!
//! Deterministic: the same `n` always writes the same files, so a failure names a migration
//! that can be regenerated and read.

mod normalize;
mod pg_objects;
mod pg_quirks;
mod pg_tables;
mod sqlite;
mod sqlite_objects;

use std::path::Path;

pub use normalize::{normalize_pg_dump, pg_schema_dump, sqlite_schema_text, BOOKKEEPING_TABLES};
pub use pg_quirks::DIESEL_SETUP_UP;

/// One migration before it gets its version.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub name: String,
    pub up: String,
    pub down: String,
    /// diesel's `metadata.toml` with `run_in_transaction = false`.
    pub outside_transaction: bool,
    /// Statements that put one row in each table this step creates, valid at any later point
    /// of the history (they name only columns no later step drops, renames or narrows).
    pub fill: String,
}

impl Step {
    pub fn new(name: impl Into<String>, up: impl Into<String>, down: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            up: up.into(),
            down: down.into(),
            outside_transaction: false,
            fill: String::new(),
        }
    }

    pub fn fill(mut self, sql: impl Into<String>) -> Self {
        self.fill = sql.into();
        self
    }
}

/// What a generator wrote.
#[derive(Debug, Clone)]
pub struct History {
    /// The migration folders, oldest first (the order diesel runs them).
    pub folders: Vec<String>,
    /// SQL that puts at least one row in every table of the head schema (run after the whole
    /// history; parents before children).
    pub fill_sql: String,
}

impl History {
    /// The first folder whose up.sql contains `needle`, for tests that break one migration
    /// on purpose.
    pub fn folder_containing(&self, dir: &Path, needle: &str) -> Option<String> {
        self.folders.iter().find_map(|f| {
            let up = std::fs::read_to_string(dir.join(f).join("up.sql")).ok()?;
            up.contains(needle).then(|| f.clone())
        })
    }
}

/// Writes a PostgreSQL history of exactly `n` migrations into `dir`, a plain diesel tree.
/// From n = 110 on every object kind is there at least once; the tests use 300 and more.
pub fn postgres_history(dir: &Path, n: usize) -> std::io::Result<History> {
    let mut steps = pg_quirks::opening();
    let mut unit = 0;
    while steps.len() < n {
        steps.extend(pg_tables::unit(unit));
        steps.extend(pg_objects::unit(unit));
        unit += 1;
    }
    write(dir, steps, n)
}

/// Writes a SQLite history of exactly `n` migrations into `dir`, a plain diesel tree.
/// From n = 58 on every object kind is there at least once; the tests use 300.
pub fn sqlite_history(dir: &Path, n: usize) -> std::io::Result<History> {
    let mut steps = sqlite::opening();
    let mut unit = 0;
    while steps.len() < n {
        steps.extend(sqlite::unit(unit));
        steps.extend(sqlite_objects::unit(unit));
        unit += 1;
    }
    write(dir, steps, n)
}

/// Puts rows in every table of a database migrated to the head of `history`.
pub fn fill_rows(conn: &mut db_conn::DbConnection, history: &History) -> diesel::QueryResult<()> {
    diesel::connection::SimpleConnection::batch_execute(conn, &history.fill_sql)
}

fn write(dir: &Path, mut steps: Vec<Step>, n: usize) -> std::io::Result<History> {
    steps.truncate(n);
    let mut folders = Vec::with_capacity(n);
    let mut fill_sql = String::new();
    for (i, step) in steps.iter().enumerate() {
        let folder = if i == 0 && step.name == "diesel_initial_setup" {
            "00000000000000_diesel_initial_setup".to_owned()
        } else {
            format!("{}_{}", version(i), step.name)
        };
        let d = dir.join(&folder);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("up.sql"), &step.up)?;
        std::fs::write(d.join("down.sql"), &step.down)?;
        if step.outside_transaction {
            std::fs::write(d.join("metadata.toml"), "run_in_transaction = false\n")?;
        }
        fill_sql.push_str(&step.fill);
        folders.push(folder);
    }
    Ok(History { folders, fill_sql })
}

/// The version of migration `i`: one minute apart from 2020-01-01, in diesel's three formats
/// in turn (`YYYY-MM-DD-HHMMSS`, 2.2's `YYYY-MM-DD-HHMMSS-0000`, `YYYYMMDDHHMMSS`). All of
/// them order by their first 14 digits, which strictly increase.
fn version(i: usize) -> String {
    let minute = i % 60;
    let hour = (i / 60) % 24;
    let day = 1 + (i / (60 * 24)) % 28;
    let month = 1 + (i / (60 * 24 * 28)) % 12;
    let year = 2020 + i / (60 * 24 * 28 * 12);
    match i % 3 {
        0 => format!("{year:04}-{month:02}-{day:02}-{hour:02}{minute:02}00"),
        1 => format!("{year:04}-{month:02}-{day:02}-{hour:02}{minute:02}00-0000"),
        _ => format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}00"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_order_as_diesel_orders_them() {
        let versions: Vec<String> = (0..5000)
            .map(|i| super::version(i).replace('-', ""))
            .collect();
        let mut sorted = versions.clone();
        sorted.sort();
        assert_eq!(versions, sorted);
    }
}
