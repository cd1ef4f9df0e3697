//! Bearer-token authentication for everything but `/health`.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::{AppError, AppState};

/// Tokens shorter than this are refused at startup: they can be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

/// The one route served without a token: platforms probe it.
pub const PUBLIC_PATH: &str = "/health";

#[derive(Clone)]
pub enum Auth {
    Token(String),
    /// `--dev` without a token: every request is accepted (and startup says so loudly).
    Disabled,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Token(_) => "Auth::Token(***)",
            Self::Disabled => "Auth::Disabled",
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthConfigError {
    #[error("API_TOKEN is not set: set it to a long random secret (e.g. `openssl rand -hex 32`), or pass --dev to run without authentication locally")]
    Missing,
    #[error("API_TOKEN is too short ({0} characters): use at least {MIN_TOKEN_LEN}, e.g. `openssl rand -hex 32`")]
    TooShort(usize),
}

impl Auth {
    /// The token from `API_TOKEN`; `dev` allows running without one.
    pub fn from_token(token: Option<String>, dev: bool) -> Result<Self, AuthConfigError> {
        match token.filter(|t| !t.trim().is_empty()) {
            Some(t) if t.len() < MIN_TOKEN_LEN => Err(AuthConfigError::TooShort(t.len())),
            Some(t) => Ok(Self::Token(t)),
            None if dev => Ok(Self::Disabled),
            None => Err(AuthConfigError::Missing),
        }
    }

    fn accepts(&self, presented: &[u8]) -> bool {
        match self {
            // Constant time over the secret, so timing does not reveal how much matched.
            Self::Token(expected) => bool::from(expected.as_bytes().ct_eq(presented)),
            Self::Disabled => true,
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header, if any.
pub(super) fn bearer_token(req: &Request) -> Option<&[u8]> {
    req.headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(|v| {
            v.strip_prefix(b"Bearer ")
                .or_else(|| v.strip_prefix(b"bearer "))
        })
}

pub async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if req.uri().path().starts_with(super::admin::PREFIX) {
        return super::admin::require_admin(&state, req, next).await;
    }
    if matches!(*state.auth, Auth::Disabled) || req.uri().path() == PUBLIC_PATH {
        return Ok(next.run(req).await);
    }
    match bearer_token(&req) {
        None => Err(AppError::Unauthorized(
            "missing bearer token: send the header `Authorization: Bearer <API_TOKEN>`".into(),
        )),
        Some(token) if state.auth.accepts(token) => Ok(next.run(req).await),
        Some(_) => Err(AppError::Unauthorized("invalid bearer token".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rules() {
        assert_eq!(
            Auth::from_token(None, false).unwrap_err(),
            AuthConfigError::Missing
        );
        assert_eq!(
            Auth::from_token(Some("  ".into()), false).unwrap_err(),
            AuthConfigError::Missing
        );
        assert_eq!(
            Auth::from_token(Some("short".into()), true).unwrap_err(),
            AuthConfigError::TooShort(5)
        );
        assert!(matches!(
            Auth::from_token(None, true).unwrap(),
            Auth::Disabled
        ));
        let auth = Auth::from_token(Some("0123456789abcdef".into()), false).unwrap();
        assert!(auth.accepts(b"0123456789abcdef"));
        assert!(!auth.accepts(b"0123456789abcdeF"));
        assert!(!auth.accepts(b"0123456789abcde"));
        assert!(!format!("{auth:?}").contains("0123"));
    }
}
