//! The one error type of the HTTP boundary, rendered as `{"error": {...}}` JSON.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Details are logged, never sent: they may name internals.
    #[error("internal error")]
    Internal(String),
}

/// Which kind of write failed, for [`AppError::from_write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// A read, create or update.
    Store,
    Delete,
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, "conflict", message)
    }

    fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Client { status, .. } => *status,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Client { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::Unavailable(_) => "database_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Maps a failed write: a missing parent is the client's mistake (422), a duplicate a
    /// conflict (409). A delete's foreign-key failure means "still referenced".
    pub fn from_write(err: DieselError, table: &str, id: Option<i64>, write: Write) -> Self {
        let deleting = write == Write::Delete;
        match err {
            DieselError::NotFound => Self::not_found(match id {
                Some(id) => format!("{table} has no row with id {id}"),
                None => format!("{table}: row not found"),
            }),
            DieselError::DatabaseError(kind, info) => {
                let detail = match info.details() {
                    Some(d) => format!("{} ({d})", info.message()),
                    None => info.message().to_owned(),
                };
                match kind {
                    DatabaseErrorKind::ForeignKeyViolation if deleting => Self::conflict(format!(
                        "{table} row {} is still referenced by other rows; delete or re-point those first: {detail}",
                        id.unwrap_or_default()
                    )),
                    DatabaseErrorKind::ForeignKeyViolation => Self::unprocessable(format!(
                        "a referenced row does not exist; create it first or fix the id: {detail}"
                    )),
                    DatabaseErrorKind::UniqueViolation => Self::conflict(format!(
                        "{table} already has a row with these unique values: {detail}"
                    )),
                    DatabaseErrorKind::NotNullViolation | DatabaseErrorKind::CheckViolation => {
                        Self::unprocessable(format!("{table}: {detail}"))
                    }
                    _ => Self::Internal(format!("{table}: {detail}")),
                }
            }
            other => Self::Internal(format!("{table}: {other}")),
        }
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        Self::from_write(err, "database", None, Write::Store)
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        let code = match &r {
            JsonRejection::JsonDataError(_) => "invalid_body",
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ => "unreadable_body",
        };
        let mut message = r.body_text();
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            message = format!(
                "request body too large: at most {} bytes",
                super::MAX_BODY_BYTES
            );
        }
        Self::client(r.status(), code, message)
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        Self::client(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        Self::client(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let body =
            json!({"error": {"status": status.as_u16(), "code": self.code(), "message": message}});
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
