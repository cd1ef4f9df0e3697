//! The data-safety commands of `cargo xtask` on both backends: backup, list, verify, prune,
//! restore, export/import, integrity, pre-deploy, and the remote backup and restore through a
//! service's admin endpoints.

use std::path::Path;

use backend::api::admin::AdminToken;
use backend::api::{AppState, Auth};
use pf_data::models::{NewSystemConfig, SystemConfig};
use pf_data::resource::Resource;
use serde_json::{json, Value};

use crate::support::*;

const API: &str = "api-token-0123456789abcdef";
const ADMIN: &str = "admin-token-fedcba9876543210";

fn add_rows(db: &TestDb, prefix: &str, n: usize) {
    let mut conn = db.connect();
    for i in 0..n {
        SystemConfig::create(
            &mut conn,
            &NewSystemConfig {
                config_key: format!("{prefix} {i} — ünïcødé"),
                config_value: format!("{}", i as f64 / 7.0),
                description: (i % 2 == 0).then(|| "注释".to_owned()),
            },
        )
        .unwrap();
    }
}

fn digests(db: &TestDb) -> Value {
    let mut conn = db.connect();
    serde_json::to_value(data_safety::hash::digests(&mut conn).unwrap()).unwrap()
}

fn dir_args<'a>(dir: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--backups-dir", dir.to_str().unwrap()]);
    all
}

#[test]
fn backup_list_verify_restore_and_prune() {
    for db in TestDb::each("xtask_backup_list_verify_restore_prune") {
        let b = db.name();
        drop(db.migrated());
        add_rows(&db, "first", 5);
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("backups");
        let first = ok(&db, None, &dir_args(&dir, &["backup"]));
        let id = first["backup"]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            first["verify"]["rows"],
            json!(8),
            "{b}: 3 seeded + 5: {first}"
        );
        assert_eq!(
            first["steps"].as_array().unwrap().len(),
            2,
            "{b}: backup, verify"
        );
        let at_first = digests(&db);

        add_rows(&db, "second", 3);
        ok(&db, None, &dir_args(&dir, &["backup", "--no-verify"]));
        let listed = ok(&db, None, &dir_args(&dir, &["backup", "list"]));
        let backups = listed["backups"].as_array().unwrap();
        assert_eq!(backups.len(), 2, "{b}: {listed}");
        assert!(
            backups[0]["verified"].is_object() && backups[1]["verified"].is_null(),
            "{b}: {listed}"
        );
        let verified = ok(&db, None, &dir_args(&dir, &["backup", "verify", "latest"]));
        assert_eq!(verified["verify"]["rows"], json!(11), "{b}");

        let restored = ok(&db, None, &dir_args(&dir, &["restore", &id]));
        assert_eq!(restored["restore"]["restored"], json!(id), "{b}");
        assert!(
            restored["restore"]["safety_backup"].is_string(),
            "{b}: {restored}"
        );
        assert_eq!(digests(&db), at_first, "{b}: back to the first backup");

        assert!(fails(&db, None, &dir_args(&dir, &["backup", "prune"])).contains("keeps no backup"));
        let dry = ok(
            &db,
            None,
            &dir_args(&dir, &["backup", "prune", "--keep-last", "1", "--dry-run"]),
        );
        assert_eq!(
            dry["prune"]["removed"].as_array().unwrap().len(),
            2,
            "{b}: {dry}"
        );
        assert_eq!(
            ok(&db, None, &dir_args(&dir, &["backup", "list"]))["backups"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        ok(
            &db,
            None,
            &dir_args(&dir, &["backup", "prune", "--keep-last", "1"]),
        );
        let left = ok(&db, None, &dir_args(&dir, &["backup", "list"]));
        assert_eq!(left["backups"].as_array().unwrap().len(), 1, "{b}: {left}");
        assert!(
            left["backups"][0]["note"]
                .as_str()
                .unwrap()
                .contains("safety backup"),
            "{b}: the newest is kept"
        );

        let err = fails(&db, None, &dir_args(&dir, &["restore", "missing"]));
        assert!(
            err.contains("no backup `missing`") && err.contains("backup list"),
            "{b}: {err}"
        );
    }
}

#[test]
fn export_import_and_integrity() {
    for db in TestDb::each("xtask_export_import_integrity") {
        let b = db.name();
        drop(db.migrated());
        add_rows(&db, "row", 7);
        let work = tempfile::tempdir().unwrap();
        let folder = work.path().join("export");
        let exported = ok(&db, None, &["export", folder.to_str().unwrap()]);
        assert_eq!(
            exported["export"]["tables"]["system_config"]["rows"],
            json!(10),
            "{b}"
        );
        let dest = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("xtask_export_import_integrity").unwrap()
        };
        ok(&dest, None, &["apply"]);
        let imported = ok(&dest, None, &["import", folder.to_str().unwrap()]);
        assert_eq!(imported["import"]["rows"], json!(10), "{b}: {imported}");
        assert_eq!(digests(&dest), digests(&db), "{b}");
        let integrity = ok(&dest, None, &["integrity"]);
        assert_eq!(
            integrity["integrity"]["ok"],
            json!(true),
            "{b}: {integrity}"
        );
        assert_eq!(
            integrity["integrity"]["tables"]["system_config"],
            json!(10),
            "{b}"
        );
        // An orphan (SQLite lets one in with foreign keys off) is a problem and a failure.
        if b == "sqlite" {
            use diesel::connection::SimpleConnection;
            let mut conn = dest.connect();
            conn.batch_execute(
                "PRAGMA foreign_keys = OFF; INSERT INTO fund_dividends (fund_id, ex_dividend_date, dividend_per_share, currency) VALUES (999, '2025-01-01', '0.1', 'USD')",
            )
            .unwrap();
            let err = fails(&dest, None, &["integrity"]);
            assert!(
                err.contains("fund_dividends") && err.contains("fund_info"),
                "{err}"
            );
        }
    }
}

