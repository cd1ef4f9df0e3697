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
                skip_check(
                    "REQUIRE_POSTGRES",
                    &format!("the PostgreSQL half of `{test}`: TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)"),
                );
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

/// The diesel CLI, when installed: on PATH, in `$CARGO_HOME/bin` (where `cargo install` puts
/// it, even when that folder is not on PATH) or in `~/.cargo/bin`.
pub fn diesel_cli() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_homes = [
        std::env::var_os("CARGO_HOME").map(std::path::PathBuf::from),
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")),
    ];
    on_path
        .into_iter()
        .chain(cargo_homes.into_iter().flatten().map(|h| h.join("bin")))
        .map(|d| d.join("diesel"))
        .find(|p| p.is_file())
}

/// Whether this run is CI (`CI` set as GitHub Actions and `.ci/run` set it) or asked for
/// every check explicitly with `require_var=1`.
fn must_not_skip(require_var: &str) -> bool {
    let set = |name: &str| {
        std::env::var(name)
            .map(|v| !v.is_empty() && v != "0" && v != "false")
            .unwrap_or(false)
    };
    set("CI") || set(require_var)
}

/// Skips a check that needs something this machine lacks, with a printed notice; under CI (or
/// with `require_var=1`) the same situation fails the test, so CI never passes a skipped check.
pub fn skip_check(require_var: &str, reason: &str) {
    assert!(
        !must_not_skip(require_var),
        "{reason}, and under CI (or {require_var}=1) no check may be skipped: install what is missing"
    );
    eprintln!("NOTICE: skipped: {reason}");
}
