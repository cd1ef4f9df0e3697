//! Throwaway PostgreSQL databases: created on a server for one job (a test, a verification,
//! a squash) and dropped when the value is dropped, even when the job failed.

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::target::{redact_url, DatabaseTarget};

#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("cannot connect to {server} to create a scratch database: {reason}")]
    Connect { server: String, reason: String },
    #[error("cannot create the scratch database {name} on {server} ({reason}): the user needs CREATEDB, or name another server")]
    Create {
        name: String,
        server: String,
        reason: String,
    },
}

/// A database that exists until this value is dropped.
pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
    /// The database's URL (same server, user and password as the admin URL).
    pub url: String,
    pub target: DatabaseTarget,
}

impl ScratchDatabase {
    /// Creates `pf_<purpose>_<pid>_<n>_<micros>` on the server `admin_url` connects to.
    pub fn create(admin_url: &str, purpose: &str) -> Result<Self, ScratchError> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pf_{purpose}_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_micros())
        );
        let server = redact_url(admin_url);
        let mut conn = PgConnection::establish(admin_url).map_err(|e| ScratchError::Connect {
            server: server.clone(),
            reason: crate::target::redact_urls_in(&e.to_string()),
        })?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| ScratchError::Create {
                name: name.clone(),
                server,
                reason: e.to_string(),
            })?;
        let url = with_database(admin_url, &name);
        Ok(Self {
            admin_url: admin_url.to_owned(),
            target: DatabaseTarget::Postgres { url: url.clone() },
            name,
            url,
        })
    }

    /// The database as a target to connect to.
    pub fn target(&self) -> DatabaseTarget {
        self.target.clone()
    }
}

impl std::fmt::Debug for ScratchDatabase {
    // The URLs hold the password: only the name is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_path(database);
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}
