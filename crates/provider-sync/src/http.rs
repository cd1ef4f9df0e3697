//! The retrying, timeout-bounded blocking HTTP transport shared by all clients.
//!
//! Retried: connection errors (refused/reset/DNS/connect timeout), 5xx and 429
//! (honouring a capped `Retry-After` in seconds on 429/503). Not retried: other
//! 4xx, redirects (disabled: a redirect means a wrong base URL, and following
//! one would carry credentials elsewhere) and response timeouts (the overall
//! timeout is a hard bound per request).

use std::fmt;
use std::io::{ErrorKind, Read};
use std::time::Duration;

use ureq::Agent;
use url::Url;

use crate::redact::{one_line, scrub};
use crate::SyncError;

const USER_AGENT: &str = concat!("provider-sync/", env!("CARGO_PKG_VERSION"));
const EXCERPT_BYTES: u64 = 4096;
const EXCERPT_CHARS: usize = 200;

/// Exponential backoff: attempt `n` (1-based) waits `base_delay * 2^(n-1)`,
/// capped at `max_delay`, before attempt `n+1`; at most `max_attempts` in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Upper bound on a server's `Retry-After`.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The backoff after the `retry`-th failure (0-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The wait before the next attempt: the server's `Retry-After` (capped)
    /// when given, else the exponential backoff.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => wait.min(self.max_retry_after),
            None => self.backoff(retry),
        }
    }
}

/// Timeouts, retries and body limit for one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// Bound on DNS + TCP + TLS setup.
    pub connect_timeout: Duration,
    /// Bound on one whole request, connect to last body byte.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Larger successful bodies are an error.
    pub max_body_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            max_body_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `Retry-After` in delta-seconds; the HTTP-date form is ignored (backoff applies).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// `{base}{path}?{query}`; `var` names the setting to fix when `base` is bad.
/// The error never repeats the URL (an RPC URL may embed an API key).
pub(crate) fn build_url(
    base: &str,
    path: &str,
    query: &[(&str, &str)],
    var: &'static str,
) -> Result<Url, SyncError> {
    let bad = |problem: String| SyncError::Config { var, problem };
    let mut url = Url::parse(&format!("{}{}", base.trim_end_matches('/'), path))
        .map_err(|e| bad(format!("is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL".into()));
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

pub(crate) enum Method {
    Get,
    Post,
}

/// One logical request; `headers` is called per attempt (OKX signs each
/// attempt with a fresh timestamp). `shown` is the log-safe endpoint.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: &'a Url,
    pub shown: &'a str,
    pub body: Option<&'a [u8]>,
    pub headers: &'a dyn Fn() -> Vec<(&'static str, String)>,
}

/// A received response: the whole body for 2xx, an excerpt otherwise.
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Builds the "what to check" part of a non-retryable status error.
pub(crate) type HintFn = fn(&Response) -> String;

/// The common hint: credentials for 401/403, ids or base URL for 404, base URL
/// for redirects.
pub(crate) fn standard_hint(status: u16, credentials: &str, base_var: &str) -> String {
    match status {
        300..=399 => format!("unexpected redirect; check {base_var}"),
        401 | 403 => format!("check {credentials}"),
        404 => format!("check the requested id and {base_var}"),
        _ => "the provider rejected the request; check the configuration".into(),
    }
}

enum Attempt {
    Done(Response),
    Retry(SyncError, Option<Duration>),
    Fail(SyncError),
}

pub(crate) struct Transport {
    agent: Agent,
    provider: &'static str,
    settings: HttpSettings,
    secrets: Vec<String>,
    hint: HintFn,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("provider", &self.provider)
            .field("settings", &self.settings)
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .finish()
    }
}

