//! Integration tests on SQLite and PostgreSQL (`TestDb::each`): each provider's sample file
//! imported with exact rows, re-imports that change nothing, malformed files that write
//! nothing, and syncs against local fake provider servers.

mod fake;
mod files;
mod malformed;
mod sync;

use std::collections::BTreeMap;

use db_conn::DbConnection;
use imports::{ImportReport, Source};

/// A fixture of the statements crate.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../statements/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn import(conn: &mut DbConnection, source: Source, bytes: &[u8]) -> ImportReport {
    imports::import_bytes(conn, source, bytes).unwrap_or_else(|e| panic!("{source}: {e}"))
}

fn counts(conn: &mut DbConnection) -> BTreeMap<&'static str, i64> {
    pf_data::counts::count_all(conn).unwrap()
}

/// `(added, updated, skipped)` of one table in a report.
fn table(report: &ImportReport, name: &str) -> (u64, u64, u64) {
    let c = report.per_table.get(name).copied().unwrap_or_default();
    (c.added, c.updated, c.skipped)
}
