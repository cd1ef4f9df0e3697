//! Bearer-token authentication for everything but `/health` and the page's login routes.
//!
//! A browser cannot send the header, so the page logs in once (`POST /login`) and gets a
//! session cookie instead. The cookie never holds the token: it holds
//! `sha256(tag, per-process random key, token)`, so a stolen cookie does not reveal the token
//! and every cookie dies with the process. The cookie is only accepted for GET/HEAD (the
//! page only reads), so no form on another site can write with it.

use std::sync::OnceLock;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AppError, AppState};

/// Tokens shorter than this are refused at startup: they can be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

/// The one route served without a token: platforms probe it.
pub const PUBLIC_PATH: &str = "/health";

/// The page's routes that answer without a session themselves (a login form, a redirect).
pub const PAGE_PATHS: &[&str] = &["/", "/login", "/logout"];

/// Name of the page's session cookie.
pub const SESSION_COOKIE: &str = "pf_session";

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

/// Whether the service may start without `API_TOKEN` (`--dev`, local use only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRule {
    Required,
    OptionalForDev,
}

impl Auth {
    /// The token from `API_TOKEN`; [`TokenRule::OptionalForDev`] allows running without one.
    pub fn from_token(token: Option<String>, rule: TokenRule) -> Result<Self, AuthConfigError> {
        let dev = rule == TokenRule::OptionalForDev;
        match token.filter(|t| !t.trim().is_empty()) {
            Some(t) if t.len() < MIN_TOKEN_LEN => Err(AuthConfigError::TooShort(t.len())),
            Some(t) => Ok(Self::Token(t)),
            None if dev => Ok(Self::Disabled),
            None => Err(AuthConfigError::Missing),
        }
    }

    pub(super) fn accepts(&self, presented: &[u8]) -> bool {
        match self {
            // Constant time over the secret, so timing does not reveal how much matched.
            Self::Token(expected) => bool::from(expected.as_bytes().ct_eq(presented)),
            Self::Disabled => true,
        }
    }

    /// The session cookie's value for the configured token (None when auth is disabled).
    pub(super) fn session_value(&self) -> Option<String> {
        match self {
            Self::Token(token) => Some(session_digest(token.as_bytes())),
            Self::Disabled => None,
        }
    }

    /// Whether the request carries this process's session cookie for the configured token.
    pub(super) fn accepts_session(&self, headers: &HeaderMap) -> bool {
        match self.session_value() {
            Some(expected) => session_cookie(headers)
                .is_some_and(|presented| bool::from(expected.as_bytes().ct_eq(presented))),
            None => true,
        }
    }
}

/// Hex of `sha256(tag || key || token)` with this process's random key.
fn session_digest(token: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"pf-session-v1\0");
    hasher.update(session_key());
    hasher.update(token);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 32 random bytes drawn once per process; restarting the service logs every browser out.
fn session_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        use std::io::Read;
        let mut key = [0u8; 32];
        let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key));
        if from_os.is_err() {
            // No /dev/urandom (not Linux): std's hasher keys are seeded from the OS's
            // random source too; hash a few of them into the key.
            use std::hash::{BuildHasher, Hasher};
            let state = std::collections::hash_map::RandomState::new();
            for (i, chunk) in key.chunks_mut(8).enumerate() {
                let mut h = state.build_hasher();
                h.write_usize(i);
                h.write_u128(
                    std::time::SystemTime::UNIX_EPOCH
                        .elapsed()
                        .map_or(0, |d| d.as_nanos()),
                );
                chunk.copy_from_slice(&h.finish().to_le_bytes());
            }
        }
        key
    })
}

