//! Loading an export into an empty migrated database: parents before children, in ONE
//! transaction that checks every table's count and content hash before it commits.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use diesel::connection::Connection;
use diesel::RunQueryDsl;
use serde::{Deserialize, Serialize};

use db_conn::{self as db, DatabaseTarget, DbConnection};
use pf_data::migrations;
use pf_data::models::{table_names, visit_all, SEEDED_TABLES};
use pf_data::resource::{ListFilter, Resource, ResourceVisitor};

use super::{ExportManifest, ExportTable, Progress, BATCH};
use crate::hash::{self, TableHasher};
use crate::manifest::TableDigest;
use crate::BackupError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub tables: usize,
    pub rows: u64,
    /// Seeded tables whose migration-inserted rows were replaced by the export's.
    pub replaced_seed_rows: BTreeMap<String, i64>,
}

/// Imports the export in `dir` into `target`, an empty database migrated to the export's
/// version. All or nothing.
pub fn import(
    target: &DatabaseTarget,
    dir: &Path,
    progress: Progress<'_>,
) -> Result<ImportReport, BackupError> {
    let manifest = ExportManifest::read(dir)?;
    let mut conn = db::establish(target)?;
    check_compatible(&mut conn, &manifest, dir)?;
    conn.transaction(|c| {
        let mut importer = Importer {
            conn: c,
            dir,
            manifest: &manifest,
            progress,
            replaced: BTreeMap::new(),
            out: Ok(()),
        };
        visit_all(&mut importer);
        importer.out?;
        Ok(ImportReport {
            tables: manifest.tables.len(),
            rows: manifest.total_rows(),
            replaced_seed_rows: importer.replaced,
        })
    })
}

/// The export's tables exist in this code, and the target is migrated to the export's version.
fn check_compatible(
    conn: &mut DbConnection,
    manifest: &ExportManifest,
    dir: &Path,
) -> Result<(), BackupError> {
    let names = table_names();
    if let Some(t) = manifest
        .tables
        .keys()
        .find(|t| !names.contains(&t.as_str()))
    {
        return Err(BackupError::BadManifest {
            path: dir.display().to_string(),
            reason: format!("it holds table `{t}`, which this code does not have"),
        });
    }
    let status = migrations::status(conn)?;
    if !status.pending.is_empty() && status.applied.is_empty() {
        return Err(BackupError::Pending {
            what: "target",
            pending: status.pending,
        });
    }
    if status.applied != manifest.applied_versions {
        let head = |v: &[String]| v.last().cloned().unwrap_or_else(|| "(none)".into());
        return Err(BackupError::VersionMismatch {
            dir: dir.display().to_string(),
            export_head: head(&manifest.applied_versions),
            target_head: head(&status.applied),
        });
    }
    Ok(())
}

/// Visits the tables in import order (parents first), loading those the export holds.
struct Importer<'a, 'p> {
    conn: &'a mut DbConnection,
    dir: &'a Path,
    manifest: &'a ExportManifest,
    progress: Progress<'p>,
    replaced: BTreeMap<String, i64>,
    out: Result<(), BackupError>,
}

impl ResourceVisitor for Importer<'_, '_> {
    fn visit<R: Resource>(&mut self) {
        let Some(table) = self.manifest.tables.get(R::TABLE) else {
            return;
        };
        if self.out.is_ok() {
            self.out = self.load::<R>(table);
        }
    }
}