#[test]
fn pre_deploy_reports_pending_and_refuses_unknown_migrations() {
    for db in TestDb::each("xtask_pre_deploy_local") {
        let b = db.name();
        ok(&db, None, &["apply", "--steps", "17"]);
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("backups");
        let report = ok(&db, None, &dir_args(&dir, &["pre-deploy"]));
        assert_eq!(
            report["migrations"]["pending"].as_array().unwrap().len(),
            head() - 17,
            "{b}: {report}"
        );
        assert!(report["verify"]["rows"].is_number(), "{b}");
        ok(&db, None, &["apply"]);
        use diesel::connection::SimpleConnection;
        db.connect()
            .batch_execute(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')",
            )
            .unwrap();
        let err = fails(&db, None, &dir_args(&dir, &["pre-deploy"]));
        assert!(
            err.contains("29990101000000") && err.contains("newer release"),
            "{b}: {err}"
        );
    }
}

/// The service's router, served in-process on an ephemeral port (the runtime stops on drop).
struct Service {
    addr: String,
    _runtime: tokio::runtime::Runtime,
}

fn serve(db: &TestDb, backups: &Path) -> Service {
    let pool = db_conn::pool(&db.target).unwrap();
    let auth = Auth::from_token(Some(API.into()), backend::api::TokenRule::Required).unwrap();
    let admin = AdminToken::new(Some(ADMIN.into()), &auth)
        .unwrap()
        .with_backups_dir(backups);
    let router =
        backend::api::router(AppState::new(pool, db.target.clone(), auth).with_admin(admin));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, router).await });
    Service {
        addr,
        _runtime: runtime,
    }
}

#[test]
fn remote_backup_pre_deploy_and_restore_through_the_admin_endpoints() {
    for db in TestDb::each("xtask_remote_backup") {
        let b = db.name();
        drop(db.migrated());
        add_rows(&db, "remote", 4);
        let work = tempfile::tempdir().unwrap();
        let service = serve(&db, &work.path().join("server"));
        let dir = work.path().join("local");
        let with_token = |token: Option<&str>, args: &[&str]| {
            let mut full = vec!["--json"];
            full.extend(dir_args(&dir, args));
            let mut cmd = command(&db, None, &full);
            cmd.env_remove("ADMIN_TOKEN").env_remove("BACKUPS_DIR");
            if let Some(t) = token {
                cmd.env("ADMIN_TOKEN", t);
            }
            Run::from(cmd.output().unwrap())
        };

        let run = with_token(None, &["backup", "--remote", &service.addr]);
        assert!(
            !run.ok && run.error().contains("ADMIN_TOKEN is not set"),
            "{b}: {}",
            run.stderr
        );
        let run = with_token(
            Some("not-the-admin-token-123"),
            &["backup", "--remote", &service.addr],
        );
        assert!(
            !run.ok && run.error().contains("401"),
            "{b}: {}",
            run.error()
        );
        let run = with_token(Some(API), &["backup", "--remote", &service.addr]);
        assert!(
            !run.ok && run.error().contains("403"),
            "{b}: {}",
            run.error()
        );

        let run = with_token(Some(ADMIN), &["backup", "--remote", &service.addr]);
        assert!(run.ok, "{b}: {}", run.stderr);
        let doc = run.json();
        let path = doc["backup"]["path"].as_str().unwrap().to_owned();
        assert!(Path::new(&path).join("manifest.json").exists(), "{b}");
        assert_eq!(doc["verify"]["rows"], json!(7), "{b}: {doc}");
        let at_backup = digests(&db);

        let run = with_token(Some(ADMIN), &["pre-deploy", "--remote", &service.addr]);
        assert!(run.ok, "{b}: {}", run.stderr);
        assert_eq!(run.json()["migrations"]["pending"], json!([]), "{b}");
        assert_eq!(
            std::fs::read_dir(&dir)
                .unwrap()
                .filter(|e| e.as_ref().unwrap().path().is_dir())
                .count(),
            2,
            "{b}"
        );

        add_rows(&db, "later", 2);
        let id = doc["backup"]["id"].as_str().unwrap();
        let run = with_token(Some(ADMIN), &["restore", id, "--remote", &service.addr]);
        assert!(run.ok, "{b}: {}", run.stderr);
        assert_eq!(run.json()["restore"]["method"], json!("transaction"), "{b}");
        assert_eq!(digests(&db), at_backup, "{b}: restored through the service");
    }
}

