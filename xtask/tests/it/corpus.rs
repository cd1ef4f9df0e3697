//! The tool on generated, hard histories (`test_kit::corpus`): hundreds of migrations with
//! every kind of object and the quirks of real diesel projects, as a plain one-tree project
//! (`--migrations-dir`). Applied by the tool and by the plain diesel CLI they must give the
//! same schema; `status` must see no drift on either; `check` must pass on the history and
//! name exactly the migration whose down.sql leaves something behind; a full downgrade must
//! leave nothing but the bookkeeping tables.

use std::path::{Path, PathBuf};

use db_conn::DatabaseTarget;
use diesel::prelude::*;
use history_corpus::{self as corpus, History};

use crate::support::*;

/// Big enough to hold every object kind several times, small enough to keep each PostgreSQL
/// test well under a minute.
const PG_MIGRATIONS: usize = 320;
const SQLITE_MIGRATIONS: usize = 300;

/// A plain diesel project holding one generated tree.
pub(crate) struct Project {
    _dir: tempfile::TempDir,
    pub(crate) tree: PathBuf,
    pub(crate) history: History,
}

impl Project {
    pub(crate) fn new(backend: db_conn::Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let tree = dir.path().join("migrations");
        let history = match backend {
            db_conn::Backend::Postgres => corpus::postgres_history(&tree, PG_MIGRATIONS),
            db_conn::Backend::Sqlite => corpus::sqlite_history(&tree, SQLITE_MIGRATIONS),
        }
        .expect("write the corpus");
        Self {
            _dir: dir,
            tree,
            history,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.history.folders.len()
    }

    /// `args` on this project's tree.
    pub(crate) fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let dir = self.tree.to_str().expect("utf-8 temp path");
        [&["--migrations-dir", dir][..], args].concat()
    }

    /// A copy of the tree with the down.sql of each migration whose up.sql contains a needle
    /// replaced by its text, and its checksum file written (as `check --fix` would), so only
    /// the defect itself is reported. The copy ends a few migrations after the last broken
    /// one: what follows cannot change the verdict on it and would only make the check slower.
    /// Returns the copy and the broken folders.
    fn broken_copy(&self, breaks: &[(&str, &str)]) -> (tempfile::TempDir, Vec<String>) {
        let copy = tempfile::tempdir().expect("temp dir");
        let broken: Vec<String> = breaks
            .iter()
            .map(|(needle, _)| {
                self.history
                    .folder_containing(&self.tree, needle)
                    .unwrap_or_else(|| panic!("no up.sql contains `{needle}`"))
            })
            .collect();
        let last = broken
            .iter()
            .filter_map(|f| self.history.folders.iter().position(|g| g == f))
            .max()
            .expect("a broken folder");
        for folder in self.history.folders.iter().take(last + 6) {
            let to = copy.path().join(folder);
            std::fs::create_dir_all(&to).expect("mkdir");
            for file in std::fs::read_dir(self.tree.join(folder)).expect("read folder") {
                let file = file.expect("entry").path();
                std::fs::copy(&file, to.join(file.file_name().expect("name"))).expect("copy");
            }
        }
        for (folder, (_, down)) in broken.iter().zip(breaks) {
            std::fs::write(copy.path().join(folder).join("down.sql"), down).expect("break");
        }
        write_checksums(copy.path());
        (copy, broken)
    }
}

/// The tree's checksum file, which a plain diesel tree lacks and `check` requires.
pub(crate) fn write_checksums(tree: &Path) {
    let set = migration_engine::MigrationSet::from_dir(tree).expect("read the tree");
    migration_engine::sumfile::write(tree, &set).expect("write migrations.sum");
}

pub(crate) fn new_db(backend: db_conn::Backend, test: &str) -> Option<TestDb> {
    match backend {
        db_conn::Backend::Postgres => TestDb::postgres(test),
        db_conn::Backend::Sqlite => Some(TestDb::sqlite()),
    }
}

/// The schema as comparable text, without diesel's and the tool's bookkeeping tables.
pub(crate) fn schema_text(db: &TestDb) -> String {
    match &db.target {
        DatabaseTarget::Postgres { url } => corpus::pg_schema_dump(url).expect("pg_dump"),
        DatabaseTarget::Sqlite { path } => corpus::sqlite_schema_text(path).expect("sqlite_master"),
    }
}

