//! Admin-only endpoints, authorized by `ADMIN_TOKEN` (never by the API token):
//!
//! - `GET /api/v1/admin/backup`: takes a backup (consistent snapshot + manifest), verifies it,
//!   and streams it as a ustar archive (`application/x-tar`: `manifest.json`, then the
//!   snapshot; see `backup::archive`). Header `x-backup-id` names it. The server keeps no copy;
//!   it records the verification for `/health/data`. This is how CI backs up a SQLite
//!   database that lives on the platform's volume (`cargo xtask backup --remote URL`).
//! - `POST /api/v1/admin/restore`: the body is such an archive; the backup is verified,
//!   refused if newer than this code, the current state backed up on the server, then
//!   restored in one transaction while the service keeps running. Answers the
//!   `RestoreReport` as JSON.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::stream::ChannelReader;
use super::{AppError, AppState, Auth, MIN_TOKEN_LEN};
use data_safety::{self as backup, archive, store, BackupError, RestoreReport, SwapMode};

/// Every admin route starts with this.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdminConfigError {
    #[error("ADMIN_TOKEN is too short ({0} characters): use at least {MIN_TOKEN_LEN}, e.g. `openssl rand -hex 32`")]
    TooShort(usize),
    #[error("ADMIN_TOKEN equals API_TOKEN: the admin token must be a different secret (e.g. `openssl rand -hex 32`)")]
    SameAsApiToken,
}

/// The admin token, when admin endpoints are enabled, and where the service keeps backups.
#[derive(Clone, Default)]
pub struct AdminToken(Option<String>, Option<std::path::PathBuf>);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "AdminToken(***)"
        } else {
            "AdminToken(disabled)"
        })
    }
}

impl AdminToken {
    /// The token the admin endpoints accept; None when they are disabled.
    pub(super) fn expected(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// `ADMIN_TOKEN`'s value: unset or empty disables the admin endpoints.
    pub fn new(token: Option<String>, api: &Auth) -> Result<Self, AdminConfigError> {
        let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
            return Ok(Self(None, None));
        };
        if token.len() < MIN_TOKEN_LEN {
            return Err(AdminConfigError::TooShort(token.len()));
        }
        if let Auth::Token(api) = api {
            if api.as_bytes() == token.as_bytes() {
                return Err(AdminConfigError::SameAsApiToken);
            }
        }
        Ok(Self(Some(token), None))
    }

    /// Keeps the service's backups (and its last-verified record) in `dir` instead of
    /// [`store::dir_for`]'s default.
    pub fn with_backups_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.1 = Some(dir.into());
        self
    }

    /// Where the service keeps backups for `target`.
    pub fn backups_dir(&self, target: &db_conn::DatabaseTarget) -> std::path::PathBuf {
        self.1.clone().unwrap_or_else(|| store::dir_for(target))
    }

    pub fn from_env(api: &Auth) -> Result<Self, AdminConfigError> {
        Self::new(std::env::var("ADMIN_TOKEN").ok(), api)
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/backup", get(download))
        // A backup is larger than the API's body limit; it is streamed to disk, never buffered.
        .route(
            "/api/v1/admin/restore",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
}

fn backup_error(e: BackupError) -> AppError {
    let (status, code) = match &e {
        BackupError::Damaged { .. }
        | BackupError::Mismatch { .. }
        | BackupError::NewerThanCode { .. }
        | BackupError::BackendMismatch { .. }
        | BackupError::BadManifest { .. }
        | BackupError::Refused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "backup_refused"),
        BackupError::ToolMissing { .. } | BackupError::ToolTooOld { .. } => {
            (StatusCode::SERVICE_UNAVAILABLE, "tool_unavailable")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "backup_failed"),
    };
    tracing::warn!(error = %e, "admin backup operation failed");
    AppError::Client {
        status,
        code,
        message: e.to_string(),
    }
}

fn task_failed(e: tokio::task::JoinError) -> AppError {
    AppError::Internal(format!("backup task failed: {e}"))
}

/// Sends what is written, in chunks, to the response body.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 256 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

async fn download(State(state): State<AppState>) -> Result<Response, AppError> {
    let target = (*state.target).clone();
    let dir = state.admin.backups_dir(&target);
    let info = tokio::task::spawn_blocking(move || {
        // Plaintext, verified here, sent over the authorized connection: the client encrypts
        // it as it writes it (`pre-deploy --remote`), the server holds no identity.
        let options = backup::CreateOptions {
            note: Some("downloaded through GET /api/v1/admin/backup".into()),
            encrypt_to: None,
        };
        let info = backup::create_with(&target, &dir, &options)?;
        // A backup that does not verify is never sent; the folder is removed either way.
        if let Err(e) = backup::verify(&info.path, &target) {
            let _ = store::delete(&info.path);
            return Err(e);
        }
        Ok(info)
    })
    .await
    .map_err(task_failed)?
    .map_err(backup_error)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let path = info.path.clone();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let sent = archive::write_backup(&path, &mut writer);
        if let Err(e) = sent {
            tracing::warn!(error = %e, "sending a backup failed");
            // An error item aborts the response: the client sees a truncated archive.
            let _ = writer
                .tx
                .blocking_send(Err(std::io::Error::other(e.to_string())));
        }
        let _ = store::delete(&path);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-tar")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.tar\"", info.id),
        )
        .header("x-backup-id", info.id.as_str())
        .body(Body::from_stream(stream))
        .map_err(|e| AppError::Internal(e.to_string()))
}

async fn upload(
    State(state): State<AppState>,
    body: Body,
) -> Result<Json<RestoreReport>, AppError> {
    static UPLOADS: AtomicUsize = AtomicUsize::new(0);
    let target = (*state.target).clone();
    let dir = state.admin.backups_dir(&target);
    let staging = dir.join(format!(
        "{}upload{}-{}",
        store::TEMP_PREFIX,
        UPLOADS.fetch_add(1, Ordering::SeqCst),
        std::process::id()
    ));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let unpack_into = staging.clone();
    let unpacking = tokio::task::spawn_blocking(move || {
        store::create_private_dir(unpack_into.parent().unwrap_or(std::path::Path::new(".")))?;
        let mut reader = ChannelReader::new(rx);
        let result = archive::unpack(&mut reader, &unpack_into);
        // Drain, so the sender never waits on a reader that stopped.
        let mut sink = [0u8; 8192];
        while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
        result
    });
    let mut stream = body.into_data_stream();
    use futures_util::StreamExt;
    while let Some(chunk) = stream.next().await {
        let item = chunk.map_err(|e| std::io::Error::other(e.to_string()));
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            break;
        }
    }
    drop(tx);
    let unpacked = unpacking.await.map_err(task_failed)?;
    let cleanup = safe_fs::RemoveOnDrop::new(&staging);
    unpacked.map_err(backup_error)?;
    let report = tokio::task::spawn_blocking(move || {
        // The safety backup is encrypted when the service has BACKUP_RECIPIENTS.
        let keys = backup::Keys::from_env()?;
        let history = pf_data::migrations::embedded(target.backend());
        backup::restore_with(
            &target,
            &dir,
            &staging,
            SwapMode::Transaction,
            history,
            &keys,
        )
    })
    .await
    .map_err(task_failed)?
    .map_err(backup_error)?;
    drop(cleanup);
    tracing::info!(restored = %report.restored, safety_backup = ?report.safety_backup, "restored a backup uploaded to POST /api/v1/admin/restore");
    Ok(Json(report))
}
