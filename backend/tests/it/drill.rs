//! The redeploy drill and the persistence guard, on the real binary: a process is killed
//! (SIGKILL, as a crashed container) or stopped (SIGTERM, as a platform redeploy) and a new
//! one starts on the same data; every row written before must be there. Then the guard:
//! Railway's variables with SQLite off the volume, and a database that vanished under its
//! data marker, must both stop the service before it creates anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::binary::{
    http, run_to_exit, serve_command, signal, start, start_command, wait_exit, Server,
};
use crate::samples;
use crate::support::TestDb;

/// Rows written through the API, as the API returned them (ids included).
type Written = Vec<(&'static str, Value)>;

/// Creates one row in every table (parents first) and returns what the API answered.
fn write_every_table(server: &Server, variant: usize) -> Written {
    let mut ids: HashMap<&'static str, i64> = HashMap::new();
    let mut written = Vec::new();
    for table in samples::tables() {
        let body = samples::input(&table, variant, &ids).to_string();
        let (status, answer) = http(
            &server.addr,
            "POST",
            &format!("/api/v1/{}", table.name),
            Some(&body),
        );
        assert_eq!(status, 201, "POST {}: {answer}", table.name);
        let row: Value = serde_json::from_str(&answer).expect("JSON row");
        ids.insert(table.name, row["id"].as_i64().expect("id"));
        written.push((table.name, row));
    }
    written
}

/// Every row reads back exactly as it was written.
fn assert_all_there(server: &Server, written: &Written, when: &str) {
    for (table, row) in written {
        let (status, answer) = http(
            &server.addr,
            "GET",
            &format!("/api/v1/{table}/{}", row["id"]),
            None,
        );
        assert_eq!(
            status, 200,
            "{when}: {table} row {} is gone: {answer}",
            row["id"]
        );
        let now: Value = serde_json::from_str(&answer).expect("JSON row");
        assert_eq!(&now, row, "{when}: {table} row changed");
    }
}

fn health_data(server: &Server) -> Value {
    let (status, body) = http(&server.addr, "GET", "/health/data", None);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON report")
}

#[test]
fn sigkill_then_restart_keeps_every_row() {
    for db in TestDb::each("sigkill_then_restart_keeps_every_row") {
        let server = start(&db, &[]);
        let written = write_every_table(&server, 0);
        let before = health_data(&server)["tables"].clone();
        signal(&server.child, "KILL");
        drop(server); // reaps the killed process

        let server = start(&db, &[]);
        assert_all_there(&server, &written, &format!("{} after SIGKILL", db.name()));
        assert_eq!(health_data(&server)["tables"], before, "{}", db.name());
    }
}

#[test]
fn sigterm_between_writes_then_sigkill_keeps_every_row() {
    for db in TestDb::each("sigterm_between_writes_then_sigkill_keeps_every_row") {
        let mut server = start(&db, &[]);
        let mut written = write_every_table(&server, 0);
        signal(&server.child, "TERM");
        assert!(wait_exit(&mut server.child).success(), "{}", db.name());

        let server = start(&db, &[]);
        assert_all_there(&server, &written, &format!("{} after SIGTERM", db.name()));
        written.extend(write_every_table(&server, 2));
        signal(&server.child, "KILL");
        drop(server);

        let server = start(&db, &[]);
        assert_all_there(
            &server,
            &written,
            &format!("{} after SIGTERM, SIGKILL", db.name()),
        );
        let report = health_data(&server);
        assert_eq!(report["has_data"], Value::Bool(true));
        assert!(
            report["tables"]["fund_info"].as_i64() == Some(2),
            "{}: {report}",
            db.name()
        );
    }
}

/// A SQLite file under a temporary folder, configured through DATABASE_PATH as on Railway.
struct Folder {
    dir: tempfile::TempDir,
}

impl Folder {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn str(&self, rel: &str) -> String {
        self.path(rel).display().to_string()
    }
}

fn assert_one_line_refusal(status: std::process::ExitStatus, stderr: &str, needles: &[&str]) {
    assert!(
        !status.success(),
        "expected a refusal, got {status:?}: {stderr}"
    );
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one line saying what to do: {stderr}"
    );
    assert!(stderr.starts_with("error: refusing to start"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "missing `{needle}`: {stderr}");
    }
}

#[test]
fn railway_refuses_sqlite_off_the_volume() {
    let f = Folder::new();
    std::fs::create_dir_all(f.path("volume")).unwrap();
    let db = f.str("ephemeral/personalfinance.db");
    let volume = f.str("volume");

    // A volume is mounted, but the database is not on it.
    let (status, stderr) = run_to_exit(serve_command(
        None,
        &[
            ("RAILWAY_ENVIRONMENT", "production"),
            ("RAILWAY_VOLUME_MOUNT_PATH", &volume),
            ("DATABASE_PATH", &db),
        ],
    ));
    assert_one_line_refusal(
        status,
        &stderr,
        &[
            "outside the Railway volume",
            &format!("DATABASE_PATH={volume}/personalfinance.db"),
            "DATABASE_URL",
        ],
    );
    // No volume at all.
    let (status, stderr) = run_to_exit(serve_command(
        None,
        &[("RAILWAY_PROJECT_ID", "p"), ("DATABASE_PATH", &db)],
    ));
    assert_one_line_refusal(
        status,
        &stderr,
        &["no volume mounted", "Volumes", "PostgreSQL"],
    );
    assert!(
        !f.path("ephemeral").exists(),
        "the refusal came before anything was created"
    );
}

