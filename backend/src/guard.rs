//! The persistence guard: the checks `backend serve` (and `backend migrate`) run before they
//! touch the database, so that a deploy can never quietly lose data.
//!
//! 1. **Ephemeral storage.** On Railway (its `RAILWAY_*` variables are set) a SQLite file must
//!    live under `RAILWAY_VOLUME_MOUNT_PATH`; anywhere else the next redeploy erases it, so the
//!    service refuses to start and says how to mount a volume or use PostgreSQL. The decision
//!    is `storage::describe_with`'s, the same one `/health/data` reports.
//! 2. **A vanished database.** After a start that found data, a small marker file is written
//!    next to the SQLite file (`<file>.pf-marker`, atomically). When a later start finds the
//!    marker but the database file is missing, empty, or holds no data, it refuses instead of
//!    creating an empty database over the loss, and says how to restore or acknowledge.
//!    The acknowledgement names the loss it accepts (`PF_ACCEPT_EMPTY_DATABASE=<marker id>`),
//!    so a variable left set cannot silently accept the next loss.
//! 3. **An unwritable data folder** (Railway mounts volumes owned by root) is reported as such,
//!    not as SQLite's "unable to open database file".

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::DatabaseTarget;
use crate::db::DbConnection;
use crate::models::SEEDED_TABLES;
use crate::storage;

/// Set to the id a refusal names to start once on an empty database on purpose.
pub const ACCEPT_EMPTY_VAR: &str = "PF_ACCEPT_EMPTY_DATABASE";
/// Appended to the SQLite file's name to name its marker.
pub const MARKER_SUFFIX: &str = ".pf-marker";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardError {
    #[error("refusing to start: {reason} (database {location}). Mount a volume on this service (Railway: service → Settings → Volumes, mount path {mount}; this image runs as a non-root user, so also set RAILWAY_RUN_UID=0) and keep the SQLite file on it with DATABASE_PATH={suggested_path}, or set DATABASE_URL to a PostgreSQL database (e.g. ${{{{Postgres.DATABASE_URL}}}})")]
    EphemeralStorage {
        reason: String,
        location: String,
        mount: String,
        suggested_path: String,
    },
    #[error(transparent)]
    DataGone(Box<DataGone>),
    #[error(
        "refusing to start: this process cannot write to the data folder {folder} ({reason}){hint}"
    )]
    FolderNotWritable {
        folder: String,
        reason: String,
        hint: String,
    },
    #[error("cannot count the rows of {database} to check them against its data marker: {reason}")]
    Count { database: String, reason: String },
}

/// A database that a data marker says held data is missing, empty, or without data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("refusing to start: the SQLite database {database} {state}, but {marker} records {rows} row(s) in it at {written_at}: the data is gone from this path. Restore the latest backup (`backend restore`, or `cargo xtask restore` from a machine that reaches it) or point DATABASE_PATH/DATABASE_URL at where the data lives; to start on an empty database on purpose, set PF_ACCEPT_EMPTY_DATABASE={id} for one start or delete {marker}{ack_note}")]
pub struct DataGone {
    pub database: String,
    pub state: &'static str,
    pub marker: String,
    pub rows: i64,
    pub written_at: String,
    /// The value `PF_ACCEPT_EMPTY_DATABASE` must hold to acknowledge this loss.
    pub id: String,
    pub ack_note: String,
}

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
pub fn marker_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(MARKER_SUFFIX);
    db.with_file_name(name)
}

/// Checks run before the database is opened, reading the process environment.
pub fn check(target: &DatabaseTarget) -> Result<(), GuardError> {
    check_with(target, storage::process_env)
}

/// [`check`] with the environment supplied (tests pass a map).
pub fn check_with(
    target: &DatabaseTarget,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(), GuardError> {
    let Some(path) = target.sqlite_path() else {
        return Ok(()); // PostgreSQL: the data lives on the server, not on this disk.
    };
    let railway = storage::on_railway(&env);
    let info = storage::describe_with(target, &env);
    if railway && !info.persistent {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "personalfinance.db".into());
        let located = PathBuf::from(&info.location);
        let (mount, suggested_path) = match env("RAILWAY_VOLUME_MOUNT_PATH") {
            Some(volume) => (
                volume.clone(),
                Path::new(&volume).join(&file).display().to_string(),
            ),
            None => (
                located
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "/app/data".into()),
                info.location.clone(),
            ),
        };
        return Err(GuardError::EphemeralStorage {
            reason: info.reason,
            location: info.location,
            mount,
            suggested_path,
        });
    }
    probe_folder(path, railway)?;
    let marker_file = marker_path(path);
    let Some(marker) = read_marker(&marker_file) else {
        return Ok(());
    };
    let state = match std::fs::metadata(path) {
        Err(_) => "is missing",
        Ok(meta) if meta.len() == 0 => "is an empty file",
        Ok(_) => return Ok(()), // whether it still holds data is checked once it is open
    };
    acknowledge_or_refuse(path, &marker_file, &marker, state, &env)
}

