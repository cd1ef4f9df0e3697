//! One connection type for both backends, the connection pool, and the per-connection
//! settings every SQLite connection needs.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};

use crate::target::DatabaseTarget;

/// PostgreSQL or SQLite behind one diesel connection type. SQLite is last: it accepts any
/// string as a path, so it must never be tried for a URL meant for another backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the folder {folder} for the SQLite database: {source}; create it or point DATABASE_URL elsewhere")]
    CreateFolder {
        folder: String,
        source: std::io::Error,
    },
    #[error("cannot open the database {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("cannot build the connection pool for {target}: {reason}")]
    Pool { target: String, reason: String },
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Applied to every SQLite connection: durable WAL, waiting on locks instead of failing,
/// and foreign keys enforced (SQLite leaves them off unless asked on each connection).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;";

/// Opens one connection, creating the SQLite file and its folder when missing.
pub fn establish(target: &DatabaseTarget) -> Result<DbConnection, DbError> {
    let fail = |reason: String| DbError::Connect {
        target: target.display(),
        reason: crate::target::redact_secrets_in(&reason, target),
    };
    match target {
        DatabaseTarget::Postgres { url } => diesel::PgConnection::establish(url)
            .map(DbConnection::Pg)
            .map_err(|e| fail(e.to_string())),
        DatabaseTarget::Sqlite { path } => {
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(|source| DbError::CreateFolder {
                    folder: folder.display().to_string(),
                    source,
                })?;
            }
            let path_str = path
                .to_str()
                .ok_or_else(|| fail("the path is not UTF-8".into()))?;
            let mut conn =
                diesel::SqliteConnection::establish(path_str).map_err(|e| fail(e.to_string()))?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(|e| fail(e.to_string()))?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Opens an existing database without changing it: SQLite read-only (no file is created, no
/// pragma written), PostgreSQL as usual. `None` when the SQLite file does not exist yet.
pub fn establish_read_only(target: &DatabaseTarget) -> Result<Option<DbConnection>, DbError> {
    let DatabaseTarget::Sqlite { path } = target else {
        return establish(target).map(Some);
    };
    if !path.exists() {
        return Ok(None);
    }
    let fail = |reason: String| DbError::Connect {
        target: target.display(),
        reason,
    };
    let absolute = std::path::absolute(path).map_err(|e| fail(e.to_string()))?;
    let encoded: String = absolute
        .to_string_lossy()
        .chars()
        .map(|c| match c {
            '%' => "%25".to_owned(),
            '?' => "%3f".to_owned(),
            '#' => "%23".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let mut conn = diesel::SqliteConnection::establish(&format!("file:{encoded}?mode=ro"))
        .map_err(|e| fail(e.to_string()))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000")
        .map_err(|e| fail(e.to_string()))?;
    Ok(Some(DbConnection::Sqlite(conn)))
}

/// r2d2 manager that opens the backend the target names (never guessing from the string).
#[derive(Debug, Clone)]
pub struct Manager {
    target: DatabaseTarget,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        establish(&self.target)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// A pool over `target`. SQLite gets few connections: writers serialize on its file lock.
pub fn pool(target: &DatabaseTarget) -> Result<Pool, DbError> {
    let size = match target {
        DatabaseTarget::Postgres { .. } => 10,
        DatabaseTarget::Sqlite { .. } => 4,
    };
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(true)
        .build(Manager {
            target: target.clone(),
        })
        .map_err(|e| DbError::Pool {
            target: target.display(),
            reason: e.to_string(),
        })
}

impl DbConnection {
    pub fn backend(&self) -> crate::target::Backend {
        match self {
            Self::Pg(_) => crate::target::Backend::Postgres,
            Self::Sqlite(_) => crate::target::Backend::Sqlite,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend().tree_name()
    }
}
