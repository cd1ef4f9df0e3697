//! The data marker: a small file beside a SQLite database (`<file>.pf-marker`) recording that
//! it held data, and how much. The service's start guard reads it to refuse starting over a
//! vanished database; a restore and a clean shutdown rewrite it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use db_conn::{DatabaseTarget, DbConnection};
use pf_data::counts::{count_all, has_user_data};
use serde::{Deserialize, Serialize};

/// Appended to the SQLite file's name to name its marker.
pub const MARKER_SUFFIX: &str = ".pf-marker";

/// What a marker file records: that a database held data, and how much.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Marker {
    /// Names this marker in an acknowledgement (`PF_ACCEPT_EMPTY_DATABASE=<id>`).
    pub id: String,
    pub database: String,
    pub written_at: String,
    pub total_rows: i64,
    pub tables: BTreeMap<String, i64>,
}

/// The marker that belongs to a SQLite file: `<file>.pf-marker` beside it.
pub fn path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(MARKER_SUFFIX);
    db.with_file_name(name)
}

/// Reads a marker; an unreadable or malformed one still counts as "data existed".
pub fn read(path: &Path) -> Option<Marker> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(_) => String::new(),
    };
    Some(serde_json::from_str(&text).unwrap_or_else(|_| Marker {
        id: "unreadable-marker".into(),
        database: path.display().to_string(),
        written_at: "an unknown time".into(),
        total_rows: -1,
        tables: BTreeMap::new(),
    }))
}

/// Writes the marker atomically: a killed writer leaves the old marker whole.
pub fn write(db: &Path, counts: &BTreeMap<&'static str, i64>) -> std::io::Result<()> {
    let now = chrono::Utc::now();
    let marker = Marker {
        id: format!(
            "{:x}{:x}",
            now.timestamp_nanos_opt().unwrap_or_default(),
            std::process::id()
        ),
        database: db_conn::paths::resolve(db).display().to_string(),
        written_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        total_rows: counts.values().sum(),
        tables: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    };
    let mut text = serde_json::to_string_pretty(&marker)?;
    text.push('\n');
    safe_fs::write_atomic(&path(db), text.as_bytes(), safe_fs::Access::Private)
}

/// Refreshes the marker on a clean shutdown: written when the database holds data, removed
/// when it holds none (the running service saw it emptied). Problems are only logged.
pub fn record(target: &DatabaseTarget, conn: &mut DbConnection) {
    let Some(path) = target.sqlite_path() else {
        return;
    };
    let marker_file = self::path(path);
    match count_all(conn) {
        Ok(counts) if has_user_data(&counts) => {
            if let Err(e) = write(path, &counts) {
                tracing::warn!(marker = %marker_file.display(), error = %e, "cannot write the data marker");
            }
        }
        Ok(_) => {
            if marker_file.exists() {
                if let Err(e) = std::fs::remove_file(&marker_file) {
                    tracing::warn!(marker = %marker_file.display(), error = %e, "cannot remove the data marker of an emptied database");
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot count rows to refresh the data marker")
        }
    }
}