impl Transport {
    /// `secrets` are scrubbed from any transport error text or body excerpt.
    pub fn new(
        provider: &'static str,
        settings: &HttpSettings,
        secrets: Vec<String>,
        hint: HintFn,
    ) -> Self {
        let config = Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .timeout_connect(Some(settings.connect_timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(USER_AGENT)
            .build();
        Transport {
            agent: config.into(),
            provider,
            settings: settings.clone(),
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
            hint,
        }
    }

    /// Scrubs credentials from `text` and folds it to one short line.
    pub fn safe_text(&self, text: &str) -> String {
        one_line(&scrub(text, &self.secrets), EXCERPT_CHARS)
    }

    /// Sends `call`, retrying per the policy; `Ok` only for 2xx.
    pub fn send(&self, call: &Call<'_>) -> Result<Response, SyncError> {
        let max_attempts = self.settings.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            tracing::debug!(
                provider = self.provider,
                endpoint = call.shown,
                attempt,
                "request"
            );
            match self.attempt(call, attempt) {
                Attempt::Done(response) => return Ok(response),
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry(error, _) if attempt >= max_attempts => return Err(error),
                Attempt::Retry(error, retry_after) => {
                    let delay = self.settings.retry.delay(attempt - 1, retry_after);
                    tracing::warn!(
                        provider = self.provider,
                        endpoint = call.shown,
                        attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        %error,
                        "retrying"
                    );
                    std::thread::sleep(delay);
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(&self, call: &Call<'_>, attempt: u32) -> Attempt {
        let headers = (call.headers)();
        let result = match call.method {
            Method::Get => {
                let mut request = self.agent.get(call.url.as_str());
                for (name, value) in &headers {
                    request = request.header(*name, value.as_str());
                }
                request.call()
            }
            Method::Post => {
                let mut request = self.agent.post(call.url.as_str());
                for (name, value) in &headers {
                    request = request.header(*name, value.as_str());
                }
                request.send(call.body.unwrap_or_default())
            }
        };
        match result {
            Ok(response) => self.classify(response, call, attempt),
            Err(error) => self.classify_error(error, call, attempt),
        }
    }

    fn classify(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        call: &Call<'_>,
        attempt: u32,
    ) -> Attempt {
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response.body_mut();
        if status.is_success() {
            return match body
                .with_config()
                .limit(self.settings.max_body_bytes)
                .read_to_vec()
            {
                Ok(body) => Attempt::Done(Response {
                    status: status.as_u16(),
                    headers,
                    body,
                }),
                Err(error) => self.classify_error(error, call, attempt),
            };
        }
        let mut excerpt = Vec::new();
        // Best effort: the status alone is already an error worth reporting.
        let _ = body
            .as_reader()
            .take(EXCERPT_BYTES)
            .read_to_end(&mut excerpt);
        let response = Response {
            status: status.as_u16(),
            headers,
            body: excerpt,
        };
        self.status_outcome(&response, status.canonical_reason(), call, attempt)
    }

    fn status_outcome(
        &self,
        response: &Response,
        reason: Option<&str>,
        call: &Call<'_>,
        attempt: u32,
    ) -> Attempt {
        let status = response.status;
        let retryable = status == 429 || (500..=599).contains(&status);
        let hint = match (retryable, status) {
            (true, 429) => format!("rate limited; gave up after {attempt} attempt(s)"),
            (true, _) => format!("server error; gave up after {attempt} attempt(s)"),
            (false, _) => (self.hint)(response),
        };
        let error = SyncError::Status {
            provider: self.provider,
            status,
            reason: reason.unwrap_or("").to_owned(),
            endpoint: call.shown.to_owned(),
            attempts: attempt,
            hint,
            server_said: self.safe_text(&String::from_utf8_lossy(&response.body)),
        };
        if !retryable {
            return Attempt::Fail(error);
        }
        let retry_after = match status {
            429 | 503 => response.header("retry-after").and_then(parse_retry_after),
            _ => None,
        };
        Attempt::Retry(error, retry_after)
    }

    fn classify_error(&self, error: ureq::Error, call: &Call<'_>, attempt: u32) -> Attempt {
        let timeout = |limit: Duration| SyncError::Timeout {
            provider: self.provider,
            endpoint: call.shown.to_owned(),
            timeout_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        };
        match error {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                Attempt::Retry(timeout(self.settings.connect_timeout), None)
            }
            ureq::Error::Timeout(_) => Attempt::Fail(timeout(self.settings.timeout)),
            ureq::Error::Io(ref io) if io.kind() == ErrorKind::TimedOut => {
                Attempt::Fail(timeout(self.settings.timeout))
            }
            error => {
                let failure = SyncError::Transport {
                    provider: self.provider,
                    endpoint: call.shown.to_owned(),
                    attempts: attempt,
                    detail: self.safe_text(&error.to_string()),
                };
                if is_connection_error(&error) {
                    Attempt::Retry(failure, None)
                } else {
                    Attempt::Fail(failure)
                }
            }
        }
    }
}

fn is_connection_error(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
                | ErrorKind::AddrNotAvailable
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(2),
        };
        let ms: Vec<u128> = (0..5).map(|r| p.backoff(r).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 500, 500]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(500));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        let d = p.delay(0, Some(Duration::from_secs(3)));
        assert_eq!(d, Duration::from_secs(3));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            p.max_retry_after
        );
        assert_eq!(p.delay(2, None), p.backoff(2));
    }

    #[test]
    fn retry_after_parses_seconds_only() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn build_url_appends_path_and_encodes_query() {
        let u = build_url("http://h:1/", "/a/b", &[("x", "1 2")], "V").unwrap();
        assert_eq!(u.as_str(), "http://h:1/a/b?x=1+2");
        assert!(matches!(
            build_url("ftp://h", "/", &[], "V"),
            Err(SyncError::Config { var: "V", .. })
        ));
        assert!(build_url("not a url", "/", &[], "V").is_err());
    }
}