/// `diesel migration run` of `tree` into `db`, with an empty diesel.toml (no schema.rs).
fn diesel_run(cli: &Path, tree: &Path, db: &TestDb) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let config = scratch.path().join("diesel.toml");
    std::fs::write(&config, "").expect("config");
    if let DatabaseTarget::Sqlite { path } = &db.target {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    }
    let out = std::process::Command::new(cli)
        .args(["migration", "run", "--migration-dir"])
        .arg(tree)
        .arg("--database-url")
        .arg(url(db))
        .arg("--config-file")
        .arg(&config)
        .current_dir(scratch.path())
        .output()
        .expect("run diesel");
    assert!(
        out.status.success(),
        "{}: diesel migration run failed: {}",
        db.name(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn applied_by_tool_equals_diesel_cli_and_status_is_clean(backend: db_conn::Backend, test: &str) {
    let Some(cli) = test_kit::diesel_cli() else {
        test_kit::skip_check(
            "REQUIRE_DIESEL_CLI",
            &format!("{test}: the diesel CLI is not installed"),
        );
        return;
    };
    let (Some(ours), Some(theirs)) = (new_db(backend, test), new_db(backend, test)) else {
        return;
    };
    let p = Project::new(backend);
    let b = ours.name();
    let applied = ok(&ours, None, &p.args(&["apply"]));
    assert_eq!(strings(&applied["applied"]), p.history.folders, "{b}");
    diesel_run(&cli, &p.tree, &theirs);
    let (by_tool, by_diesel) = (schema_text(&ours), schema_text(&theirs));
    assert!(by_tool.len() > 10_000, "{b}: the dump holds the schema");
    if by_tool != by_diesel {
        let first = by_tool.lines().zip(by_diesel.lines()).find(|(a, b)| a != b);
        panic!("{b}: the tool and diesel build different schemas; first difference: {first:?}");
    }

    let status = ok(&ours, None, &p.args(&["status"]));
    assert_eq!(status["drift"], serde_json::json!([]), "{b}: {status}");
    assert_eq!(status["status"]["pending"], serde_json::json!([]), "{b}");

    // Applied by diesel: no checksums yet. status says what adoption would record.
    let run = xtask(&theirs, None, &p.args(&["--json", "status"]));
    assert!(
        run.ok,
        "{b}: status on the diesel-applied database: {}",
        run.stderr
    );
    let status = run.json();
    assert_eq!(status["drift"], serde_json::json!([]), "{b}: {status}");
    assert_eq!(
        strings(&status["status"]["unrecorded"]),
        p.history.folders,
        "{b}"
    );
    assert!(run.stderr.contains("stamp --adopt"), "{b}: {}", run.stderr);
    let adopted = ok(&theirs, None, &p.args(&["stamp", "--adopt"]));
    assert_eq!(
        strings(&adopted["stamped"]).len(),
        p.len(),
        "{b}: {adopted}"
    );
    let status = ok(&theirs, None, &p.args(&["status"]));
    assert_eq!(status["drift"], serde_json::json!([]), "{b}: {status}");
    assert!(
        strings(&status["status"]["unrecorded"]).is_empty(),
        "{b}: {status}"
    );
}

/// `check` passes on the history; on copies whose down.sql leaves one kind of object behind
/// it fails naming exactly the broken migrations. Every case is run before asserting, so one
/// run lists every kind of leftover the check misses.
fn check_passes_and_names_broken_down_sql(
    backend: db_conn::Backend,
    test: &str,
    cases: &[(&str, &[(&str, &str)])],
) {
    let Some(db) = new_db(backend, test) else {
        return;
    };
    let p = Project::new(backend);
    let b = db.name();
    write_checksums(&p.tree);
    let checked = ok(&db, None, &p.args(&["check"]));
    assert_eq!(checked["problems"], serde_json::json!([]), "{b}: {checked}");

    let mut misses = Vec::new();
    for (what, breaks) in cases {
        let (copy, broken) = p.broken_copy(breaks);
        let dir = copy.path().to_str().expect("utf-8");
        let run = xtask(&db, None, &["--json", "--migrations-dir", dir, "check"]);
        let problems = strings(&run.json()["problems"]);
        let named: Vec<&String> = broken
            .iter()
            .filter(|f| problems.iter().any(|p| p.contains(f.as_str())))
            .collect();
        let strangers: Vec<&String> = problems
            .iter()
            .filter(|p| !broken.iter().any(|f| p.contains(f.as_str())))
            .collect();
        if run.ok || named.len() != broken.len() || !strangers.is_empty() {
            misses.push(format!(
                "{what} ({}): check {}; named {named:?}; other problems {strangers:?}",
                broken.join(", "),
                if run.ok { "passed" } else { "failed" }
            ));
        }
    }
    assert!(
        misses.is_empty(),
        "{b}: check did not name exactly the broken migrations:\n{}",
        misses.join("\n")
    );
}

/// Tables of the live schema that hold no row (bookkeeping tables aside).
pub(crate) fn empty_tables(db: &TestDb) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let skip = |n: &String| corpus::BOOKKEEPING_TABLES.contains(&n.trim_start_matches("public."));
    match &db.target {
        DatabaseTarget::Postgres { url } => {
            let mut c = PgConnection::establish(url).expect("connect");
            let names: Vec<Name> = diesel::sql_query(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables \
                 WHERE schemaname IN ('public', 'utils') ORDER BY 1",
            )
            .load(&mut c)
            .expect("tables");
            names
                .into_iter()
                .map(|t| t.name)
                .filter(|t| !skip(t))
                .filter(|t| {
                    let count: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {t}"))
                        .get_result(&mut c)
                        .expect("count");
                    count.n == 0
                })
                .collect()
        }
        DatabaseTarget::Sqlite { path } => {
            let mut c = SqliteConnection::establish(&path.display().to_string()).expect("connect");
            let names: Vec<Name> =
                diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
                    .load(&mut c)
                    .expect("tables");
            names
                .into_iter()
                .map(|t| t.name)
                .filter(|t| !skip(t) && t != "sqlite_sequence")
                .filter(|t| {
                    let count: Count =
                        diesel::sql_query(format!("SELECT count(*) AS n FROM \"{t}\""))
                            .get_result(&mut c)
                            .expect("count");
                    count.n == 0
                })
                .collect()
        }
    }
}

fn full_downgrade_leaves_an_empty_schema(backend: db_conn::Backend, test: &str) {
    let (Some(db), Some(fresh)) = (new_db(backend, test), new_db(backend, test)) else {
        return;
    };
    let p = Project::new(backend);
    let b = db.name();
    ok(&db, None, &p.args(&["apply"]));
    corpus::fill_rows(&mut db.connect(), &p.history).expect("fill every table");
    assert_eq!(
        empty_tables(&db),
        Vec::<String>::new(),
        "{b}: fill_rows fills every table"
    );

    let steps = p.len().to_string();
    let reverted = ok(&db, None, &p.args(&["downgrade", "--steps", &steps]));
    assert_eq!(
        strings(&reverted["reverted"]).len(),
        p.len(),
        "{b}: {reverted}"
    );
    assert!(applied_versions(&db).is_empty(), "{b}");
    // A fresh SQLite file exists only once connected to.
    drop(fresh.connect());
    assert_eq!(
        schema_text(&db),
        schema_text(&fresh),
        "{b}: something is left"
    );
}

#[test]
fn postgres_corpus_applied_by_the_tool_equals_the_diesel_cli_and_status_is_clean() {
    applied_by_tool_equals_diesel_cli_and_status_is_clean(
        db_conn::Backend::Postgres,
        "postgres_corpus_applied_by_the_tool_equals_the_diesel_cli",
    );
}

#[test]
fn sqlite_corpus_applied_by_the_tool_equals_the_diesel_cli_and_status_is_clean() {
    applied_by_tool_equals_diesel_cli_and_status_is_clean(
        db_conn::Backend::Sqlite,
        "sqlite_corpus_applied_by_the_tool_equals_the_diesel_cli",
    );
}

#[test]
fn postgres_corpus_check_passes_and_names_each_down_sql_that_leaves_something() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("a table", &[("CREATE TABLE t4_events", "SELECT 1;\n")]),
        (
            "diesel's helper functions",
            &[("diesel_manage_updated_at(_tbl regclass)", "SELECT 1;\n")],
        ),
        (
            "an extension",
            &[(
                "CREATE EXTENSION IF NOT EXISTS ltree",
                "DROP EXTENSION btree_gist;\nDROP EXTENSION pg_trgm;\nDROP EXTENSION citext;\n",
            )],
        ),
        (
            "a row-level-security policy",
            &[("CREATE POLICY o13_tenant", "SELECT 1;\n")],
        ),
        ("comments", &[("COMMENT ON TABLE t5_items", "SELECT 1;\n")]),
        (
            "two broken migrations",
            &[
                ("CREATE TABLE t4_events", "SELECT 1;\n"),
                ("CREATE DOMAIN o7_positive", "DROP TABLE o7_prices;\n"),
            ],
        ),
    ];
    check_passes_and_names_broken_down_sql(
        db_conn::Backend::Postgres,
        "postgres_corpus_check_passes_and_names_each_down_sql",
        cases,
    );
}

#[test]
fn sqlite_corpus_check_passes_and_names_each_down_sql_that_leaves_something() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("a table", &[("CREATE TABLE \"s4_events\"", "SELECT 1;\n")]),
        (
            "a trigger",
            &[("CREATE TRIGGER q0_audit_delete", "DROP TABLE q0_audit;\n")],
        ),
        (
            "user_version",
            &[("PRAGMA user_version = 3;", "SELECT 1;\n")],
        ),
    ];
    check_passes_and_names_broken_down_sql(
        db_conn::Backend::Sqlite,
        "sqlite_corpus_check_passes_and_names_each_down_sql",
        cases,
    );
}

#[test]
fn postgres_corpus_downgraded_to_zero_leaves_an_empty_schema() {
    full_downgrade_leaves_an_empty_schema(
        db_conn::Backend::Postgres,
        "postgres_corpus_downgraded_to_zero",
    );
}

#[test]
fn sqlite_corpus_downgraded_to_zero_leaves_an_empty_schema() {
    full_downgrade_leaves_an_empty_schema(
        db_conn::Backend::Sqlite,
        "sqlite_corpus_downgraded_to_zero",
    );
}
