//! The bookkeeping jobs over HTTP (the `ledger` crate): run DCA plans, value a day's
//! holdings, read net worth.
//!
//! - `POST /api/v1/dca/run?as_of=YYYY-MM-DD` → `ledger::dca::DcaReport`
//! - `POST /api/v1/snapshots/run?date=YYYY-MM-DD` → `ledger::valuation::SnapshotReport`
//! - `GET /api/v1/net-worth?from=&to=` → `ledger::networth::NetWorth`
//!
//! Dates default to today in `system_config.snapshot_timezone`; net worth to the 365 days up
//! to `to`. A malformed date is a 400; data the job cannot work with (a missing rate, an
//! unpriced holding, a bad setting) a 422 naming what to add.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{AppError, AppState};
use ledger::error::ErrorKind;
use ledger::LedgerError;

pub const DCA_RUN: &str = "/api/v1/dca/run";
pub const SNAPSHOTS_RUN: &str = "/api/v1/snapshots/run";
pub const NET_WORTH: &str = "/api/v1/net-worth";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(DCA_RUN, post(dca_run))
        .route(SNAPSHOTS_RUN, post(snapshots_run))
        .route(NET_WORTH, get(net_worth))
}

fn app_error(err: LedgerError) -> AppError {
    match err.kind() {
        ErrorKind::BadInput => AppError::bad_request(err.to_string()),
        ErrorKind::MissingData => AppError::Client {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "incomplete_data",
            message: err.to_string(),
        },
        ErrorKind::Database => match err {
            LedgerError::Database(e) => AppError::from(e),
            other => AppError::Internal(other.to_string()),
        },
    }
}

fn today(conn: &mut db_conn::DbConnection) -> Result<NaiveDate, AppError> {
    Ok(ledger::settings::Settings::read(conn)
        .map_err(app_error)?
        .today())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AsOf {
    as_of: Option<NaiveDate>,
}

async fn dca_run(
    State(state): State<AppState>,
    params: Result<Query<AsOf>, QueryRejection>,
) -> Result<Json<ledger::dca::DcaReport>, AppError> {
    let as_of = params?.0.as_of;
    let report = state
        .with_conn(move |conn| {
            let as_of = match as_of {
                Some(day) => day,
                None => today(conn)?,
            };
            ledger::dca::run(conn, as_of).map_err(app_error)
        })
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Day {
    date: Option<NaiveDate>,
}

async fn snapshots_run(
    State(state): State<AppState>,
    params: Result<Query<Day>, QueryRejection>,
) -> Result<Json<ledger::valuation::SnapshotReport>, AppError> {
    let date = params?.0.date;
    let report = state
        .with_conn(move |conn| {
            let date = match date {
                Some(day) => day,
                None => today(conn)?,
            };
            ledger::valuation::run(conn, date).map_err(app_error)
        })
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

async fn net_worth(
    State(state): State<AppState>,
    params: Result<Query<Range>, QueryRejection>,
) -> Result<Json<ledger::networth::NetWorth>, AppError> {
    let Range { from, to } = params?.0;
    let worth = state
        .with_conn(move |conn| {
            let (from, to) = ledger::networth::window(conn, from, to).map_err(app_error)?;
            ledger::networth::series(conn, from, to).map_err(app_error)
        })
        .await?;
    Ok(Json(worth))
}

/// The three paths for the OpenAPI document.
pub fn openapi_paths(paths: &mut Map<String, Value>) {
    let date = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "description": description,
               "schema": {"type": "string", "format": "date"}})
    };
    let error = json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let ok = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}});
    let responses = |description: &str| json!({"200": ok(description), "400": error, "401": error, "422": error});
    paths.insert(
        DCA_RUN.into(),
        json!({"post": {"summary": "create the user_operations of every DCA purchase due up to as_of (idempotent)",
            "tags": ["ledger"], "parameters": [date("as_of", "last day to buy on; default today")],
            "responses": responses("created operations, plans seen, skipped plans and dates")}}),
    );
    paths.insert(
        SNAPSHOTS_RUN.into(),
        json!({"post": {"summary": "value every holding on date into asset_snapshots (replaces that day's rows)",
            "tags": ["ledger"], "parameters": [date("date", "day to value; default today")],
            "responses": responses("rows written and replaced, total in the base currency")}}),
    );
    paths.insert(
        NET_WORTH.into(),
        json!({"get": {"summary": "net worth per day in the base currency, with by_platform and by_currency (decimal strings)",
            "tags": ["ledger"], "parameters": [date("from", "first day; default 364 days before to"), date("to", "last day; default today")],
            "responses": responses("{base_currency, from, to, days: [{date, total, by_platform, by_currency}]}")}}),
    );
}