/// Checks run once the database is open and migrated: a database that a marker says held
/// data must still hold some. Then records the marker when there is data.
pub fn after_open(target: &DatabaseTarget, conn: &mut DbConnection) -> Result<(), GuardError> {
    after_open_with(target, conn, storage::process_env)
}

pub fn after_open_with(
    target: &DatabaseTarget,
    conn: &mut DbConnection,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(), GuardError> {
    let Some(path) = target.sqlite_path() else {
        return Ok(());
    };
    let counts = crate::api::count_all(conn).map_err(|e| GuardError::Count {
        database: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let marker_file = marker_path(path);
    if !has_user_data(&counts) {
        if let Some(marker) = read_marker(&marker_file) {
            acknowledge_or_refuse(path, &marker_file, &marker, "holds no data now", &env)?;
        }
        return Ok(());
    }
    if let Err(e) = write_marker(path, &counts) {
        tracing::warn!(marker = %marker_file.display(), error = %e, "cannot write the data marker; a vanished database will not be detected at the next start");
    }
    Ok(())
}

/// Refreshes the marker on a clean shutdown: written when the database holds data, removed
/// when it holds none (the running service saw it emptied). Problems are only logged.
pub fn record(target: &DatabaseTarget, conn: &mut DbConnection) {
    let Some(path) = target.sqlite_path() else {
        return;
    };
    let marker_file = marker_path(path);
    match crate::api::count_all(conn) {
        Ok(counts) if has_user_data(&counts) => {
            if let Err(e) = write_marker(path, &counts) {
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

/// Rows beyond what the migrations seed (the rule `/health/data`'s `has_data` uses).
pub fn has_user_data(counts: &BTreeMap<&'static str, i64>) -> bool {
    counts
        .iter()
        .any(|(table, n)| *n > 0 && !SEEDED_TABLES.contains(table))
}

fn acknowledge_or_refuse(
    db: &Path,
    marker_file: &Path,
    marker: &Marker,
    state: &'static str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), GuardError> {
    let given = env(ACCEPT_EMPTY_VAR);
    if given.as_deref().map(str::trim) == Some(marker.id.as_str()) {
        tracing::warn!(
            database = %db.display(),
            rows = marker.total_rows,
            recorded_at = %marker.written_at,
            "{ACCEPT_EMPTY_VAR} acknowledges that the data recorded in {} is gone: starting on an empty database; unset the variable now",
            marker_file.display()
        );
        std::fs::remove_file(marker_file).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(GuardError::FolderNotWritable {
                folder: marker_file
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                reason: format!("cannot remove {}: {e}", marker_file.display()),
                hint: String::new(),
            }),
        })?;
        return Ok(());
    }
    let ack_note = match given {
        Some(_) => format!(
            " ({ACCEPT_EMPTY_VAR} is set, but to another value: it accepts only the loss whose marker id it names)"
        ),
        None => String::new(),
    };
    Err(GuardError::DataGone(Box::new(DataGone {
        database: db.display().to_string(),
        state,
        marker: marker_file.display().to_string(),
        rows: marker.total_rows,
        written_at: marker.written_at.clone(),
        id: marker.id.clone(),
        ack_note,
    })))
}

/// Reads a marker; an unreadable or malformed one still counts as "data existed".
fn read_marker(path: &Path) -> Option<Marker> {
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

/// Writes the marker atomically: a temporary file, fsynced, renamed over the old one.
fn write_marker(db: &Path, counts: &BTreeMap<&'static str, i64>) -> std::io::Result<()> {
    let now = chrono::Utc::now();
    let marker = Marker {
        id: format!(
            "{:x}{:x}",
            now.timestamp_nanos_opt().unwrap_or_default(),
            std::process::id()
        ),
        database: storage::resolve(db).display().to_string(),
        written_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        total_rows: counts.values().sum(),
        tables: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    };
    let path = marker_path(db);
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(serde_json::to_string_pretty(&marker)?.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename itself durable.
            std::fs::File::open(folder)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Creates and removes a file in the database's folder (when that folder exists), so that a
/// read-only or root-owned mount is named as such.
fn probe_folder(db: &Path, railway: bool) -> Result<(), GuardError> {
    let folder = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Ok(()); // created on open; a failure there names the folder already
    }
    let probe = folder.join(format!(".pf-write-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(GuardError::FolderNotWritable {
            folder: storage::resolve(&folder).display().to_string(),
            reason: e.to_string(),
            hint: if railway {
                "; Railway mounts volumes owned by root and this image runs as a non-root user: set the service variable RAILWAY_RUN_UID=0".into()
            } else {
                "; give this user write access to it or point DATABASE_PATH elsewhere".into()
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::storage::fake_env as env;

    #[test]
    fn railway_without_a_volume_is_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let db = DatabaseTarget::sqlite(dir.path().join("data").join("pf.db"));
        let err = check_with(&db, env(&[("RAILWAY_ENVIRONMENT", "production")])).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, GuardError::EphemeralStorage { .. }), "{text}");
        assert!(text.contains("no volume mounted"), "{text}");
        assert!(
            text.contains("DATABASE_URL") && text.contains("Volumes"),
            "{text}"
        );
        assert!(text.contains("${{Postgres.DATABASE_URL}}"), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
        // Away from Railway the same path is fine, and PostgreSQL is fine everywhere.
        check_with(&db, env(&[])).unwrap();
        let pg = DatabaseTarget::parse("postgres://u@h/db").unwrap();
        check_with(&pg, env(&[("RAILWAY_ENVIRONMENT", "production")])).unwrap();
    }

    #[test]
    fn outside_the_volume_suggests_a_path_on_it() {
        let err = check_with(
            &DatabaseTarget::sqlite("/app/data/pf.db"),
            env(&[
                ("RAILWAY_PROJECT_ID", "p"),
                ("RAILWAY_VOLUME_MOUNT_PATH", "/var/lib/pf"),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("DATABASE_PATH=/var/lib/pf/pf.db"),
            "{err}"
        );
    }

    #[test]
    fn a_marker_without_its_database_is_refused_until_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pf.db");
        let db = DatabaseTarget::sqlite(&path);
        check_with(&db, env(&[])).unwrap(); // nothing yet: a first start
        let counts = BTreeMap::from([("fund_info", 2_i64), ("system_config", 3)]);
        write_marker(&path, &counts).unwrap();
        let marker = read_marker(&marker_path(&path)).unwrap();
        assert_eq!(marker.total_rows, 5);

        let err = check_with(&db, env(&[])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("is missing") && text.contains("5 row(s)"),
            "{text}"
        );
        assert!(
            text.contains(&format!("{ACCEPT_EMPTY_VAR}={}", marker.id)),
            "{text}"
        );
        assert!(text.contains("backend restore"), "{text}");

        std::fs::write(&path, b"").unwrap();
        assert!(check_with(&db, env(&[]))
            .unwrap_err()
            .to_string()
            .contains("is an empty file"));

        // A blanket "yes" is not an acknowledgement of this loss.
        let err = check_with(&db, env(&[(ACCEPT_EMPTY_VAR, "1")])).unwrap_err();
        assert!(err.to_string().contains("to another value"), "{err}");

        let id = marker.id.clone();
        check_with(&db, move |k: &str| {
            (k == ACCEPT_EMPTY_VAR).then(|| id.clone())
        })
        .unwrap();
        assert!(
            !marker_path(&path).exists(),
            "the acknowledgement is used up"
        );
        check_with(&db, env(&[])).unwrap();
    }

    #[test]
    fn a_malformed_marker_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pf.db");
        std::fs::write(marker_path(&path), "{not json").unwrap();
        let err = check_with(&DatabaseTarget::sqlite(&path), env(&[])).unwrap_err();
        assert!(err.to_string().contains("unreadable-marker"), "{err}");
    }

    #[test]
    fn marker_sits_beside_the_database() {
        assert_eq!(
            marker_path(Path::new("/app/data/personalfinance.db")),
            Path::new("/app/data/personalfinance.db.pf-marker")
        );
    }

    /// A kernel file system refuses new files even to root, so this runs under every user;
    /// a 0555 folder is checked too where the modes bind (not as root, which ignores them).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_read_only_folder_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let err = check_with(&DatabaseTarget::sqlite("/proc/pf.db"), env(&[])).unwrap_err();
        assert!(matches!(err, GuardError::FolderNotWritable { .. }), "{err}");
        assert!(err.to_string().contains("/proc"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("ro");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
        let modes_bind = std::fs::File::create(folder.join("x")).is_err();
        let result = check_with(&DatabaseTarget::sqlite(folder.join("pf.db")), env(&[]));
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        if modes_bind {
            let err = result.unwrap_err();
            assert!(matches!(err, GuardError::FolderNotWritable { .. }), "{err}");
        }
    }
}
