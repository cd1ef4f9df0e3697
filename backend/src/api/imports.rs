//! Statement imports over HTTP (crates/imports):
//!
//! - `POST /api/v1/imports/{source}` (`ibkr`, `wise`, `okx`, `evm`): the body is the raw file.
//!   Answers the `ImportReport` JSON; a malformed or foreign file is a 422 whose message is the
//!   importer's one line (naming the line, element or JSON path), and nothing is written; an
//!   unknown source is a 404 listing the accepted ones.
//! - `GET /api/v1/imports?limit=N` (1-500, default 20): the latest runs, newest first, as
//!   `{"runs": [{id, source, file_sha256, started_at, finished_at, status, added, updated,
//!   skipped, error}]}`.
//!
//! Body size: statements are larger than the API's 1 MiB [`super::MAX_BODY_BYTES`] (a Flex
//! statement of 100,000 trades is about 90 MB), so this route lifts that limit and applies its
//! own, [`MAX_IMPORT_BYTES`]. The body is streamed into the importer through a channel, never
//! buffered whole, so an IBKR import's memory stays flat in the file's size (the smaller
//! formats are read whole by their parsers).

use std::io::{BufReader, Read};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::stream::ChannelReader;
use super::{AppError, AppState};
use imports::{ImportError, ImportReport, Source};

/// Largest statement accepted over HTTP: 256 MiB (about 280,000 Flex trades).
pub const MAX_IMPORT_BYTES: u64 = 256 * 1024 * 1024;
const DEFAULT_RUNS: i64 = 20;
const MAX_RUNS: i64 = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/imports", get(list)).route(
        "/api/v1/imports/{source}",
        post(upload).layer(DefaultBodyLimit::disable()),
    )
}

/// One run as `GET /api/v1/imports` lists it (the page of latest imports reads this shape).
#[derive(Debug, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub source: String,
    pub file_sha256: Option<String>,
    pub started_at: chrono::NaiveDateTime,
    pub finished_at: Option<chrono::NaiveDateTime>,
    pub status: String,
    pub added: i32,
    pub updated: i32,
    pub skipped: i32,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Runs {
    pub runs: Vec<RunView>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Runs>, AppError> {
    let Query(params) = params?;
    let limit = params.limit.unwrap_or(DEFAULT_RUNS);
    if !(1..=MAX_RUNS).contains(&limit) {
        return Err(AppError::bad_request(format!(
            "limit {limit} is out of range: use 1 to {MAX_RUNS}"
        )));
    }
    let rows = state
        .with_conn(move |conn| Ok(imports::latest_runs(conn, limit)?))
        .await?;
    let runs = rows
        .into_iter()
        .map(|r| RunView {
            id: r.id,
            source: r.source,
            file_sha256: r.file_sha256,
            started_at: r.started_at,
            finished_at: r.finished_at,
            status: r.status,
            added: r.added,
            updated: r.updated,
            skipped: r.skipped,
            error: r.error,
        })
        .collect();
    Ok(Json(Runs { runs }))
}

async fn upload(
    State(state): State<AppState>,
    Path(source): Path<String>,
    body: Body,
) -> Result<Json<ImportReport>, AppError> {
    let source: Source = source
        .parse()
        .map_err(|e: statements::StatementError| AppError::not_found(e.to_string()))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let importing = state.with_conn(move |conn| {
        let mut reader = ChannelReader::new(rx);
        let result = imports::import(conn, source, BufReader::new(&mut reader));
        // Drain, so the sender never waits on a reader that stopped.
        let mut sink = [0u8; 8192];
        while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
        Ok(result)
    });
    let pumping = pump(body, tx);
    let (imported, too_large) = tokio::join!(importing, pumping);
    if too_large {
        return Err(AppError::Client {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: format!(
                "statement too large: at most {MAX_IMPORT_BYTES} bytes over HTTP; import it with `backend statements import --source {source} FILE`"
            ),
        });
    }
    imported?.map(Json).map_err(import_error)
}

/// Forwards the body to the importer; true when it exceeded [`MAX_IMPORT_BYTES`] (the importer
/// then gets a read error and rolls back).
async fn pump(body: Body, tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) -> bool {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let item = chunk.map_err(|e| std::io::Error::other(e.to_string()));
        if let Ok(bytes) = &item {
            total += bytes.len() as u64;
            if total > MAX_IMPORT_BYTES {
                let _ = tx
                    .send(Err(std::io::Error::other("the statement is too large")))
                    .await;
                return true;
            }
        }
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            break;
        }
    }
    false
}

fn import_error(err: ImportError) -> AppError {
    if err.is_input_error() {
        AppError::unprocessable(err.one_line())
    } else {
        AppError::Internal(err.one_line())
    }
}

/// The two import routes in the OpenAPI document.
pub fn openapi_paths(paths: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::json;
    let error = json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let ok = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}});
    paths.insert(
        "/api/v1/imports".into(),
        json!({"get": {"summary": "the latest import and sync runs, newest first",
            "tags": ["imports"],
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_RUNS}}],
            "responses": {"200": ok("{runs: [{id, source, file_sha256, started_at, finished_at, status, added, updated, skipped, error}]}"), "400": error, "401": error}}}),
    );
    paths.insert(
        "/api/v1/imports/{source}".into(),
        json!({"post": {"summary": "import a provider's statement file (the raw body); importing it again changes nothing",
            "tags": ["imports"],
            "parameters": [{"name": "source", "in": "path", "required": true, "schema": {"type": "string", "enum": ["ibkr", "wise", "okx", "evm"]}}],
            "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": ok("{source, added, updated, skipped, per_table, run_id, file_sha256}"), "401": error, "404": error, "413": error, "422": error}}}),
    );
}
