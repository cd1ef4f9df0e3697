//! `/health` (liveness, public) and `/health/data` (what the database holds, authenticated).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AppError, AppState};
use crate::storage::{self, StorageInfo};
use pf_data::counts::{count_all, has_user_data};
use pf_data::migrations;

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

/// The `/health/data` report; `cargo xtask verify-deploy` reads it back as this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataHealth {
    pub status: String,
    pub storage: StorageInfo,
    pub tables: BTreeMap<String, i64>,
    pub total_rows: i64,
    /// Rows beyond what the migrations seed: false on an empty (or wiped) database.
    pub has_data: bool,
    pub migrations: migrations::MigrationStatus,
    /// Which process answered (start time, deployment id): deploy checks compare it.
    pub instance: crate::instance::Instance,
    /// The newest backup verified from this service's backups folder (id and times), if any.
    pub last_verified_backup: Option<data_safety::VerifiedRecord>,
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
            let has_data = has_user_data(&tables);
            let pending = !migrations.pending.is_empty();
            Ok(DataHealth {
                status: if pending { "migrations_pending" } else { "ok" }.to_owned(),
                storage: storage::describe(&target),
                tables: tables.into_iter().map(|(t, n)| (t.to_owned(), n)).collect(),
                total_rows,
                has_data,
                migrations,
                instance: crate::instance::instance().clone(),
                last_verified_backup: data_safety::store::last_verified(
                    &admin.backups_dir(&target),
                ),
            })
        })
        .await?;
    Ok(Json(report))
}
