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

use std::path::{Path, PathBuf};

use crate::storage;
use data_safety::marker::{self, Marker};
use db_conn::DatabaseTarget;
use db_conn::DbConnection;
use pf_data::counts::{count_all, has_user_data};

/// Set to the id a refusal names to start once on an empty database on purpose.
pub const ACCEPT_EMPTY_VAR: &str = "PF_ACCEPT_EMPTY_DATABASE";

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
    let platform = if railway {
        Platform::Railway
    } else {
        Platform::Other
    };
    probe_folder(path, platform)?;
    let marker_file = marker::path(path);
    let Some(marker) = marker::read(&marker_file) else {
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
    let counts = count_all(conn).map_err(|e| GuardError::Count {
        database: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let marker_file = marker::path(path);
    if !has_user_data(&counts) {
        if let Some(marker) = marker::read(&marker_file) {
            acknowledge_or_refuse(path, &marker_file, &marker, "holds no data now", &env)?;
        }
        return Ok(());
    }
    if let Err(e) = marker::write(path, &counts) {
        tracing::warn!(marker = %marker_file.display(), error = %e, "cannot write the data marker; a vanished database will not be detected at the next start");
    }
    Ok(())
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

/// Where the service runs, as far as the folder advice is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Railway,
    Other,
}

/// Creates and removes a file in the database's folder (when that folder exists), so that a
/// read-only or root-owned mount is named as such.
fn probe_folder(db: &Path, platform: Platform) -> Result<(), GuardError> {
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
            folder: db_conn::paths::resolve(&folder).display().to_string(),
            reason: e.to_string(),
            hint: if platform == Platform::Railway {
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
        let counts = std::collections::BTreeMap::from([("fund_info", 2_i64), ("system_config", 3)]);
        marker::write(&path, &counts).unwrap();
        let marker = marker::read(&marker::path(&path)).unwrap();
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
            !marker::path(&path).exists(),
            "the acknowledgement is used up"
        );
        check_with(&db, env(&[])).unwrap();
    }

    #[test]
    fn a_malformed_marker_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pf.db");
        std::fs::write(marker::path(&path), "{not json").unwrap();
        let err = check_with(&DatabaseTarget::sqlite(&path), env(&[])).unwrap_err();
        assert!(err.to_string().contains("unreadable-marker"), "{err}");
    }

    #[test]
    fn marker_sits_beside_the_database() {
        assert_eq!(
            marker::path(Path::new("/app/data/personalfinance.db")),
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
