//! Databases for tests: a fresh SQLite file, or a fresh PostgreSQL database created on the
//! server `TEST_DATABASE_URL` names and dropped afterwards. Shared by the test suites of every
//! crate (no mocked database anywhere). `REQUIRE_POSTGRES=1` turns a missing server into a
//! failure instead of a printed skip.

use db_conn::DatabaseTarget;
use db_conn::{self as db, DbConnection};

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    pub target: DatabaseTarget,
    _dir: Option<tempfile::TempDir>,
    /// Dropped with the test: the database goes with it.
    _pg: Option<db_conn::scratch::ScratchDatabase>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = DatabaseTarget::sqlite(dir.path().join("data").join("test.db"));
        Self {
            target,
            _dir: Some(dir),
            _pg: None,
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
        let scratch = db_conn::scratch::ScratchDatabase::create(&admin, "it")
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
        Some(Self {
            target: scratch.target(),
            _dir: None,
            _pg: Some(scratch),
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
        pf_data::migrations::run_pending(&mut conn).expect("migrate test database");
        conn
    }

    pub fn name(&self) -> &'static str {
        self.target.backend_name()
    }
}

pub use migration_engine::diesel_cli::find as diesel_cli;

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
