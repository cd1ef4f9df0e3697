//! Where the database lives: `DATABASE_URL` (a postgres URL, a `sqlite://` URL or a plain
//! file path), falling back to the embedded SQLite file `./data/personalfinance.db`.

use std::path::{Path, PathBuf};

/// The SQLite file used when nothing else is configured.
pub const DEFAULT_SQLITE_PATH: &str = "data/personalfinance.db";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("DATABASE_URL uses the unsupported scheme `{0}`: use postgres://user@host/db, sqlite://path/to/file.db or a plain file path")]
    UnsupportedScheme(String),
    #[error("DATABASE_URL `{0}` names no SQLite file: give a path such as sqlite://data/personalfinance.db")]
    EmptySqlitePath(String),
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

    /// `explicit` (a `--database-url` flag), else `DATABASE_URL`, else the SQLite default.
    pub fn resolve(explicit: Option<&str>) -> Result<Self, ConfigError> {
        match explicit {
            Some(url) => Self::parse(url),
            None => match std::env::var("DATABASE_URL") {
                Ok(url) if !url.trim().is_empty() => Self::parse(&url),
                _ => Ok(Self::default_sqlite()),
            },
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

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres { .. } => "postgres",
            Self::Sqlite { .. } => "sqlite",
        }
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
            redact_secrets_in(
                "auth failed for s3cret at postgresql://a:s3cret@h/db",
                &target
            ),
            "auth failed for *** at postgresql://a:***@h/db"
        );
    }
}
