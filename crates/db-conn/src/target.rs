//! Where the database lives: `DATABASE_URL` (a postgres URL, a `sqlite://` URL or a plain
//! file path), else `DATABASE_PATH` (an explicit SQLite file), falling back to the embedded
//! SQLite file `./data/personalfinance.db`.

use std::path::{Path, PathBuf};

/// The SQLite file used when nothing else is configured.
pub const DEFAULT_SQLITE_PATH: &str = "data/personalfinance.db";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("DATABASE_URL uses the unsupported scheme `{0}`: use postgres://user@host/db, sqlite://path/to/file.db or a plain file path")]
    UnsupportedScheme(String),
    #[error("DATABASE_URL `{0}` names no SQLite file: give a path such as sqlite://data/personalfinance.db")]
    EmptySqlitePath(String),
    #[error("DATABASE_PATH `{0}` is not a file path: DATABASE_PATH names the SQLite file (e.g. /app/data/personalfinance.db); put a PostgreSQL URL in DATABASE_URL instead")]
    DatabasePathNotAFile(String),
}

/// Which database engine; also names the migration tree (`migrations/<tree_name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn tree_name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A PostgreSQL server; the URL may carry a password, so it is never printed as is.
    Postgres { url: String },
    /// A SQLite file, created with its folder when missing.
    Sqlite { path: PathBuf },
}

impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseTarget({})", self.display())
    }
}

impl DatabaseTarget {
    /// Parses a database URL or path as `DATABASE_URL` may hold it.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres {
                url: raw.to_owned(),
            });
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            // `sqlite://relative.db`, `sqlite:///absolute.db` and `sqlite:relative.db` all name files.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(ConfigError::EmptySqlitePath(raw.to_owned()));
            }
            return Ok(Self::Sqlite { path: path.into() });
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(ConfigError::UnsupportedScheme(scheme.to_owned()));
        }
        if raw.is_empty() {
            return Err(ConfigError::EmptySqlitePath(raw.to_owned()));
        }
        Ok(Self::Sqlite { path: raw.into() })
    }

    /// `explicit` (a `--database-url` flag), else `DATABASE_URL`, else `DATABASE_PATH` (a
    /// SQLite file), else the SQLite default.
    pub fn resolve(explicit: Option<&str>) -> Result<Self, ConfigError> {
        Self::resolve_with(explicit, |name| std::env::var(name).ok())
    }

    /// [`Self::resolve`] reading variables through `env` (tests pass a map).
    pub fn resolve_with(
        explicit: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(url) = explicit.filter(|u| !u.trim().is_empty()) {
            return Self::parse(url);
        }
        if let Some(url) = set("DATABASE_URL") {
            return Self::parse(&url);
        }
        if let Some(path) = set("DATABASE_PATH") {
            return Self::parse_sqlite_path(&path);
        }
        Ok(Self::default_sqlite())
    }

    /// A `DATABASE_PATH` value: a SQLite file path (a `sqlite:` prefix is tolerated).
    pub fn parse_sqlite_path(raw: &str) -> Result<Self, ConfigError> {
        match Self::parse(raw) {
            Ok(target @ Self::Sqlite { .. }) => Ok(target),
            Ok(Self::Postgres { .. }) | Err(ConfigError::UnsupportedScheme(_)) => {
                let shown = match raw.trim().split_once("://") {
                    Some((scheme, _)) => format!("{scheme}://..."),
                    None => raw.trim().to_owned(),
                };
                Err(ConfigError::DatabasePathNotAFile(shown))
            }
            Err(e) => Err(e),
        }
    }

    pub fn default_sqlite() -> Self {
        Self::Sqlite {
            path: DEFAULT_SQLITE_PATH.into(),
        }
    }

    pub fn sqlite(path: impl AsRef<Path>) -> Self {
        Self::Sqlite {
            path: path.as_ref().to_path_buf(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres { .. } => Backend::Postgres,
            Self::Sqlite { .. } => Backend::Sqlite,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend().tree_name()
    }

    /// A form safe to print: passwords and secret query parameters are masked.
    pub fn display(&self) -> String {
        match self {
            Self::Postgres { url } => redact_url(url),
            Self::Sqlite { path } => path.display().to_string(),
        }
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite { path } => Some(path),
            Self::Postgres { .. } => None,
        }
    }
}