/// Tables no model of ours describes, of the shapes real histories have: another schema, no
/// primary key with duplicate rows, a composite key, arrays, enums, json, bytea, timestamptz.
fn add_foreign_tables(db: &TestDb) {
    let sql = match db.target.backend() {
        db_conn::Backend::Postgres => {
            "CREATE SCHEMA utils;
             CREATE TYPE mood AS ENUM ('calm', 'busy');
             CREATE TABLE utils.notes (body TEXT, tags TEXT[], at TIMESTAMPTZ);
             INSERT INTO utils.notes VALUES ('dup', '{a,b}', '2024-01-01 10:00+02'), ('dup', '{a,b}', '2024-01-01 10:00+02');
             CREATE TABLE pairs (a INT, b INT, mood mood, doc JSONB, raw BYTEA, PRIMARY KEY (a, b));
             INSERT INTO pairs VALUES (1, 2, 'calm', '{\"k\": [1, 2]}', '\\x00ff'), (2, 1, 'busy', NULL, NULL);"
        }
        db_conn::Backend::Sqlite => {
            "CREATE TABLE notes (body TEXT, tags TEXT, at TEXT);
             INSERT INTO notes VALUES ('dup', '[\"a\",\"b\"]', '2024-01-01T08:00:00Z'), ('dup', '[\"a\",\"b\"]', '2024-01-01T08:00:00Z');
             CREATE TABLE pairs (a INT, b INT, mood TEXT, doc TEXT, raw BLOB, PRIMARY KEY (a, b)) WITHOUT ROWID;
             INSERT INTO pairs VALUES (1, 2, 'calm', '{\"k\": [1, 2]}', x'00ff'), (2, 1, 'busy', NULL, NULL);"
        }
    };
    diesel::connection::SimpleConnection::batch_execute(&mut db.connect(), sql).unwrap();
}

#[test]
fn backups_count_and_hash_every_table_the_catalog_lists() {
    for db in TestDb::each("xtask_backup_every_catalog_table") {
        let b = db.name();
        drop(db.migrated());
        add_foreign_tables(&db);
        let notes = if b == "postgres" {
            "utils.notes"
        } else {
            "notes"
        };
        let before = digests(&db);
        for table in [notes, "pairs"] {
            assert_eq!(before[table]["rows"], json!(2), "{b}: {table}: {before}");
            assert!(before[table]["sha256"].is_string(), "{b}: {table}");
        }
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("backups");
        let made = ok(&db, None, &dir_args(&dir, &["backup"]));
        let id = made["backup"]["id"].as_str().unwrap().to_owned();

        // A lost duplicate and a changed value are both seen, and the restore brings them back.
        let change = match db.target.backend() {
            db_conn::Backend::Postgres => {
                "DELETE FROM utils.notes WHERE ctid = (SELECT min(ctid) FROM utils.notes); UPDATE pairs SET raw = '\\x00fe' WHERE a = 1"
            }
            db_conn::Backend::Sqlite => {
                "DELETE FROM notes WHERE rowid = (SELECT min(rowid) FROM notes); UPDATE pairs SET raw = x'00fe' WHERE a = 1"
            }
        };
        diesel::connection::SimpleConnection::batch_execute(&mut db.connect(), change).unwrap();
        let changed = digests(&db);
        assert_eq!(changed[notes]["rows"], json!(1), "{b}");
        assert_eq!(changed["pairs"]["rows"], json!(2), "{b}");
        assert_ne!(changed["pairs"]["sha256"], before["pairs"]["sha256"], "{b}");

        ok(&db, None, &dir_args(&dir, &["restore", &id]));
        assert_eq!(digests(&db), before, "{b}: every table back as it was");
    }
}

