//! `export` / `import` / `transfer`: a logical, backend-neutral copy of every row. An export
//! is a folder with one JSON Lines file per table (`<table>.jsonl`, one row per line, ids and
//! timestamps as stored, decimals as exact strings) and `manifest.json` (applied migrations,
//! per-table rows and content hashes). Both directions stream a page of rows at a time, so
//! memory does not grow with the table. `import` loads into an empty migrated database of
//! either backend, parents before children, in ONE transaction that also checks every table's
//! count and content hash before committing, and moves PostgreSQL's id sequences past the
//! imported ids.

use std::collections::BTreeMap;
use std::path::Path;

use diesel::connection::{Connection, SimpleConnection};
use serde::{Deserialize, Serialize};

use crate::hash;
use crate::manifest::TableDigest;
use crate::BackupError;
use db_conn::{self as db, DbConnection};
use db_conn::{Backend, DatabaseTarget};
use pf_data::migrations;
use pf_data::models::table_names;

pub const FORMAT: &str = "personalfinance-export/1";
pub const MANIFEST_FILE: &str = "manifest.json";
/// Rows per INSERT on import.
pub const BATCH: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportTable {
    pub file: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    pub format: String,
    pub created_at: String,
    pub backend: Backend,
    pub source: String,
    pub applied_versions: Vec<String>,
    /// Tables in import order (parents first).
    pub tables: BTreeMap<String, ExportTable>,
}

impl ExportManifest {
    pub fn read(dir: &Path) -> Result<Self, BackupError> {
        let bad = |reason: String| BackupError::BadManifest {
            path: dir.display().to_string(),
            reason,
        };
        let manifest: Self = crate::manifest::read_json(dir, "an export manifest")?;
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "format `{}`, this code reads `{FORMAT}`",
                manifest.format
            )));
        }
        Ok(manifest)
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.values().map(|t| t.rows).sum()
    }
}

/// Called as rows go by: (table, rows of that table so far).
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64);

fn check_tables(selected: Option<&[String]>) -> Result<(), BackupError> {
    let known = table_names();
    for t in selected.unwrap_or_default() {
        if !known.contains(&t.as_str()) {
            return Err(BackupError::Refused(format!(
                "there is no table `{t}`: the tables are {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Starts a read transaction that sees one commit point (SQLite's deferred transaction is a
/// snapshot once it reads; PostgreSQL needs REPEATABLE READ).
fn snapshot_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, BackupError>,
) -> Result<T, BackupError> {
    conn.transaction(|c| {
        if let DbConnection::Pg(_) = c {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        work(c)
    })
}

mod load;
mod write;

pub use load::{import, ImportReport};
pub use write::export;

/// Refuses a database with migrations still to apply (`what`: "source" or "target").
fn require_migrated(
    conn: &mut DbConnection,
    what: &'static str,
) -> Result<Vec<String>, BackupError> {
    let status = migrations::status(conn)?;
    if !status.pending.is_empty() {
        return Err(BackupError::Pending {
            what,
            pending: status.pending,
        });
    }
    Ok(status.applied)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReport {
    pub from: String,
    pub to: String,
    pub tables: usize,
    pub rows: u64,
    /// Every table's count and content hash, equal on both sides.
    pub digests: BTreeMap<String, TableDigest>,
}

/// Copies every row of `source` into `dest` (migrated first when it is new): an export into
/// `work_dir`, an import, then the destination's counts and hashes compared with the source's.
pub fn transfer(
    source: &DatabaseTarget,
    dest: &DatabaseTarget,
    work_dir: &Path,
    progress: Progress<'_>,
) -> Result<TransferReport, BackupError> {
    if source == dest {
        return Err(BackupError::Refused(
            "the source and the destination are the same database".into(),
        ));
    }
    let scratch = crate::verify::scratch_dir(work_dir)?;
    let folder = scratch.path().join("export");
    let manifest = export(source, &folder, None, progress)?;
    {
        let mut conn = db::establish(dest)?;
        migrations::run_pending(&mut conn)?;
    }
    import(dest, &folder, progress)?;
    let mut conn = db::establish(dest)?;
    let digests = snapshot_transaction(&mut conn, |c| Ok(hash::model_digests(c)?.0))?;
    let expected: BTreeMap<String, TableDigest> = manifest
        .tables
        .iter()
        .map(|(t, e)| {
            (
                t.clone(),
                TableDigest {
                    rows: e.rows,
                    sha256: Some(e.sha256.clone()),
                },
            )
        })
        .collect();
    let (differences, _) = hash::compare(&expected, &digests);
    if !differences.is_empty() {
        return Err(BackupError::Refused(format!(
            "after the transfer the destination differs from the source: {}",
            differences.join("; ")
        )));
    }
    Ok(TransferReport {
        from: source.display(),
        to: dest.display(),
        tables: manifest.tables.len(),
        rows: manifest.total_rows(),
        digests,
    })
}