#[test]
fn railway_starts_with_sqlite_on_the_volume_or_on_postgres() {
    let f = Folder::new();
    std::fs::create_dir_all(f.path("volume")).unwrap();
    let volume = f.str("volume");
    let db = f.str("volume/personalfinance.db");
    let mut server = start_command(serve_command(
        None,
        &[
            ("RAILWAY_ENVIRONMENT", "production"),
            ("RAILWAY_VOLUME_MOUNT_PATH", &volume),
            ("DATABASE_PATH", &db),
            ("RAILWAY_DEPLOYMENT_ID", "deploy-1"),
        ],
    ));
    let report = health_data(&server);
    assert_eq!(
        report["storage"]["persistent"],
        Value::Bool(true),
        "{report}"
    );
    assert_eq!(
        report["storage"]["location"].as_str(),
        Some(db_conn::paths::resolve(Path::new(&db)).to_str().unwrap())
    );
    assert_eq!(report["instance"]["deployment_id"], "deploy-1");
    signal(&server.child, "TERM");
    assert!(wait_exit(&mut server.child).success());

    // PostgreSQL keeps its data off this disk: no volume needed.
    if let Some(pg) = TestDb::postgres("railway_starts_with_sqlite_on_the_volume_or_on_postgres") {
        let server = start(&pg, &[("RAILWAY_ENVIRONMENT", "production")]);
        assert_eq!(
            health_data(&server)["storage"]["persistent"],
            Value::Bool(true)
        );
    }
}

#[test]
fn a_vanished_database_is_refused_until_acknowledged() {
    let f = Folder::new();
    let db = f.str("data/personalfinance.db");
    let marker = f.path("data/personalfinance.db.pf-marker");
    let env = [("DATABASE_PATH", db.as_str())];

    // First start on an empty folder; data written; a clean stop records the marker.
    let mut server = start_command(serve_command(None, &env));
    write_every_table(&server, 0);
    signal(&server.child, "TERM");
    assert!(wait_exit(&mut server.child).success());
    assert!(marker.exists(), "a clean stop with data leaves a marker");

    // A start with data refreshes it too (so a SIGKILL later still leaves one).
    std::fs::remove_file(&marker).unwrap();
    let server = start_command(serve_command(None, &env));
    assert!(marker.exists(), "a start that finds data writes the marker");
    signal(&server.child, "KILL");
    drop(server);

    // The database file disappears (the volume was swapped, a script deleted it, ...).
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
    let (status, stderr) = run_to_exit(serve_command(None, &env));
    let id = serde_json::from_str::<Value>(&std::fs::read_to_string(&marker).unwrap()).unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_one_line_refusal(
        status,
        &stderr,
        &[
            "is missing",
            "the data is gone from this path",
            "backend restore",
            &format!("PF_ACCEPT_EMPTY_DATABASE={id}"),
        ],
    );
    assert!(
        !Path::new(&db).exists(),
        "no empty database was created over the loss"
    );

    // `backend migrate` would create it just as well: refused the same way.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .env("DATABASE_PATH", &db)
        .output()
        .expect("run backend migrate");
    assert!(!out.status.success());
    assert!(!Path::new(&db).exists());

    // Acknowledged, once: it starts on an empty database and the marker is gone.
    let ack = [env[0], ("PF_ACCEPT_EMPTY_DATABASE", id.as_str())];
    let mut server = start_command(serve_command(None, &ack));
    assert_eq!(health_data(&server)["has_data"], Value::Bool(false));
    assert!(!marker.exists());
    signal(&server.child, "TERM");
    assert!(wait_exit(&mut server.child).success());
    assert!(!marker.exists(), "an empty database leaves no marker");
}

#[test]
fn a_database_emptied_under_its_marker_is_refused() {
    let f = Folder::new();
    let db = f.str("data/personalfinance.db");
    let env = [("DATABASE_PATH", db.as_str())];
    let mut server = start_command(serve_command(None, &env));
    write_every_table(&server, 0);
    signal(&server.child, "TERM");
    assert!(wait_exit(&mut server.child).success());

    // Replaced by a fresh, migrated but empty database (what an unguarded start would make).
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
    let target = db_conn::DatabaseTarget::sqlite(&db);
    let mut conn = db_conn::establish(&target).unwrap();
    pf_data::migrations::run_pending(&mut conn).unwrap();
    drop(conn);

    let (status, stderr) = run_to_exit(serve_command(None, &env));
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("refusing to start") && stderr.contains("holds no data now"),
        "{stderr}"
    );
}