fn plaintext_snapshots(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            found.extend(plaintext_snapshots(&entry.path()));
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        if bytes.starts_with(b"SQLite format 3\0") || bytes.starts_with(b"PGDMP") {
            found.push(entry.path().display().to_string());
        }
    }
    found
}

#[test]
fn pre_deploy_encrypts_the_download_and_restore_decrypts_the_upload() {
    for db in TestDb::each("xtask_encrypted_remote") {
        let b = db.name();
        drop(db.migrated());
        add_rows(&db, "sealed", 4);
        let work = tempfile::tempdir().unwrap();
        let service = serve(&db, &work.path().join("server"));
        let dir = work.path().join("local");
        let key = work.path().join("key.txt");
        let run_with = |args: &[&str]| {
            let mut full = vec!["--json"];
            if args[1] == "keygen" {
                full.extend(args);
            } else {
                full.extend(dir_args(&dir, args));
            }
            let mut cmd = command(&db, None, &full);
            cmd.env_remove("BACKUPS_DIR")
                .env_remove("BACKUP_RECIPIENTS");
            cmd.env_remove("BACKUP_IDENTITY").env("ADMIN_TOKEN", ADMIN);
            Run::from(cmd.output().unwrap())
        };
        let made = run_with(&["backup", "keygen", key.to_str().unwrap()]);
        assert!(made.ok, "{b}: {}", made.stderr);
        let public = made.json()["recipient"].as_str().unwrap().to_owned();
        let identity = key.to_str().unwrap();

        let run = run_with(&[
            "pre-deploy",
            "--remote",
            &service.addr,
            "--encrypt-to",
            &public,
        ]);
        assert!(
            !run.ok && run.error().contains("--identity"),
            "{b}: {}",
            run.error()
        );
        let remote = ["pre-deploy", "--remote", &service.addr];
        let run = run_with(
            &[
                &remote[..],
                &["--encrypt-to", &public, "--identity", identity],
            ]
            .concat(),
        );
        assert!(run.ok, "{b}: {}", run.stderr);
        let doc = run.json();
        let manifest = &doc["backup"]["manifest"];
        assert_eq!(
            manifest["snapshot"]["encryption"]["recipients"],
            json!([public]),
            "{b}: {doc}"
        );
        assert_eq!(
            doc["verify"]["rows"],
            json!(7),
            "{b}: verified with the identity"
        );
        assert!(plaintext_snapshots(&dir).is_empty(), "{b}");
        std::fs::write(dir.join("health_data_before.json"), "{\"counts\":{}}").unwrap();
        let check = run_with(&["backup", "check-encrypted"]);
        assert!(check.ok, "{b}: {}", check.stderr);
        let at_backup = digests(&db);

        add_rows(&db, "later", 2);
        let id = doc["backup"]["id"].as_str().unwrap();
        let run = run_with(&["restore", id, "--remote", &service.addr]);
        assert!(
            !run.ok && run.error().contains("--identity"),
            "{b}: {}",
            run.error()
        );
        let other = work.path().join("other.txt");
        assert!(run_with(&["backup", "keygen", other.to_str().unwrap()]).ok);
        let run = run_with(&[
            "restore",
            id,
            "--remote",
            &service.addr,
            "--identity",
            other.to_str().unwrap(),
        ]);
        assert!(
            !run.ok && run.error().contains("no key in"),
            "{b}: {}",
            run.error()
        );
        assert_ne!(digests(&db), at_backup, "{b}: nothing restored");
        let run = run_with(&[
            "restore",
            id,
            "--remote",
            &service.addr,
            "--identity",
            identity,
        ]);
        assert!(run.ok, "{b}: {}", run.stderr);
        assert_eq!(digests(&db), at_backup, "{b}: restored through the service");

        // A plaintext backup in the folder: nothing may be uploaded.
        assert!(run_with(&["backup", "--no-verify"]).ok);
        let check = run_with(&["backup", "check-encrypted"]);
        assert!(
            !check.ok && check.error().contains("is not encrypted"),
            "{b}: {}",
            check.error()
        );
    }
}
