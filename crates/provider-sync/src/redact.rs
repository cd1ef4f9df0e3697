//! Keeping credentials out of logs, errors and `Debug` output.

use std::fmt;

use url::Url;

/// A credential. Its `Debug` prints `Secret(***)`; it has no `Display`, so it
/// can only reach a string through an explicit [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The credential itself: only for building the authenticated request.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no credential was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

/// `path?query` with the values of `secret_keys` replaced by `***`, e.g.
/// `/SendRequest?t=***&q=123&v=3`. Host and user info are left out.
pub(crate) fn path_with_redacted_query(url: &Url, secret_keys: &[&str]) -> String {
    let mut out = url.path().to_owned();
    let pairs: Vec<String> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if secret_keys.contains(&k.as_ref()) {
                "***".into()
            } else {
                v
            };
            format!("{k}={v}")
        })
        .collect();
    if !pairs.is_empty() {
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// `scheme://host[:port]`, plus `/***` when the URL has a path or query that
/// may carry an API key (as most hosted EVM RPC URLs do).
pub(crate) fn origin_only(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    if url.path() != "/" || url.query().is_some() {
        out.push_str("/***");
    }
    out
}

/// Replaces every occurrence of each secret (raw and percent-encoded) by `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), "***");
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != *secret {
            out = out.replace(&encoded, "***");
        }
    }
    out
}

/// One line, control characters folded to spaces, at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let folded: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let folded = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= max {
        folded
    } else {
        let mut cut: String = folded.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    #[test]
    fn query_token_is_redacted() {
        let url = Url::parse("https://h/x/SendRequest?t=abc123&q=99&v=3").unwrap();
        assert_eq!(
            path_with_redacted_query(&url, &["t"]),
            "/x/SendRequest?t=***&q=99&v=3"
        );
    }

    #[test]
    fn origin_hides_path_keys() {
        let url = Url::parse("https://eth.example:8545/v3/KEY").unwrap();
        assert_eq!(origin_only(&url), "https://eth.example:8545/***");
        let bare = Url::parse("http://127.0.0.1:8545").unwrap();
        assert_eq!(origin_only(&bare), "http://127.0.0.1:8545");
    }

    #[test]
    fn scrub_removes_raw_and_encoded() {
        let s = scrub("a k+y/= b k%2By%2F%3D", &["k+y/=".into()]);
        assert_eq!(s, "a *** b ***");
    }

    #[test]
    fn one_line_folds_and_truncates() {
        assert_eq!(one_line("a\n b\r\n\tc", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
