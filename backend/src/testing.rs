//! Databases for tests: a fresh SQLite file, or a fresh PostgreSQL database created on the
//! server `TEST_DATABASE_URL` names and dropped afterwards. Shared by the test suites of every
//! crate (no mocked database anywhere). `REQUIRE_POSTGRES=1` turns a missing server into a
//! failure instead of a printed skip.

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::config::DatabaseTarget;
use crate::db::{self, DbConnection};

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    pub target: DatabaseTarget,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = DatabaseTarget::sqlite(dir.path().join("data").join("test.db"));
        Self {
            target,
            _dir: Some(dir),
            pg_cleanup: None,
        }
    }

    /// A new empty PostgreSQL database, or None (with a printed notice) when no server is
    /// configured. With REQUIRE_POSTGRES=1 a missing server fails the test instead.
    pub fn postgres(test: &str) -> Option<Self> {
        let admin = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: point it at a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres"
                );
                eprintln!("NOTICE: skipping the PostgreSQL half of `{test}`: TEST_DATABASE_URL is not set");
                return None;
            }
        };
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pf_it_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            chrono::Utc::now().timestamp_micros() % 1_000_000
        );
        let mut conn = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
            panic!(
                "cannot reach TEST_DATABASE_URL ({}): {e}",
                crate::config::redact_url(&admin)
            )
        });
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(Self {
            target: DatabaseTarget::Postgres {
                url: url.to_string(),
            },
            _dir: None,
            pg_cleanup: Some((admin, name)),
        })
    }

    /// SQLite always, PostgreSQL when configured: every database test runs on both.
    pub fn each(test: &str) -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres(test));
        dbs
    }

    pub fn connect(&self) -> DbConnection {
        db::establish(&self.target).expect("connect to test database")
    }

    pub fn migrated(&self) -> DbConnection {
        let mut conn = self.connect();
        db::migrations::run_pending(&mut conn).expect("migrate test database");
        conn
    }

    pub fn name(&self) -> &'static str {
        self.target.backend_name()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_cleanup {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// The diesel CLI, when installed (on PATH or in ~/.cargo/bin).
pub fn diesel_cli() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("diesel"))
            .find(|p| p.is_file())
    });
    let in_cargo = std::env::var_os("HOME")
        .map(|h| std::path::PathBuf::from(h).join(".cargo/bin/diesel"))
        .filter(|p| p.is_file());
    on_path.or(in_cargo)
}