/// The value of the session cookie among the request's `Cookie` headers, if any.
fn session_cookie(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .find_map(|pair| {
            let pair = pair.trim_ascii();
            pair.strip_prefix(SESSION_COOKIE.as_bytes())?
                .strip_prefix(b"=")
        })
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
    if req.uri().path().starts_with(ADMIN_PREFIX) {
        return require_admin(&state, req, next).await;
    }
    let path = req.uri().path();
    if matches!(*state.auth, Auth::Disabled) || path == PUBLIC_PATH || PAGE_PATHS.contains(&path) {
        return Ok(next.run(req).await);
    }
    // The page's session stands in for the header on reads only; the header path is unchanged.
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    match bearer_token(&req) {
        None if read && state.auth.accepts_session(req.headers()) => Ok(next.run(req).await),
        None => Err(AppError::Unauthorized(
            "missing bearer token: send the header `Authorization: Bearer <API_TOKEN>`".into(),
        )),
        Some(token) if state.auth.accepts(token) => Ok(next.run(req).await),
        Some(_) => Err(AppError::Unauthorized("invalid bearer token".into())),
    }
}

/// Where the admin endpoints live: only `ADMIN_TOKEN` opens them.
pub const ADMIN_PREFIX: &str = "/api/v1/admin/";

/// The admin check (called by the token middleware for every path under [`ADMIN_PREFIX`]):
/// 401 without a token or with a wrong one, 403 with the API token or when disabled.
async fn require_admin(state: &AppState, req: Request, next: Next) -> Result<Response, AppError> {
    let presented = bearer_token(&req);
    let forbidden = |message: &str| AppError::Client {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        message: message.into(),
    };
    let Some(presented) = presented else {
        return Err(AppError::Unauthorized(
            "missing bearer token: admin endpoints need the header `Authorization: Bearer <ADMIN_TOKEN>`".into(),
        ));
    };
    let Some(expected) = state.admin.expected() else {
        return Err(forbidden(
            "admin endpoints are disabled: set ADMIN_TOKEN on the service to enable them",
        ));
    };
    if bool::from(expected.as_bytes().ct_eq(presented)) {
        return Ok(next.run(req).await);
    }
    if let Auth::Token(api) = &*state.auth {
        if bool::from(api.as_bytes().ct_eq(presented)) {
            return Err(forbidden(
                "the API token cannot use admin endpoints: send ADMIN_TOKEN",
            ));
        }
    }
    Err(AppError::Unauthorized("invalid admin token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rules() {
        assert_eq!(
            Auth::from_token(None, TokenRule::Required).unwrap_err(),
            AuthConfigError::Missing
        );
        assert_eq!(
            Auth::from_token(Some("  ".into()), TokenRule::Required).unwrap_err(),
            AuthConfigError::Missing
        );
        assert_eq!(
            Auth::from_token(Some("short".into()), TokenRule::OptionalForDev).unwrap_err(),
            AuthConfigError::TooShort(5)
        );
        assert!(matches!(
            Auth::from_token(None, TokenRule::OptionalForDev).unwrap(),
            Auth::Disabled
        ));
        let auth = Auth::from_token(Some("0123456789abcdef".into()), TokenRule::Required).unwrap();
        assert!(auth.accepts(b"0123456789abcdef"));
        assert!(!auth.accepts(b"0123456789abcdeF"));
        assert!(!auth.accepts(b"0123456789abcde"));
        assert!(!format!("{auth:?}").contains("0123"));
    }

    fn cookie_headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, value.parse().unwrap());
        headers
    }

    #[test]
    fn session_cookie_holds_a_digest_not_the_token() {
        let token = "0123456789abcdef";
        let auth = Auth::from_token(Some(token.into()), TokenRule::Required).unwrap();
        let value = auth.session_value().unwrap();
        assert_eq!(value.len(), 64);
        assert!(!value.contains(token));
        let other = Auth::from_token(Some("fedcba9876543210".into()), TokenRule::Required).unwrap();
        assert_ne!(other.session_value().unwrap(), value);

        let good = cookie_headers(&format!("theme=dark; {SESSION_COOKIE}={value}; x=1"));
        assert!(auth.accepts_session(&good));
        assert!(!other.accepts_session(&good));
        assert!(!auth.accepts_session(&cookie_headers(&format!("{SESSION_COOKIE}={token}"))));
        assert!(!auth.accepts_session(&cookie_headers(&format!("x{SESSION_COOKIE}={value}"))));
        assert!(!auth.accepts_session(&HeaderMap::new()));
        assert!(Auth::Disabled.accepts_session(&HeaderMap::new()));
    }
}
