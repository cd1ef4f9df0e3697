//! Where the database lives and whether that place survives a redeploy. The startup guard
//! (`guard.rs`) and `/health/data` both decide through [`describe_with`], so what the service
//! refuses and what it reports can never disagree.

use std::path::Path;

use db_conn::paths::resolve;

use serde::{Deserialize, Serialize};

use db_conn::DatabaseTarget;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StorageInfo {
    pub backend: String,
    /// Absolute SQLite path, or the PostgreSQL URL with secrets masked.
    pub location: String,
    pub persistent: bool,
    pub reason: String,
}

/// Reads the platform's variables from the process environment.
pub fn describe(target: &DatabaseTarget) -> StorageInfo {
    describe_with(target, process_env)
}

/// A variable of the process environment, empty counting as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// True when Railway's injected variables say the process runs there.
pub fn on_railway(env: &impl Fn(&str) -> Option<String>) -> bool {
    env("RAILWAY_ENVIRONMENT").is_some()
        || env("RAILWAY_ENVIRONMENT_NAME").is_some()
        || env("RAILWAY_PROJECT_ID").is_some()
}

pub fn describe_with(target: &DatabaseTarget, env: impl Fn(&str) -> Option<String>) -> StorageInfo {
    let backend = target.backend_name().to_owned();
    let Some(path) = target.sqlite_path() else {
        return StorageInfo {
            backend,
            location: target.display(),
            persistent: true,
            reason: "PostgreSQL server: data lives outside this process's disk".into(),
        };
    };
    let location = resolve(path);
    let volume = env("RAILWAY_VOLUME_MOUNT_PATH");
    let (persistent, reason) = match (on_railway(&env), volume) {
        (true, Some(volume)) if location.starts_with(resolve(Path::new(&volume))) => (
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

/// A fixed environment for tests of code that reads platform variables.
#[cfg(test)]
pub(crate) fn fake_env(
    vars: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> + Copy {
    move |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::fake_env as env;

    #[test]
    fn railway_sqlite_must_sit_on_the_volume() {
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

    #[test]
    fn dot_dot_and_prefixes_do_not_fool_the_volume_check() {
        let railway = env(&[
            ("RAILWAY_PROJECT_ID", "p"),
            ("RAILWAY_VOLUME_MOUNT_PATH", "/vol"),
        ]);
        for outside in ["/vol/../etc/pf.db", "/volume/pf.db", "/vol2/pf.db"] {
            let info = describe_with(&DatabaseTarget::sqlite(outside), railway);
            assert!(!info.persistent, "{outside}: {info:?}");
        }
        for inside in ["/vol/pf.db", "/vol/./sub/../pf.db", "/vol/a/b/pf.db"] {
            let info = describe_with(&DatabaseTarget::sqlite(inside), railway);
            assert!(info.persistent, "{inside}: {info:?}");
        }
    }

    #[test]
    fn symbolic_links_out_of_the_volume_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let volume = dir.path().join("vol");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&volume).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&elsewhere, volume.join("link")).unwrap();
        #[cfg(unix)]
        {
            let volume_str = volume.display().to_string();
            let vars = move |k: &str| match k {
                "RAILWAY_ENVIRONMENT" => Some("production".to_owned()),
                "RAILWAY_VOLUME_MOUNT_PATH" => Some(volume_str.clone()),
                _ => None,
            };
            let linked = DatabaseTarget::sqlite(volume.join("link").join("pf.db"));
            assert!(!describe_with(&linked, &vars).persistent);
            let direct = DatabaseTarget::sqlite(volume.join("new").join("pf.db"));
            assert!(describe_with(&direct, &vars).persistent);
        }
    }
}
