//! IBKR Flex Web Service (v3): `SendRequest` → reference code + statement URL,
//! then `GetStatement`, polled while IBKR answers "generation in progress".
//!
//! The token travels in the query string (`t=`), as the service requires, so
//! every URL that reaches a log or an error goes through
//! `path_with_redacted_query` (`redact.rs`).

use std::fmt;
use std::time::{Duration, Instant};

use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

use crate::env::{or_disable, required, var};
use crate::http::{build_url, standard_hint, Call, HttpSettings, Method, Response, Transport};
use crate::redact::{path_with_redacted_query, Secret};
use crate::SyncError;

pub const DEFAULT_BASE_URL: &str = "https://ndcdyn.interactivebrokers.com";
pub const TOKEN_VAR: &str = "IBKR_FLEX_TOKEN";
pub const QUERY_ID_VAR: &str = "IBKR_FLEX_QUERY_ID";
pub const BASE_URL_VAR: &str = "IBKR_FLEX_BASE_URL";

const PROVIDER: &str = "ibkr";
const SEND_REQUEST_PATH: &str = "/AccountManagement/FlexWebService/SendRequest";
const API_VERSION: &str = "3";
/// Flex error codes meaning "try again shortly" (1019: generation in progress).
const RETRY_LATER_CODES: &[&str] = &["1001", "1004", "1009", "1018", "1019", "1021"];

/// How long to keep polling while IBKR is still generating the statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollPolicy {
    pub initial_delay: Duration,
    /// The delay doubles after each "not ready" up to this.
    pub max_delay: Duration,
    /// Give up (with [`SyncError::NotReady`]) once this much time has passed.
    pub deadline: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            deadline: Duration::from_secs(300),
        }
    }
}

#[derive(Clone)]
pub struct IbkrConfig {
    pub base_url: String,
    pub token: Secret,
    pub query_id: String,
    pub http: HttpSettings,
    pub poll: PollPolicy,
}

impl fmt::Debug for IbkrConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IbkrConfig")
            .field("base_url", &self.base_url)
            .field("token", &"***")
            .field("query_id", &self.query_id)
            .field("http", &self.http)
            .field("poll", &self.poll)
            .finish()
    }
}

impl IbkrConfig {
    /// Real base URL, 60 s overall timeout (statements can be large), default polling.
    pub fn new(token: impl Into<Secret>, query_id: impl Into<String>) -> Self {
        IbkrConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: token.into(),
            query_id: query_id.into(),
            http: HttpSettings {
                timeout: Duration::from_secs(60),
                ..HttpSettings::default()
            },
            poll: PollPolicy::default(),
        }
    }

    /// `None` (sync off) when `IBKR_FLEX_TOKEN` is unset/blank or the rest is invalid.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        or_disable(PROVIDER, Self::try_from_env(env))
    }

    /// `Ok(None)` when `IBKR_FLEX_TOKEN` is unset/blank; an error when it is
    /// set but `IBKR_FLEX_QUERY_ID` is missing.
    pub fn try_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, SyncError> {
        let Some(token) = var(&env, TOKEN_VAR) else {
            return Ok(None);
        };
        let mut config = Self::new(token, required(&env, QUERY_ID_VAR, TOKEN_VAR)?);
        if let Some(base) = var(&env, BASE_URL_VAR) {
            config.base_url = base;
        }
        Ok(Some(config))
    }
}

/// What `SendRequest` hands back: where and under which code to collect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlexReference {
    pub reference_code: String,
    pub url: String,
}

#[derive(Debug)]
pub struct IbkrClient {
    config: IbkrConfig,
    base: Url,
    transport: Transport,
}

enum Step<T> {
    Ready(T),
    Pending { code: String, message: String },
}

impl IbkrClient {
    pub fn new(config: IbkrConfig) -> Result<Self, SyncError> {
        let base = build_url(&config.base_url, "", &[], BASE_URL_VAR)?;
        let secrets = vec![config.token.expose().to_owned()];
        let transport = Transport::new(PROVIDER, &config.http, secrets, http_hint);
        Ok(IbkrClient {
            config,
            base,
            transport,
        })
    }

    pub fn config(&self) -> &IbkrConfig {
        &self.config
    }

    /// Both steps: the raw statement bytes (XML, or CSV if the query says so).
    pub fn fetch_statement(&self) -> Result<Vec<u8>, SyncError> {
        let reference = self.send_request()?;
        self.get_statement(&reference)
    }

