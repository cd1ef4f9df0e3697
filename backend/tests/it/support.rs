//! Test databases (a fresh SQLite file or a fresh PostgreSQL database per test) and an
//! in-process HTTP client for the router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backend::api::{self, AppState, Auth};
use db_conn as db;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub use test_kit::TestDb;

pub const TOKEN: &str = "test-token-0123456789abcdef";

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
        let auth =
            Auth::from_token(Some(TOKEN.into()), backend::api::TokenRule::Required).expect("token");
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
        pf_data::counts::count_all(&mut conn).expect("count tables")
    }
}
