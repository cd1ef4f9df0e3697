//! Running the xtask binary against a test database and a copy of the migration trees.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
pub use test_kit::TestDb;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub fn url(db: &TestDb) -> String {
    match &db.target {
        db_conn::DatabaseTarget::Postgres { url } => url.clone(),
        db_conn::DatabaseTarget::Sqlite { path } => path.display().to_string(),
    }
}

/// The xtask command for `db`, optionally on another migrations root.
pub fn command(db: &TestDb, root: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--database-url")
        .arg(url(db))
        .env_remove("DATABASE_URL")
        .env_remove("GITHUB_ACTIONS");
    if let Some(root) = root {
        cmd.arg("--migrations-root").arg(root);
    }
    cmd.args(args);
    cmd
}

pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// The one-line error the command ended with.
    pub fn error(&self) -> String {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default()
            .to_owned()
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

pub fn xtask(db: &TestDb, root: Option<&Path>, args: &[&str]) -> Run {
    command(db, root, args).output().expect("run xtask").into()
}

/// Runs and insists on success.
pub fn ok(db: &TestDb, root: Option<&Path>, args: &[&str]) -> Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let run = xtask(db, root, &full);
    assert!(
        run.ok,
        "xtask {args:?} on {} failed: {}\n{}",
        db.name(),
        run.error(),
        run.stderr
    );
    run.json()
}

/// Runs and insists on failure; returns the error line.
pub fn fails(db: &TestDb, root: Option<&Path>, args: &[&str]) -> String {
    let run = xtask(db, root, args);
    assert!(
        !run.ok,
        "xtask {args:?} on {} should have failed:\n{}",
        db.name(),
        run.stdout
    );
    let error = run.error();
    assert!(!error.is_empty(), "no one-line error: {}", run.stderr);
    error
}

/// A private copy of the repository's migration trees.
pub fn copy_trees() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for tree in ["sqlite", "postgres"] {
        let from = repo_root().join("migrations").join(tree);
        for entry in walk(&from) {
            let rel = entry.strip_prefix(&from).expect("inside");
            let to = dir.path().join(tree).join(rel);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&entry, &to).expect("copy");
        }
    }
    dir
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
    {
        if e.is_dir() {
            out.extend(walk(&e));
        } else {
            out.push(e);
        }
    }
    out
}

/// How many migrations the repository's history holds (the number of the head migration).
pub fn head() -> usize {
    std::fs::read_dir(repo_root().join("migrations/sqlite"))
        .expect("tree")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".sum"))
        .count()
}

/// The folder of migration `n` (1-based) of the repository's history.
pub fn folder(n: usize) -> String {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("migrations/sqlite"))
        .expect("tree")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".sum"))
        .collect();
    names.sort();
    names[n - 1].clone()
}

/// Adds a migration to both trees of `root`.
pub fn add_migration(root: &Path, folder: &str, sqlite_up: &str, pg_up: &str, down: &str) {
    for (tree, up) in [("sqlite", sqlite_up), ("postgres", pg_up)] {
        let dir = root.join(tree).join(folder);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("up.sql"), up).expect("up");
        std::fs::write(dir.join("down.sql"), down).expect("down");
    }
}

/// Adds `2026-01-01-000000_add_pending_probe` (one small table) to both trees of `root`.
pub fn add_probe(root: &Path) {
    let sql = "CREATE TABLE probe (id INTEGER);";
    add_migration(
        root,
        "2026-01-01-000000_add_pending_probe",
        sql,
        sql,
        "DROP TABLE probe;",
    );
}

/// Rows in diesel's version table.
pub fn applied_versions(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect();
    migration_engine::history::applied(&mut conn)
        .expect("read versions")
        .into_iter()
        .map(|a| a.version)
        .collect()
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// SHA-256 of every file under `dir`, by relative path: a tree compared byte for byte.
pub fn file_sums(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()) {
            if e.is_dir() {
                stack.push(e);
            } else {
                let rel = e.strip_prefix(dir).unwrap().display().to_string();
                out.insert(
                    rel,
                    <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&e).unwrap())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                );
            }
        }
    }
    out
}