    /// Step 1. Transient Flex errors (1018 too many requests, …) are polled.
    pub fn send_request(&self) -> Result<FlexReference, SyncError> {
        let query = [
            ("t", self.config.token.expose()),
            ("q", self.config.query_id.as_str()),
            ("v", API_VERSION),
        ];
        let url = build_url(
            &self.config.base_url,
            SEND_REQUEST_PATH,
            &query,
            BASE_URL_VAR,
        )?;
        let shown = path_with_redacted_query(&url, &["t"]);
        let what = format!("request for query {}", self.config.query_id);
        self.poll(&what, || {
            let body = self.get(&url, &shown)?;
            let response = parse_flex_response(&body)
                .map_err(|detail| self.decode(&shown, detail))?
                .ok_or_else(|| self.decode(&shown, "expected a FlexStatementResponse".into()))?;
            if !response.is_success() {
                return self.failure(&shown, response);
            }
            let missing = |field: &str| self.decode(&shown, format!("Success without {field}"));
            Ok(Step::Ready(FlexReference {
                reference_code: response
                    .reference_code
                    .ok_or_else(|| missing("ReferenceCode"))?,
                url: response.url.ok_or_else(|| missing("Url"))?,
            }))
        })
    }

    /// Step 2: polls `{Url}?t=..&q=REFERENCE&v=3` until the statement is ready
    /// or [`PollPolicy::deadline`] passes.
    pub fn get_statement(&self, reference: &FlexReference) -> Result<Vec<u8>, SyncError> {
        let mut url = self.statement_url(&reference.url)?;
        url.query_pairs_mut()
            .clear()
            .append_pair("t", self.config.token.expose())
            .append_pair("q", &reference.reference_code)
            .append_pair("v", API_VERSION);
        let shown = path_with_redacted_query(&url, &["t"]);
        self.poll(&reference.reference_code, || {
            let body = self.get(&url, &shown)?;
            match parse_flex_response(&body) {
                Ok(Some(response)) if !response.is_success() => self.failure(&shown, response),
                Ok(Some(_)) => Err(self.decode(&shown, "Success reply without a statement".into())),
                // Anything that is not a FlexStatementResponse is the statement.
                Ok(None) | Err(_) => Ok(Step::Ready(body)),
            }
        })
    }

    fn get(&self, url: &Url, shown: &str) -> Result<Vec<u8>, SyncError> {
        let call = Call {
            method: Method::Get,
            url,
            shown,
            body: None,
            headers: &Vec::new,
        };
        Ok(self.transport.send(&call)?.body)
    }

    fn poll<T>(
        &self,
        what: &str,
        mut step: impl FnMut() -> Result<Step<T>, SyncError>,
    ) -> Result<T, SyncError> {
        let policy = &self.config.poll;
        let started = Instant::now();
        let mut delay = policy.initial_delay;
        loop {
            let (code, message) = match step()? {
                Step::Ready(value) => return Ok(value),
                Step::Pending { code, message } => (code, message),
            };
            let waited = started.elapsed();
            if waited >= policy.deadline {
                return Err(SyncError::NotReady {
                    reference: what.to_owned(),
                    waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                    code,
                    message,
                });
            }
            tracing::info!(
                provider = PROVIDER,
                what,
                code,
                "flex statement not ready; polling"
            );
            std::thread::sleep(delay.min(policy.deadline - waited));
            delay = delay.saturating_mul(2).min(policy.max_delay);
        }
    }

    /// A `Status=Fail` reply: pending for the retry-later codes, else an error.
    fn failure<T>(&self, shown: &str, response: FlexResponse) -> Result<Step<T>, SyncError> {
        let code = response.error_code.unwrap_or_else(|| "?".into());
        let message = self
            .transport
            .safe_text(&response.error_message.unwrap_or_default());
        if RETRY_LATER_CODES.contains(&code.as_str()) {
            return Ok(Step::Pending { code, message });
        }
        Err(SyncError::Api {
            provider: PROVIDER,
            endpoint: shown.to_owned(),
            hint: flex_hint(&code).to_owned(),
            code,
            message,
        })
    }

    /// The token is only ever sent to the configured origin or to IBKR over https.
    fn statement_url(&self, raw: &str) -> Result<Url, SyncError> {
        let url = Url::parse(raw.trim()).map_err(|e| SyncError::Decode {
            provider: PROVIDER,
            endpoint: SEND_REQUEST_PATH.to_owned(),
            detail: format!("statement Url is not a URL ({e})"),
        })?;
        let ibkr_https = url.scheme() == "https"
            && url.host_str().is_some_and(|h| {
                h == "interactivebrokers.com" || h.ends_with(".interactivebrokers.com")
            });
        if ibkr_https || url.origin() == self.base.origin() {
            return Ok(url);
        }
        Err(SyncError::Refused {
            provider: PROVIDER,
            detail: format!(
                "refusing to send the Flex token to unexpected statement host {}",
                url.host_str().unwrap_or("?")
            ),
        })
    }

