//! The page a person looks at: `GET /` (net worth chart, breakdowns, imports, health), drawn
//! in the browser by `assets/app.js` from the JSON API, plus its login.
//!
//! - `GET /`: the page with a valid session (or with auth disabled), else a login form (200).
//!   `/?token=<API_TOKEN>` logs in once and redirects to `/` so the token leaves the URL bar.
//! - `POST /login` (form field `token`): sets the session cookie and redirects to `/`; a wrong
//!   token gets the form again with 401.
//! - `POST /logout`: clears the cookie and redirects to `/`.
//! - `GET /assets/app.js`, `GET /assets/app.css`: behind the session like the API.
//!
//! Everything is embedded in the binary: the machine serving it may have no internet.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::auth::SESSION_COOKIE;
use super::AppState;

const INDEX_HTML: &str = include_str!("../../assets/index.html");
const LOGIN_HTML: &str = include_str!("../../assets/login.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");

/// Where the login form's message goes.
const MESSAGE_SLOT: &str = "<!--message-->";

/// Only our own files, no inline script; the API is the only thing the page fetches.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";
/// The login form is one static file with its style inline and no script at all.
const LOGIN_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/assets/app.js", get(|| asset(APP_JS, "text/javascript")))
        .route("/assets/app.css", get(|| asset(APP_CSS, "text/css")))
}

#[derive(Debug, Deserialize)]
struct IndexQuery {
    token: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<IndexQuery>,
) -> Response {
    if let Some(token) = query.token {
        return log_in(&state, &headers, token.as_bytes());
    }
    if state.auth.accepts_session(&headers) {
        html(StatusCode::OK, INDEX_HTML.to_owned(), PAGE_CSP)
    } else {
        login_form(StatusCode::OK, "")
    }
}

async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match form_field(&body, "token") {
        Some(token) => log_in(&state, &headers, &token),
        None => login_form(StatusCode::BAD_REQUEST, "Enter the API token."),
    }
}

async fn logout(headers: HeaderMap) -> Response {
    let cookie = format!(
        "{SESSION_COOKIE}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/{}",
        secure_suffix(&headers)
    );
    redirect_home(Some(cookie))
}

/// Checks `token` (constant time) and, when right, sets the session and goes to the page.
fn log_in(state: &AppState, headers: &HeaderMap, token: &[u8]) -> Response {
    if !state.auth.accepts(token) {
        return login_form(
            StatusCode::UNAUTHORIZED,
            "That token is not this service's API_TOKEN.",
        );
    }
    // With auth disabled (--dev) there is no session to set: the page is open.
    let cookie = state.auth.session_value().map(|value| {
        format!(
            "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/{}",
            secure_suffix(headers)
        )
    });
    redirect_home(cookie)
}

/// `; Secure` behind an HTTPS proxy (the platform's edge says so); plain HTTP on loopback
/// must still work for local use.
fn secure_suffix(headers: &HeaderMap) -> &'static str {
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    if https {
        "; Secure"
    } else {
        ""
    }
}

fn redirect_home(cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, value);
    }
    response
}

/// The login form with `message` (always one of this file's fixed texts, never user input).
fn login_form(status: StatusCode, message: &str) -> Response {
    let message = if message.is_empty() {
        String::new()
    } else {
        format!(r#"<p class="error" id="login-error">{message}</p>"#)
    };
    html(
        status,
        LOGIN_HTML.replace(MESSAGE_SLOT, &message),
        LOGIN_CSP,
    )
}

fn html(status: StatusCode, body: String, csp: &'static str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn asset(body: &'static str, mime: &'static str) -> Response {
    let content_type = format!("{mime}; charset=utf-8");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Behind the session: a shared cache must not keep it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The first value of `name` in an `application/x-www-form-urlencoded` body, decoded.
fn form_field(body: &[u8], name: &str) -> Option<Vec<u8>> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (url_decode(key)? == name.as_bytes()).then(|| url_decode(value))?
    })
}

/// `+` is a space and `%XX` a byte; a malformed escape makes the field unreadable.
fn url_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter();
    while let Some(&b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let hi = (*bytes.next()? as char).to_digit(16)?;
                let lo = (*bytes.next()? as char).to_digit(16)?;
                (hi * 16 + lo) as u8
            }
            other => other,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(
            form_field(b"a=1&token=ab%2Bc+d%3D", "token").as_deref(),
            Some(&b"ab+c d="[..])
        );
        assert_eq!(form_field(b"token=", "token").as_deref(), Some(&b""[..]));
        assert_eq!(form_field(b"tokens=x", "token"), None);
        assert_eq!(form_field(b"token=%zz", "token"), None);
        assert_eq!(form_field(b"token=%4", "token"), None);
        assert_eq!(form_field(b"", "token"), None);
    }

    #[test]
    fn embedded_files_carry_the_hooks_the_page_needs() {
        assert!(LOGIN_HTML.contains(MESSAGE_SLOT));
        assert!(LOGIN_HTML.contains(r#"action="/login""#));
        assert!(INDEX_HTML.contains(r#"src="/assets/app.js""#));
        assert!(!INDEX_HTML.contains("http://") && !INDEX_HTML.contains("https://"));
    }
}
