//! Test databases (a fresh SQLite file or a fresh PostgreSQL database per test) and an
//! in-process HTTP client for the router.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backend::api::{self, AppState, Auth};
use backend::config::DatabaseTarget;
use backend::db::{self, DbConnection};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const TOKEN: &str = "test-token-0123456789abcdef";

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
                backend::config::redact_url(&admin)
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

/// The router over a migrated test database, called in-process.
pub struct TestApp {
    pub db: TestDb,
    router: axum::Router,
}

impl TestApp {
    pub fn new(db: TestDb) -> Self {
        // Server-side errors show in the failing test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        drop(db.migrated());
        let pool = db::pool(&db.target).expect("pool");
        let auth = Auth::from_token(Some(TOKEN.into()), false).expect("token");
        let state = AppState::new(pool, db.target.clone(), auth);
        let router = api::router(state);
        Self { db, router }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        self.call_raw(method, path, body.map(|b| b.to_string()), Some(TOKEN), true)
            .await
    }

    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        token: Option<&str>,
        json_content_type: bool,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() && json_content_type {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router never fails");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{method} {path}: {status} with a non-JSON body: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, value)
    }

    /// Row count of every table, read directly from the database.
    pub fn counts(&self) -> std::collections::BTreeMap<&'static str, i64> {
        let mut conn = self.db.connect();
        api::count_all(&mut conn).expect("count tables")
    }
}
