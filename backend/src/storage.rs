//! Where the database lives and whether that place survives a redeploy.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::DatabaseTarget;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StorageInfo {
    pub backend: &'static str,
    /// Absolute SQLite path, or the PostgreSQL URL with secrets masked.
    pub location: String,
    pub persistent: bool,
    pub reason: String,
}

/// Reads the platform's variables from the process environment.
pub fn describe(target: &DatabaseTarget) -> StorageInfo {
    describe_with(target, |name| {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    })
}

pub fn describe_with(target: &DatabaseTarget, env: impl Fn(&str) -> Option<String>) -> StorageInfo {
    let backend = target.backend_name();
    let Some(path) = target.sqlite_path() else {
        return StorageInfo {
            backend,
            location: target.display(),
            persistent: true,
            reason: "PostgreSQL server: data lives outside this process's disk".into(),
        };
    };
    let location = absolute(path);
    let on_railway = env("RAILWAY_ENVIRONMENT").is_some() || env("RAILWAY_PROJECT_ID").is_some();
    let (persistent, reason) = match (on_railway, env("RAILWAY_VOLUME_MOUNT_PATH")) {
        (true, Some(volume)) if location.starts_with(&volume) => (
            true,
            format!("SQLite file on the Railway volume mounted at {volume}"),
        ),
        (true, Some(volume)) => (
            false,
            format!(
                "SQLite file outside the Railway volume mounted at {volume}: a redeploy erases it"
            ),
        ),
        (true, None) => (
            false,
            "SQLite file on Railway with no volume mounted: a redeploy erases it".into(),
        ),
        (false, _) => (true, "SQLite file on local disk (no PaaS detected)".into()),
    };
    StorageInfo {
        backend,
        location: location.display().to_string(),
        persistent,
        reason,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn railway_sqlite_must_sit_on_the_volume() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let inside = DatabaseTarget::sqlite("/data/pf.db");
        let outside = DatabaseTarget::sqlite("/app/data/pf.db");
        let railway = env(&[
            ("RAILWAY_ENVIRONMENT", "production"),
            ("RAILWAY_VOLUME_MOUNT_PATH", "/data"),
        ]);
        assert!(describe_with(&inside, railway).persistent);
        assert!(!describe_with(&outside, railway).persistent);
        assert!(!describe_with(&inside, env(&[("RAILWAY_ENVIRONMENT", "production")])).persistent);
        assert!(describe_with(&outside, env(&[])).persistent);
        let pg = DatabaseTarget::parse("postgres://u:pw@h/db").unwrap();
        let info = describe_with(&pg, env(&[]));
        assert!(info.persistent && !info.location.contains("pw"));
    }
}
