//! `export` / `import` / `transfer`: a logical, backend-neutral copy of every row. An export
//! is a folder with one JSON Lines file per table (`<table>.jsonl`, one row per line, ids and
//! timestamps as stored, decimals as exact strings) and `manifest.json` (applied migrations,
//! per-table rows and content hashes). Both directions stream a page of rows at a time, so
//! memory does not grow with the table. `import` loads into an empty migrated database of
//! either backend, parents before children, in ONE transaction that also checks every table's
//! count and content hash before committing, and moves PostgreSQL's id sequences past the
//! imported ids.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use diesel::connection::{Connection, SimpleConnection};
use diesel::RunQueryDsl;
use serde::{Deserialize, Serialize};

use super::hash::{self, TableHasher};
use super::manifest::TableDigest;
use super::{store, BackupError};
use crate::config::{Backend, DatabaseTarget};
use crate::db::{self, migrations, DbConnection};
use crate::models::{table_names, visit_all, SEEDED_TABLES};
use crate::resource::{ListFilter, Resource, ResourceVisitor};

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
        let manifest: Self = super::manifest::read_json(dir, "an export manifest")?;
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

/// Exports `target` (every table, or `tables`) into `dir`, which must not exist or be empty.
/// The folder appears under its name only when complete.
pub fn export(
    target: &DatabaseTarget,
    dir: &Path,
    tables: Option<&[String]>,
    progress: Progress<'_>,
) -> Result<ExportManifest, BackupError> {
    check_tables(tables)?;
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(BackupError::io("read", dir))?
            .next()
            .is_none();
        if !empty {
            return Err(BackupError::Refused(format!(
                "{} already exists and is not empty: export into a new folder",
                dir.display()
            )));
        }
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = store::Staging::for_final(dir)?;
    let mut conn = db::establish(target)?;
    let status = migrations::status(&mut conn)?;
    if !status.pending.is_empty() {
        return Err(BackupError::Pending {
            what: "source",
            pending: status.pending,
        });
    }
    let (applied, written) = snapshot_transaction(&mut conn, |c| {
        let applied = migrations::status(c)?.applied;
        struct Exporter<'a, 'p> {
            conn: &'a mut DbConnection,
            dir: &'a Path,
            selected: Option<&'a [String]>,
            progress: Progress<'p>,
            out: Result<BTreeMap<String, ExportTable>, BackupError>,
        }
        impl ResourceVisitor for Exporter<'_, '_> {
            fn visit<R: Resource>(&mut self) {
                if self.out.is_err()
                    || self
                        .selected
                        .is_some_and(|s| !s.iter().any(|t| t == R::TABLE))
                {
                    return;
                }
                let file = format!("{}.jsonl", R::TABLE);
                let path = self.dir.join(&file);
                let result = (|| {
                    let mut out =
                        BufWriter::with_capacity(1 << 16, store::create_private_file(&path)?);
                    let mut hasher = TableHasher::default();
                    let mut rows = 0u64;
                    let progress = &mut self.progress;
                    hash::for_each_page::<R, BackupError>(self.conn, |page| {
                        for row in page {
                            serde_json::to_writer(&mut out, row).map_err(|e| {
                                BackupError::Refused(format!(
                                    "cannot write {}: {e}",
                                    path.display()
                                ))
                            })?;
                            out.write_all(b"\n")
                                .map_err(BackupError::io("write", &path))?;
                            hasher.add(row);
                        }
                        rows += page.len() as u64;
                        progress(R::TABLE, rows);
                        Ok(())
                    })?;
                    let file_handle = out
                        .into_inner()
                        .map_err(|e| BackupError::io("write", &path)(e.into_error()))?;
                    file_handle
                        .sync_all()
                        .map_err(BackupError::io("fsync", &path))?;
                    let digest = hasher.finish();
                    Ok(ExportTable {
                        file,
                        rows: digest.rows,
                        sha256: digest.sha256.unwrap_or_default(),
                    })
                })();
                match (result, &mut self.out) {
                    (Ok(t), Ok(out)) => {
                        out.insert(R::TABLE.to_owned(), t);
                    }
                    (Err(e), _) => self.out = Err(e),
                    _ => {}
                }
            }
        }
        let mut exporter = Exporter {
            conn: c,
            dir: &staging.dir,
            selected: tables,
            progress,
            out: Ok(BTreeMap::new()),
        };
        visit_all(&mut exporter);
        Ok((applied, exporter.out?))
    })?;
    let manifest = ExportManifest {
        format: FORMAT.into(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        backend: target.backend(),
        source: target.display(),
        applied_versions: applied,
        tables: written,
    };
    let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    let manifest_path = staging.file(MANIFEST_FILE);
    let mut file = store::create_private_file(&manifest_path)?;
    file.write_all(&text)
        .and_then(|_| file.sync_all())
        .map_err(BackupError::io("write", &manifest_path))?;
    if dir.exists() {
        std::fs::remove_dir(dir).map_err(BackupError::io("replace the empty folder", dir))?;
        store::fsync_dir(parent)?;
    }
    staging.publish()?;
    Ok(manifest)
}

#[derive(Debug, Clone, Serialize)]
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
    let mut conn = db::establish(target)?;
    let status = migrations::status(&mut conn)?;
    if !status.pending.is_empty() && status.applied.is_empty() {
        return Err(BackupError::Pending {
            what: "target",
            pending: status.pending,
        });
    }
    if status.applied != manifest.applied_versions {
        return Err(BackupError::VersionMismatch {
            dir: dir.display().to_string(),
            export_head: manifest
                .applied_versions
                .last()
                .cloned()
                .unwrap_or_else(|| "(none)".into()),
            target_head: status
                .applied
                .last()
                .cloned()
                .unwrap_or_else(|| "(none)".into()),
        });
    }
    conn.transaction(|c| {
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
                let Some(table) = self.manifest.tables.get(R::TABLE) else { return };
                if self.out.is_ok() {
                    self.out = self.load::<R>(table);
                }
            }
        }
        impl Importer<'_, '_> {
            fn load<R: Resource>(&mut self, table: &ExportTable) -> Result<(), BackupError> {
                let existing = R::count(self.conn, &ListFilter::default())?;
                if existing > 0 {
                    if !SEEDED_TABLES.contains(&R::TABLE) {
                        return Err(BackupError::NotEmpty { table: R::TABLE.into(), rows: existing });
                    }
                    // Rows the migrations inserted: the export holds this database's own.
                    diesel::sql_query(format!("DELETE FROM \"{}\"", R::TABLE)).execute(self.conn)?;
                    self.replaced.insert(R::TABLE.into(), existing);
                }
                let path: PathBuf = self.dir.join(&table.file);
                let bad = |line: u64, reason: String| BackupError::BadExport {
                    path: path.display().to_string(),
                    line,
                    reason,
                };
                let file = std::fs::File::open(&path).map_err(|e| bad(0, format!("cannot open it: {e}")))?;
                let mut hasher = TableHasher::default();
                let mut batch: Vec<R> = Vec::with_capacity(BATCH);
                let mut line_no = 0u64;
                for line in BufReader::with_capacity(1 << 16, file).lines() {
                    line_no += 1;
                    let line = line.map_err(|e| bad(line_no, format!("cannot read it: {e}")))?;
                    if line.is_empty() {
                        continue;
                    }
                    let row: R = serde_json::from_str(&line).map_err(|e| bad(line_no, format!("not a {} row: {e}", R::TABLE)))?;
                    hasher.add(&row);
                    batch.push(row);
                    if batch.len() == BATCH {
                        R::insert_rows(self.conn, &batch)?;
                        batch.clear();
                        (self.progress)(R::TABLE, line_no);
                    }
                }
                if !batch.is_empty() {
                    R::insert_rows(self.conn, &batch)?;
                }
                (self.progress)(R::TABLE, line_no);
                let read = hasher.finish();
                if read.rows != table.rows || read.sha256.as_deref() != Some(table.sha256.as_str()) {
                    return Err(bad(
                        line_no,
                        format!(
                            "the file holds {} row(s) hashing to {}, the manifest records {} row(s) hashing to {}",
                            read.rows,
                            hash::short(read.sha256.as_deref().unwrap_or_default()),
                            table.rows,
                            hash::short(&table.sha256)
                        ),
                    ));
                }
                if let DbConnection::Pg(_) = self.conn {
                    diesel::sql_query(format!(
                        "SELECT setval(pg_get_serial_sequence('\"{0}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{0}\"), 0) + 1, false)",
                        R::TABLE
                    ))
                    .execute(self.conn)?;
                }
                // What the database now holds, read back through the model, must hash the same.
                let stored = hash::digest_of::<R>(self.conn)?;
                if stored != (TableDigest { rows: table.rows, sha256: Some(table.sha256.clone()) }) {
                    return Err(BackupError::Refused(format!(
                        "table {}: after import the database holds {} row(s) hashing to {}, the export {} hashing to {}; nothing was imported",
                        R::TABLE,
                        stored.rows,
                        hash::short(stored.sha256.as_deref().unwrap_or_default()),
                        table.rows,
                        hash::short(&table.sha256)
                    )));
                }
                Ok(())
            }
        }
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

#[derive(Debug, Clone, Serialize)]
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
    let scratch = super::verify::scratch_dir(work_dir)?;
    let folder = scratch.path().join("export");
    let manifest = export(source, &folder, None, progress)?;
    {
        let mut conn = db::establish(dest)?;
        migrations::run_pending(&mut conn)?;
    }
    import(dest, &folder, progress)?;
    let mut conn = db::establish(dest)?;
    let digests = snapshot_transaction(&mut conn, |c| Ok(hash::digests(c)?))?;
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
