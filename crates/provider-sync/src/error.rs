//! The crate's single error type. Every message is one line and never carries
//! a token, secret, passphrase or an unredacted URL (see `redact.rs`).

/// Everything that can go wrong while talking to a provider.
///
/// `provider` is one of `ibkr`, `wise`, `okx`, `evm`; `endpoint` is always a
/// redacted, log-safe description of the request target.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// An environment variable or config field is missing or malformed.
    #[error("config: {var} {problem}")]
    Config { var: &'static str, problem: String },

    /// No complete response within the configured connect or overall timeout.
    #[error("{provider}: request to {endpoint} timed out after {timeout_ms} ms")]
    Timeout {
        provider: &'static str,
        endpoint: String,
        timeout_ms: u64,
    },

    /// The request could not be sent or the response not read (after retries
    /// for connection errors).
    #[error("{provider}: request to {endpoint} failed after {attempts} attempt(s): {detail}")]
    Transport {
        provider: &'static str,
        endpoint: String,
        attempts: u32,
        detail: String,
    },

    /// A non-success HTTP status (after retries for 429 and 5xx).
    #[error(
        "{provider}: {status} {reason} from {endpoint}; {hint}{}",
        said(server_said)
    )]
    Status {
        provider: &'static str,
        status: u16,
        reason: String,
        endpoint: String,
        attempts: u32,
        hint: String,
        /// A short, secret-scrubbed, one-line excerpt of the response body.
        server_said: String,
    },

    /// The provider answered, but with an application-level error
    /// (IBKR `Status=Fail`, OKX `code != "0"`).
    #[error(
        "{provider}: error {code} from {endpoint}: {message}{}",
        hint_suffix(hint)
    )]
    Api {
        provider: &'static str,
        endpoint: String,
        code: String,
        message: String,
        hint: String,
    },

    /// A JSON-RPC 2.0 error object from the EVM node.
    #[error("evm: JSON-RPC error {code} from {method}: {message}")]
    JsonRpc {
        method: String,
        code: i64,
        message: String,
    },

    /// IBKR kept answering "statement generation in progress" until the deadline.
    #[error("ibkr: statement {reference} not ready after {waited_ms} ms (last ErrorCode {code}: {message})")]
    NotReady {
        reference: String,
        waited_ms: u64,
        code: String,
        message: String,
    },

    /// The response was received but could not be understood.
    #[error("{provider}: unexpected response from {endpoint}: {detail}")]
    Decode {
        provider: &'static str,
        endpoint: String,
        detail: String,
    },

    /// A request this client refuses to make, or an inconsistent answer.
    #[error("{provider}: {detail}")]
    Refused {
        provider: &'static str,
        detail: String,
    },
}

impl SyncError {
    /// The provider this error came from (`config` for configuration errors).
    pub fn provider(&self) -> &'static str {
        match self {
            SyncError::Config { .. } => "config",
            SyncError::JsonRpc { .. } => "evm",
            SyncError::NotReady { .. } => "ibkr",
            SyncError::Timeout { provider, .. }
            | SyncError::Transport { provider, .. }
            | SyncError::Status { provider, .. }
            | SyncError::Api { provider, .. }
            | SyncError::Decode { provider, .. }
            | SyncError::Refused { provider, .. } => provider,
        }
    }

    /// The HTTP status, when the error is an HTTP status error.
    pub fn status(&self) -> Option<u16> {
        match self {
            SyncError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn said(server_said: &str) -> String {
    if server_said.is_empty() {
        String::new()
    } else {
        format!(" (server said: {server_said})")
    }
}

fn hint_suffix(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!("; {hint}")
    }
}