/// Masks the password of a URL and the values of query parameters that look secret.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        // Not a URL we understand: show only the scheme, never the rest.
        return match raw.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://<redacted>"),
            None => "<redacted>".to_owned(),
        };
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let secret = |key: &str| {
        let key = key.to_ascii_lowercase();
        ["password", "token", "secret", "key"]
            .iter()
            .any(|s| key.contains(s))
    };
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Masks every URL with a password (or secret query parameter) inside free text.
pub fn redact_urls_in(text: &str) -> String {
    text.split_inclusive(|c: char| c.is_whitespace() || c == '`' || c == '\'' || c == '"')
        .map(|piece| {
            let trimmed = piece
                .trim_end_matches(|c: char| c.is_whitespace() || c == '`' || c == '\'' || c == '"');
            if trimmed.contains("://") && trimmed.contains('@') || trimmed.contains("token=") {
                let start = trimmed.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
                let (lead, url) = trimmed.split_at(start);
                format!("{lead}{}{}", redact_url(url), &piece[trimmed.len()..])
            } else {
                piece.to_owned()
            }
        })
        .collect()
}

/// Removes the target's password from a message a driver produced (drivers may echo it).
pub fn redact_secrets_in(message: &str, target: &DatabaseTarget) -> String {
    let DatabaseTarget::Postgres { url } = target else {
        return message.to_owned();
    };
    let mut out = message.replace(url.as_str(), &redact_url(url));
    if let Some(password) = url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        let decoded = url::form_urlencoded::parse(format!("p={password}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        for secret in [password, decoded] {
            if !secret.is_empty() {
                out = out.replace(&secret, "***");
            }
        }
    }
    out
}

/// `url` without its password (in the user part or a `password` parameter), and the password,
/// decoded, as libpq reads it (what the PostgreSQL tools get: the URL on the command line, the password in `PGPASSWORD`).
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return (url.to_owned(), None);
    };
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    let _ = parsed.set_password(None);
    let query_password = parsed
        .query_pairs()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.into_owned());
    if query_password.is_some() {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(kept);
        if parsed.query() == Some("") {
            parsed.set_query(None);
        }
    }
    (parsed.to_string(), password.or(query_password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_accepted_form() {
        assert_eq!(
            DatabaseTarget::parse("postgres://u:p@h/db").unwrap(),
            DatabaseTarget::Postgres {
                url: "postgres://u:p@h/db".into()
            }
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite://data/x.db").unwrap(),
            DatabaseTarget::sqlite("data/x.db")
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:///abs/x.db").unwrap(),
            DatabaseTarget::sqlite("/abs/x.db")
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:x.db").unwrap(),
            DatabaseTarget::sqlite("x.db")
        );
        assert_eq!(
            DatabaseTarget::parse("./x.db").unwrap(),
            DatabaseTarget::sqlite("./x.db")
        );
        assert_eq!(
            DatabaseTarget::parse("mysql://h/db"),
            Err(ConfigError::UnsupportedScheme("mysql".into()))
        );
        assert!(DatabaseTarget::parse("sqlite://").is_err());
    }

    #[test]
    fn resolve_precedence_is_flag_url_path_default() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let both = env(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("DATABASE_PATH", "/vol/pf.db"),
        ]);
        assert_eq!(
            DatabaseTarget::resolve_with(Some("flag.db"), both).unwrap(),
            DatabaseTarget::sqlite("flag.db")
        );
        assert_eq!(
            DatabaseTarget::resolve_with(None, both)
                .unwrap()
                .backend_name(),
            "postgres"
        );
        assert_eq!(
            DatabaseTarget::resolve_with(None, env(&[("DATABASE_PATH", "/vol/pf.db")])).unwrap(),
            DatabaseTarget::sqlite("/vol/pf.db")
        );
        assert_eq!(
            DatabaseTarget::resolve_with(
                None,
                env(&[("DATABASE_URL", " "), ("DATABASE_PATH", "")])
            )
            .unwrap(),
            DatabaseTarget::default_sqlite()
        );
        let err = DatabaseTarget::resolve_with(
            None,
            env(&[("DATABASE_PATH", "postgres://u:s3cret@h/db")]),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::DatabasePathNotAFile(_)));
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn secrets_never_show() {
        let shown =
            redact_url("postgres://me:hunter2@db.example:5432/pf?sslmode=require&password=x2");
        assert!(
            !shown.contains("hunter2") && !shown.contains("x2"),
            "{shown}"
        );
        assert!(shown.contains("me:***@db.example"), "{shown}");
        let target = DatabaseTarget::parse("postgresql://a:s3cret@h/db").unwrap();
        assert!(!format!("{target:?}").contains("s3cret"));
        assert_eq!(redact_url("not a url with s3cret"), "<redacted>");
        assert_eq!(
            redact_urls_in("cannot open `postgres://a:s3cret@h/db`: refused"),
            "cannot open `postgres://a:***@h/db`: refused"
        );
        assert_eq!(
            redact_secrets_in(
                "auth failed for s3cret at postgresql://a:s3cret@h/db",
                &target
            ),
            "auth failed for *** at postgresql://a:***@h/db"
        );
    }
}
