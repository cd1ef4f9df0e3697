//! `/health` (liveness, public) and `/health/data` (what the database holds, authenticated).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::json;

use super::{AppError, AppState};
use crate::db::{migrations, DbConnection};
use crate::models::visit_all;
use crate::resource::{ListFilter, Resource, ResourceVisitor};
use crate::storage::{self, StorageInfo};

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let reachable = state
        .with_conn(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1").map_err(AppError::from)
        })
        .await;
    match reachable {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "reachable"})),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": e.to_string()})),
        ),
    }
}

#[derive(Debug, Serialize)]
pub struct DataHealth {
    pub status: &'static str,
    pub storage: StorageInfo,
    pub tables: BTreeMap<&'static str, i64>,
    pub total_rows: i64,
    /// Rows beyond what the migrations seed: false on an empty (or wiped) database.
    pub has_data: bool,
    pub migrations: migrations::MigrationStatus,
    /// Which process answered (start time, deployment id): deploy checks compare it.
    pub instance: &'static crate::server::Instance,
    /// The newest backup verified from this service's backups folder (id and times), if any.
    pub last_verified_backup: Option<crate::backup::VerifiedRecord>,
}

pub async fn data(State(state): State<AppState>) -> Result<Json<DataHealth>, AppError> {
    let target = state.target.clone();
    let admin = state.admin.clone();
    let report = state
        .with_conn(move |conn| {
            let tables = count_all(conn)?;
            let migrations =
                migrations::status(conn).map_err(|e| AppError::Internal(e.to_string()))?;
            let total_rows = tables.values().sum();
            // The same rule the persistence guard's data marker uses.
            let has_data = crate::guard::has_user_data(&tables);
            let pending = !migrations.pending.is_empty();
            Ok(DataHealth {
                status: if pending { "migrations_pending" } else { "ok" },
                storage: storage::describe(&target),
                tables,
                total_rows,
                has_data,
                migrations,
                instance: crate::server::instance(),
                last_verified_backup: crate::backup::store::last_verified(
                    &admin.backups_dir(&target),
                ),
            })
        })
        .await?;
    Ok(Json(report))
}

/// Row count of every table.
pub fn count_all(conn: &mut DbConnection) -> Result<BTreeMap<&'static str, i64>, AppError> {
    struct Counter<'a> {
        conn: &'a mut DbConnection,
        counts: Result<BTreeMap<&'static str, i64>, AppError>,
    }
    impl ResourceVisitor for Counter<'_> {
        fn visit<R: Resource>(&mut self) {
            if let Ok(counts) = &mut self.counts {
                match R::count(self.conn, &ListFilter::default()) {
                    Ok(n) => {
                        counts.insert(R::TABLE, n);
                    }
                    Err(e) => self.counts = Err(e.into()),
                }
            }
        }
    }
    let mut counter = Counter {
        conn,
        counts: Ok(BTreeMap::new()),
    };
    visit_all(&mut counter);
    counter.counts
}