    fn decode(&self, shown: &str, detail: String) -> SyncError {
        SyncError::Decode {
            provider: PROVIDER,
            endpoint: shown.to_owned(),
            detail,
        }
    }
}

fn http_hint(response: &Response) -> String {
    standard_hint(response.status, TOKEN_VAR, BASE_URL_VAR)
}

fn flex_hint(code: &str) -> &'static str {
    match code {
        "1011" | "1012" | "1015" => "check IBKR_FLEX_TOKEN (active, not expired)",
        "1013" => "the token's IP restriction rejects this host",
        "1014" => "check IBKR_FLEX_QUERY_ID",
        "1016" => "check the Flex query's account",
        "1017" | "1020" => "IBKR rejected the reference code; run the sync again",
        _ => "",
    }
}

/// The children of a `<FlexStatementResponse>` this client reads.
#[derive(Debug, Default, PartialEq, Eq)]
struct FlexResponse {
    status: String,
    reference_code: Option<String>,
    url: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
}

impl FlexResponse {
    fn is_success(&self) -> bool {
        self.status.eq_ignore_ascii_case("success")
    }

    fn set(&mut self, field: &str, text: &str) {
        let value = Some(text.trim().to_owned());
        match field {
            "Status" => self.status = text.trim().to_owned(),
            "ReferenceCode" => self.reference_code = value,
            "Url" => self.url = value,
            "ErrorCode" => self.error_code = value,
            "ErrorMessage" => self.error_message = value,
            _ => {}
        }
    }
}

/// `Ok(None)` when the document is not a `FlexStatementResponse` (then it is
/// a statement: `FlexQueryResponse` XML or CSV).
fn parse_flex_response(xml: &[u8]) -> Result<Option<FlexResponse>, String> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut depth, mut field, mut text) = (0usize, None::<String>, String::new());
    let mut out = FlexResponse::default();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(_) if depth == 0 => return Ok(None),
            Err(e) => return Err(format!("malformed FlexStatementResponse: {e}")),
        };
        match event {
            Event::Start(e) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if depth == 1 && name != "FlexStatementResponse" {
                    return Ok(None);
                }
                if depth == 2 {
                    field = Some(name);
                    text.clear();
                }
            }
            Event::Empty(_) if depth == 0 => return Ok(None),
            Event::Text(t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Ok(None)
            }
            Event::Text(t) if depth == 2 => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::CData(t) if depth == 2 => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) if depth == 2 => push_entity(&mut text, &r)?,
            Event::End(_) => {
                if let (2, Some(name)) = (depth, field.take()) {
                    out.set(&name, &text);
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(Some(out));
                }
            }
            Event::Eof if depth == 0 => return Ok(None),
            Event::Eof => return Err("truncated FlexStatementResponse".into()),
            _ => {}
        }
        buf.clear();
    }
}

fn push_entity(text: &mut String, r: &quick_xml::events::BytesRef<'_>) -> Result<(), String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        text.push(c);
        return Ok(());
    }
    let name = r.decode().map_err(|e| e.to_string())?;
    match quick_xml::escape::resolve_predefined_entity(&name) {
        Some(resolved) => text.push_str(resolved),
        None => text.push_str(&format!("&{name};")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_success_and_fail() {
        let ok = br#"<?xml version="1.0" encoding="utf-8"?>
<FlexStatementResponse timestamp="28 August, 2012 10:37 AM EDT">
<Status>Success</Status>
<ReferenceCode>1234567890</ReferenceCode>
<Url>https://gdcdyn.interactivebrokers.com/Universal/servlet/FlexStatementService.GetStatement</Url>
</FlexStatementResponse>"#;
        let r = parse_flex_response(ok).unwrap().unwrap();
        assert!(r.is_success());
        assert_eq!(r.reference_code.as_deref(), Some("1234567890"));
        let fail = b"<FlexStatementResponse><Status>Fail</Status><ErrorCode>1019</ErrorCode>\
<ErrorMessage>Statement generation in progress &amp; more</ErrorMessage></FlexStatementResponse>";
        let r = parse_flex_response(fail).unwrap().unwrap();
        assert_eq!(r.error_code.as_deref(), Some("1019"));
        assert_eq!(
            r.error_message.as_deref(),
            Some("Statement generation in progress & more")
        );
    }

    #[test]
    fn statements_are_not_responses() {
        let xml = br#"<FlexQueryResponse queryName="q" type="AF"><FlexStatements count="1"/></FlexQueryResponse>"#;
        assert_eq!(parse_flex_response(xml), Ok(None));
        assert_eq!(
            parse_flex_response(b"\"ClientAccountID\",\"Amount\"\n\"U1\",\"1.5\"\n"),
            Ok(None)
        );
        assert_eq!(parse_flex_response(b""), Ok(None));
    }
}