impl Importer<'_, '_> {
    fn load<R: Resource>(&mut self, table: &ExportTable) -> Result<(), BackupError> {
        self.clear_seeded::<R>()?;
        let path = self.dir.join(&table.file);
        let (read, lines) = self.insert_file::<R>(&path)?;
        if read.rows != table.rows || read.sha256.as_deref() != Some(table.sha256.as_str()) {
            return Err(BackupError::BadExport {
                path: path.display().to_string(),
                line: lines,
                reason: format!(
                    "the file holds {} row(s) hashing to {}, the manifest records {} row(s) hashing to {}",
                    read.rows,
                    hash::short(read.sha256.as_deref().unwrap_or_default()),
                    table.rows,
                    hash::short(&table.sha256)
                ),
            });
        }
        if let DbConnection::Pg(_) = self.conn {
            // New rows must get ids after the imported ones.
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('\"{0}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{0}\"), 0) + 1, false)",
                R::TABLE
            ))
            .execute(self.conn)?;
        }
        check_stored::<R>(self.conn, table)
    }

    /// A table must be empty, except the rows the migrations seed: the export holds this
    /// database's own, so those are replaced.
    fn clear_seeded<R: Resource>(&mut self) -> Result<(), BackupError> {
        let existing = R::count(self.conn, &ListFilter::default())?;
        if existing == 0 {
            return Ok(());
        }
        if !SEEDED_TABLES.contains(&R::TABLE) {
            return Err(BackupError::NotEmpty {
                table: R::TABLE.into(),
                rows: existing,
            });
        }
        diesel::sql_query(format!("DELETE FROM {}", db_conn::sql::ident(R::TABLE)))
            .execute(self.conn)?;
        self.replaced.insert(R::TABLE.into(), existing);
        Ok(())
    }

    /// Streams the JSON Lines file into the table in batches: a second thread reads, parses
    /// and hashes the lines while this one inserts, so the two overlap. Returns what was read
    /// (count and hash) and the number of lines.
    fn insert_file<R: Resource>(
        &mut self,
        path: &PathBuf,
    ) -> Result<(TableDigest, u64), BackupError> {
        let file = std::fs::File::open(path)
            .map_err(|e| bad_export(path, 0, format!("cannot open it: {e}")))?;
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<R>>(4);
        std::thread::scope(|s| {
            let reading = s.spawn(move || read_batches::<R>(path, file, batches));
            let mut inserted = 0u64;
            let mut stored = Ok(());
            for batch in received.iter() {
                if let Err(e) = R::insert_rows(self.conn, &batch) {
                    stored = Err(BackupError::from(e));
                    break;
                }
                inserted += batch.len() as u64;
                (self.progress)(R::TABLE, inserted);
            }
            // Stops the reader at its next batch when an insert failed.
            drop(received);
            let read = reading.join().expect("the reading thread does not panic");
            stored.and(read)
        })
    }
}

fn bad_export(path: &Path, line: u64, reason: String) -> BackupError {
    BackupError::BadExport {
        path: path.display().to_string(),
        line,
        reason,
    }
}

/// Parses `file`'s lines as `R` rows and sends them in batches of [`BATCH`]; the count and hash
/// of what was read, and the number of lines. Stops early, quietly, when nobody receives.
fn read_batches<R: Resource>(
    path: &Path,
    file: std::fs::File,
    batches: std::sync::mpsc::SyncSender<Vec<R>>,
) -> Result<(TableDigest, u64), BackupError> {
    let mut hasher = TableHasher::default();
    let mut batch: Vec<R> = Vec::with_capacity(BATCH);
    let mut line_no = 0u64;
    for line in BufReader::with_capacity(1 << 16, file).lines() {
        line_no += 1;
        let line = line.map_err(|e| bad_export(path, line_no, format!("cannot read it: {e}")))?;
        if line.is_empty() {
            continue;
        }
        let row: R = serde_json::from_str(&line)
            .map_err(|e| bad_export(path, line_no, format!("not a {} row: {e}", R::TABLE)))?;
        hasher.add(&row);
        batch.push(row);
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if batches.send(full).is_err() {
                break;
            }
        }
    }
    if !batch.is_empty() {
        let _ = batches.send(batch);
    }
    Ok((hasher.finish(), line_no))
}

/// What the database now holds, read back (by the database's own canonical lines, else the
/// model), must hash as the export does.
fn check_stored<R: Resource>(
    conn: &mut DbConnection,
    table: &ExportTable,
) -> Result<(), BackupError> {
    let stored = hash::digest_fast::<R>(conn)?;
    let expected = TableDigest {
        rows: table.rows,
        sha256: Some(table.sha256.clone()),
    };
    if stored == expected {
        return Ok(());
    }
    Err(BackupError::Refused(format!(
        "table {}: after import the database holds {} row(s) hashing to {}, the export {} hashing to {}; nothing was imported",
        R::TABLE,
        stored.rows,
        hash::short(stored.sha256.as_deref().unwrap_or_default()),
        table.rows,
        hash::short(&table.sha256)
    )))
}
