//! Writing an export: every selected table streamed to its JSON Lines file inside one read
//! snapshot, then the manifest, then the folder published under its name.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use db_conn::{self as db, DatabaseTarget, DbConnection};
use pf_data::migrations;
use pf_data::models::visit_all;
use pf_data::resource::{Resource, ResourceVisitor};

use super::{
    check_tables, require_migrated, snapshot_transaction, ExportManifest, ExportTable, Progress,
    FORMAT, MANIFEST_FILE,
};
use crate::hash::{self, TableHasher};
use crate::hash_sql::{self, Stop};
use crate::manifest::TableDigest;
use crate::{store, BackupError};

/// Exports `target` (every table, or `tables`) into `dir`, which must not exist or be empty.
/// The folder appears under its name only when complete.
pub fn export(
    target: &DatabaseTarget,
    dir: &Path,
    tables: Option<&[String]>,
    progress: Progress<'_>,
) -> Result<ExportManifest, BackupError> {
    check_tables(tables)?;
    refuse_non_empty(dir)?;
    let staging = store::Staging::for_final(dir)?;
    let mut conn = db::establish(target)?;
    require_migrated(&mut conn, "source")?;
    let (applied, written) = snapshot_transaction(&mut conn, |c| {
        let applied = migrations::status(c)?.applied;
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
        // The staging folder is renamed to `dir`: an empty `dir` given by the user goes first.
        std::fs::remove_dir(dir).map_err(BackupError::io("replace the empty folder", dir))?;
        store::fsync_dir(safe_fs::folder_of(dir))?;
    }
    staging.publish()?;
    Ok(manifest)
}

fn refuse_non_empty(dir: &Path) -> Result<(), BackupError> {
    if !dir.exists() {
        return Ok(());
    }
    let empty = std::fs::read_dir(dir)
        .map_err(BackupError::io("read", dir))?
        .next()
        .is_none();
    if empty {
        Ok(())
    } else {
        Err(BackupError::Refused(format!(
            "{} already exists and is not empty: export into a new folder",
            dir.display()
        )))
    }
}

/// Visits the tables in import order, writing each selected one.
struct Exporter<'a, 'p> {
    conn: &'a mut DbConnection,
    dir: &'a Path,
    selected: Option<&'a [String]>,
    progress: Progress<'p>,
    out: Result<BTreeMap<String, ExportTable>, BackupError>,
}

impl ResourceVisitor for Exporter<'_, '_> {
    fn visit<R: Resource>(&mut self) {
        let wanted = self
            .selected
            .is_none_or(|s| s.iter().any(|t| t == R::TABLE));
        if self.out.is_err() || !wanted {
            return;
        }
        match self.write_table::<R>() {
            Ok(table) => {
                if let Ok(out) = &mut self.out {
                    out.insert(R::TABLE.to_owned(), table);
                }
            }
            Err(e) => self.out = Err(e),
        }
    }
}

impl Exporter<'_, '_> {
    /// One table to `<table>.jsonl` (fsynced), with its count and hash: from the lines the
    /// database writes itself, else (a value only the model can judge) through the model.
    fn write_table<R: Resource>(&mut self) -> Result<ExportTable, BackupError> {
        let file = format!("{}.jsonl", R::TABLE);
        let path = self.dir.join(&file);
        let digest = match self.write_lines::<R>(&path) {
            Ok(digest) => digest,
            Err(Stop::Failed(e)) => return Err(e),
            Err(Stop::Unreadable) => {
                std::fs::remove_file(&path).map_err(BackupError::io("remove", &path))?;
                self.write_models::<R>(&path)?
            }
        };
        Ok(ExportTable {
            file,
            rows: digest.rows,
            sha256: digest.sha256.unwrap_or_default(),
        })
    }

    fn write_lines<R: Resource>(&mut self, path: &Path) -> Result<TableDigest, Stop<BackupError>> {
        let mut out = TableFile::create(path).map_err(Stop::Failed)?;
        let progress = &mut self.progress;
        hash_sql::for_each_row::<R, BackupError>(self.conn, true, |line, export| {
            out.hash.add_line(line);
            out.write_line(export.unwrap_or_default().as_bytes())?;
            if out.hash.rows() % hash::PAGE as u64 == 0 {
                progress(R::TABLE, out.hash.rows());
            }
            Ok(())
        })?;
        progress(R::TABLE, out.hash.rows());
        out.finish().map_err(Stop::Failed)
    }

    fn write_models<R: Resource>(&mut self, path: &Path) -> Result<TableDigest, BackupError> {
        let mut out = TableFile::create(path)?;
        let progress = &mut self.progress;
        hash::for_each_page::<R, BackupError>(self.conn, |page| {
            for row in page {
                let json = serde_json::to_vec(row).map_err(|e| {
                    BackupError::Refused(format!("cannot write {}: {e}", out.path.display()))
                })?;
                out.write_line(&json)?;
                out.hash.add(row);
            }
            progress(R::TABLE, out.hash.rows());
            Ok(())
        })?;
        out.finish()
    }
}

/// A table's JSON Lines file being written, and the hash of its rows.
struct TableFile {
    path: PathBuf,
    out: BufWriter<std::fs::File>,
    hash: TableHasher,
}

impl TableFile {
    fn create(path: &Path) -> Result<Self, BackupError> {
        Ok(Self {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 16, store::create_private_file(path)?),
            hash: TableHasher::default(),
        })
    }

    fn write_line(&mut self, json: &[u8]) -> Result<(), BackupError> {
        self.out
            .write_all(json)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(BackupError::io("write", &self.path))
    }

    fn finish(self) -> Result<TableDigest, BackupError> {
        let path = self.path;
        self.out
            .into_inner()
            .map_err(|e| BackupError::io("write", &path)(e.into_error()))?
            .sync_all()
            .map_err(BackupError::io("fsync", &path))?;
        Ok(self.hash.finish())
    }
}
