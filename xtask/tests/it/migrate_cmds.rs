//! The day-to-day commands on both backends: status, apply, history, show, downgrade, redo,
//! sql, stamp, create, check.

use std::io::Write;

use serde_json::json;

use crate::support::*;

#[test]
fn apply_downgrade_redo_history_show_and_status() {
    for db in TestDb::each("apply_downgrade_redo_history_show_and_status") {
        let b = db.name();
        let status = ok(&db, None, &["status"]);
        assert_eq!(
            strings(&status["status"]["pending"]).len() + strings(&status["pending"]).len(),
            head(),
            "{b}: {status}"
        );

        assert_eq!(
            strings(&ok(&db, None, &["apply", "--steps", "5"])["applied"]).len(),
            5,
            "{b}"
        );
        let to_ten = ok(&db, None, &["apply", "--to", &folder(10)]);
        assert_eq!(
            strings(&to_ten["applied"]),
            (6..=10).map(folder).collect::<Vec<_>>(),
            "{b}"
        );
        let history = ok(&db, None, &["history", "--verbose"]);
        let states: Vec<&str> = history["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["state"].as_str().unwrap())
            .collect();
        assert_eq!(
            states.iter().filter(|s| **s == "applied").count(),
            10,
            "{b}"
        );
        let shown = ok(&db, None, &["show", "head"]);
        assert_eq!(shown["folder"], json!(folder(head())));
        assert!(shown["up"].as_str().unwrap().starts_with("-- "));

        assert_eq!(
            strings(&ok(&db, None, &["downgrade", "--steps", "2"])["reverted"]),
            [folder(10), folder(9)],
            "{b}"
        );
        assert_eq!(
            strings(&ok(&db, None, &["downgrade", "--to", &folder(6)])["reverted"]),
            [folder(8), folder(7)],
            "{b}"
        );
        assert_eq!(applied_versions(&db).len(), 6, "{b}");
        assert_eq!(
            strings(&ok(&db, None, &["apply"])["applied"]).len(),
            head() - 6,
            "{b}"
        );
        assert_eq!(
            strings(&ok(&db, None, &["redo"])["redone"]),
            [folder(head())],
            "{b}"
        );

        let status = ok(&db, None, &["status"]);
        assert_eq!(status["status"]["pending"], json!([]), "{b}");
        assert_eq!(status["drift"], json!([]), "{b}: no drift at head");
        assert_eq!(status["lock"], json!(null), "{b}");

        assert!(fails(&db, None, &["downgrade"]).contains("--to VERSION, --steps N or --all"));
        assert!(fails(&db, None, &["show", "nope"]).contains("no migration matches `nope`"));
        assert!(fails(&db, None, &["apply", "--to", "1999"]).contains("no migration matches"));
        assert_eq!(
            applied_versions(&db).len(),
            head(),
            "{b}: failures applied nothing"
        );
    }
}

#[test]
fn drift_is_reported() {
    for db in TestDb::each("drift_is_reported") {
        ok(&db, None, &["apply"]);
        use diesel::connection::SimpleConnection;
        db.connect()
            .batch_execute("CREATE TABLE hand_made (id INTEGER PRIMARY KEY)")
            .unwrap();
        let run = xtask(&db, None, &["--json", "status"]);
        assert!(!run.ok, "{}: drift must fail status", db.name());
        let drift = strings(&run.json()["drift"]);
        assert_eq!(
            drift,
            ["table hand_made exists only in the live database"],
            "{}",
            db.name()
        );
        if db.name() == "postgres" {
            // The scratch schema lived only inside a rolled-back transaction.
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            use diesel::RunQueryDsl;
            let left: N = diesel::sql_query(
                "SELECT COUNT(*) AS n FROM pg_namespace WHERE nspname LIKE 'pf_scratch%'",
            )
            .get_result(&mut db.connect())
            .unwrap();
            assert_eq!(left.n, 0, "a scratch schema was left in the live database");
        }
    }
}

fn bytes_of(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).expect("read database file")
}

#[test]
fn sql_prints_exactly_what_apply_runs_and_touches_nothing() {
    for db in TestDb::each("sql_prints_exactly_what_apply_runs_and_touches_nothing") {
        let b = db.name();
        ok(&db, None, &["apply", "--steps", "3"]);
        let before_rows = applied_versions(&db);
        let before_schema =
            db_conn::introspect::SchemaSnapshot::capture(&mut db.connect()).unwrap();
        let file_before = db.target.sqlite_path().map(bytes_of);

        let script = ok(&db, None, &["sql"])["sql"].as_str().unwrap().to_owned();
        assert!(
            script.contains(&format!(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('{}')",
                migration_engine::version_of(&folder(4))
            )),
            "{b}"
        );
        assert!(
            script.contains("INSERT INTO __pf_migration_checksums"),
            "{b}"
        );
        assert!(
            !script.contains(&format!("'{}'", migration_engine::version_of(&folder(3)))),
            "{b}: applied ones are not planned"
        );
        let down = ok(&db, None, &["sql", "downgrade", "--steps", "1"])["sql"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            down.contains(&format!(
                "DELETE FROM __diesel_schema_migrations WHERE version = '{}'",
                migration_engine::version_of(&folder(3))
            )),
            "{b}"
        );

        assert_eq!(
            applied_versions(&db),
            before_rows,
            "{b}: sql changed the version table"
        );
        assert_eq!(
            db_conn::introspect::SchemaSnapshot::capture(&mut db.connect()).unwrap(),
            before_schema,
            "{b}"
        );
        if let Some(path) = db.target.sqlite_path() {
            assert!(
                Some(bytes_of(path)) == file_before,
                "sqlite: sql changed the database file"
            );
        }

        // The printed script, run by the database's own shell, does what apply would.
        let (program, args): (&str, Vec<String>) = match &db.target {
            db_conn::DatabaseTarget::Sqlite { path } => {
                ("sqlite3", vec!["-bail".into(), path.display().to_string()])
            }
            db_conn::DatabaseTarget::Postgres { url } => (
                "psql",
                vec![
                    "-q".into(),
                    "-v".into(),
                    "ON_ERROR_STOP=1".into(),
                    url.clone(),
                ],
            ),
        };
        let mut child = match std::process::Command::new(program)
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(_) => {
                test_kit::skip_check(
                    "REQUIRE_TOOLS",
                    &format!("{program} is not installed: the printed script was not executed"),
                );
                continue;
            }
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(
            child.wait().unwrap().success(),
            "{b}: the printed script failed in {program}"
        );
        let status = ok(&db, None, &["status"]);
        assert_eq!(
            status["status"]["pending"],
            json!([]),
            "{b}: the script applied everything"
        );
        assert_eq!(
            status["status"]["edited"],
            json!([]),
            "{b}: and recorded the right checksums"
        );
    }
}

#[test]
fn sql_on_a_missing_sqlite_file_creates_nothing() {
    let db = TestDb::sqlite();
    let script = ok(&db, None, &["sql"])["sql"].as_str().unwrap().to_owned();
    assert!(script.contains("CREATE TABLE fund_info"));
    assert!(!db.target.sqlite_path().unwrap().exists());
    assert!(!db.target.sqlite_path().unwrap().parent().unwrap().exists());
}

#[test]
fn stamp_records_without_running_and_refuses_inconsistency() {
    for db in TestDb::each("stamp_records_without_running_and_refuses_inconsistency") {
        let b = db.name();
        assert!(fails(&db, None, &["stamp", "20991231000000"]).contains("no migration matches"));
        assert_eq!(
            strings(&ok(&db, None, &["stamp", &folder(5)])["stamped"]).len(),
            5,
            "{b}"
        );
        let schema = db_conn::introspect::SchemaSnapshot::capture(&mut db.connect()).unwrap();
        assert!(schema.tables.is_empty(), "{b}: stamp ran no DDL");
        let refused = fails(&db, None, &["stamp", &folder(3)]);
        assert!(
            refused.contains("downgrade --to") && refused.contains("--force"),
            "{b}: {refused}"
        );
        ok(&db, None, &["stamp", &folder(3), "--force"]);
        assert_eq!(applied_versions(&db).len(), 3, "{b}");

        use diesel::connection::SimpleConnection;
        db.connect()
            .batch_execute(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')",
            )
            .unwrap();
        assert!(
            fails(&db, None, &["apply"]).contains("29990101000000"),
            "{b}: unknown versions refuse apply"
        );
        ok(&db, None, &["stamp", &folder(3), "--prune"]);
        assert!(
            !applied_versions(&db).contains(&"29990101000000".to_owned()),
            "{b}: pruned"
        );
    }
}

#[test]
fn create_writes_both_trees_and_refuses_vague_names() {
    let root = copy_trees();
    let db = TestDb::sqlite();
    for vague in ["", "fix bug", "untitled", "update"] {
        let error = fails(&db, Some(root.path()), &["create", vague]);
        assert!(
            error.contains("describe the change") || error.contains("does not say what"),
            "{vague:?}: {error}"
        );
    }
    let created = ok(
        &db,
        Some(root.path()),
        &["create", "Add fee currency to user_operations"],
    );
    let folder = created["folder"].as_str().unwrap().to_owned();
    assert!(
        folder.ends_with("_add_fee_currency_to_user_operations"),
        "{folder}"
    );
    for tree in ["sqlite", "postgres"] {
        assert!(root
            .path()
            .join(tree)
            .join(&folder)
            .join("up.sql")
            .is_file());
        assert!(root
            .path()
            .join(tree)
            .join(&folder)
            .join("down.sql")
            .is_file());
        let sums = std::fs::read_to_string(root.path().join(tree).join("migrations.sum")).unwrap();
        assert!(sums.contains(&folder), "{tree}: checksum file updated");
    }
    let newest = ok(&db, Some(root.path()), &["show", "head"]);
    assert_eq!(newest["folder"], json!(folder));
}

#[test]
fn create_autogenerates_from_schema_rs() {
    let Some(pg) = TestDb::postgres("create_autogenerates_from_schema_rs") else {
        return;
    };
    if test_kit::diesel_cli().is_none() {
        test_kit::skip_check(
            "REQUIRE_DIESEL_CLI",
            "create --autogenerate: the diesel CLI is not installed",
        );
        return;
    }
    let root = copy_trees();
    let schema = std::fs::read_to_string(repo_root().join("crates/pf-data/src/schema.rs"))
        .unwrap()
        .replacen(
            "        fund_type -> Nullable<Text>,\n",
            "        fund_type -> Nullable<Text>,\n        risk_level -> Nullable<Text>,\n",
            1,
        );
    let schema_rs = root.path().join("schema.rs");
    std::fs::write(&schema_rs, schema).unwrap();
    let created = ok(
        &pg,
        Some(root.path()),
        &[
            "create",
            "add risk level to fund info",
            "--autogenerate",
            "--schema-rs",
            schema_rs.to_str().unwrap(),
        ],
    );
    let folder = created["folder"].as_str().unwrap();
    for tree in ["sqlite", "postgres"] {
        let up =
            std::fs::read_to_string(root.path().join(tree).join(folder).join("up.sql")).unwrap();
        assert!(up.contains("risk_level"), "{tree}: {up}");
    }
    for db in [TestDb::sqlite(), pg] {
        let applied = ok(&db, Some(root.path()), &["apply"]);
        assert_eq!(
            strings(&applied["applied"]).len(),
            head() + 1,
            "{}",
            db.name()
        );
        assert_eq!(
            strings(&ok(&db, Some(root.path()), &["downgrade", "--steps", "1"])["reverted"]),
            [folder.to_owned()]
        );
    }
}

#[test]
fn check_passes_on_the_repository_and_catches_breakage() {
    let db = TestDb::sqlite();
    let report = ok(&db, None, &["check"]);
    assert!(
        !strings(&report["destructive"]).is_empty(),
        "the SQLite rebuilds are flagged"
    );

    let root = copy_trees();
    let r = root.path();
    std::fs::remove_file(r.join("sqlite").join(folder(4)).join("down.sql")).unwrap();
    std::fs::rename(
        r.join("postgres").join(folder(19)),
        r.join("postgres").join("2025-06-10-100000_fix_bug"),
    )
    .unwrap();
    let mut up = std::fs::OpenOptions::new()
        .append(true)
        .open(r.join("sqlite").join(folder(2)).join("up.sql"))
        .unwrap();
    writeln!(up, "-- an edit after the fact").unwrap();
    let run = xtask(&db, Some(r), &["--json", "check"]);
    assert!(!run.ok);
    let problems = strings(&run.json()["problems"]).join("\n");
    let advice = strings(&run.json()["advice"]).join("\n");
    assert!(
        advice.contains("2025-06-10-100000_fix_bug: `fix_bug` does not say")
            && !problems.contains("fix_bug: `fix_bug`"),
        "a vague name is style advice, not an error: {advice}\n{problems}"
    );
    let needles = [
        format!("sqlite/{}: no down.sql", folder(4)),
        format!("{} exists in sqlite/ but not in postgres/", folder(19)),
        format!("{} was edited", folder(2)),
    ];
    for needle in &needles {
        assert!(
            problems.contains(needle),
            "missing `{needle}` in:\n{problems}"
        );
    }
    // --fix rewrites what is generated; the hand-made problems remain.
    let run = xtask(&db, Some(r), &["--json", "check", "--fix"]);
    let problems = strings(&run.json()["problems"]).join("\n");
    assert!(
        !problems.contains("was edited") && problems.contains("no down.sql"),
        "{problems}"
    );
}

#[test]
fn reset_backs_up_first_and_refuses_remote_databases() {
    for db in TestDb::each("reset_backs_up_first_and_refuses_remote_databases") {
        let b = db.name();
        let backups = tempfile::tempdir().unwrap();
        ok(&db, None, &["apply"]);
        use diesel::connection::SimpleConnection;
        db.connect()
            .batch_execute(
                "INSERT INTO fund_info (fund_code, fund_name, currency) VALUES ('1', 'x', 'CNY')",
            )
            .unwrap();
        let report = ok(
            &db,
            None,
            &["reset", "--backups-dir", backups.path().to_str().unwrap()],
        );
        assert!(report["backup"].is_string(), "{b}: a backup id is reported");
        assert_eq!(
            std::fs::read_dir(backups.path()).unwrap().count(),
            1,
            "{b}: the backup exists"
        );
        assert_eq!(strings(&report["applied"]).len(), head(), "{b}");
        assert_eq!(
            pf_data::counts::count_all(&mut db.connect()).unwrap()["fund_info"],
            0,
            "{b}: data gone, on purpose"
        );
        assert_eq!(
            pf_data::counts::count_all(&mut db.connect()).unwrap()["system_config"],
            3,
            "{b}: seeds back"
        );
    }
    let remote = "postgres://someone:secret@db.example.invalid:5432/pf";
    let run: Run = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["--database-url", remote, "reset"])
        .output()
        .unwrap()
        .into();
    assert!(
        !run.ok && run.error().contains("not a local database") && run.error().contains("--force"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("secret"),
        "the password is never printed: {}",
        run.stderr
    );
}

#[test]
fn github_actions_get_groups_and_a_step_summary() {
    let db = TestDb::sqlite();
    let summary = tempfile::NamedTempFile::new().unwrap();
    let run: Run = command(&db, None, &["apply"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.path())
        .output()
        .unwrap()
        .into();
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("::group::apply migrations") && run.stdout.contains("::endgroup::"),
        "{}",
        run.stdout
    );
    let text = std::fs::read_to_string(summary.path()).unwrap();
    assert!(
        text.contains("### cargo xtask apply: ok") && text.contains("| ✅ | apply migrations"),
        "{text}"
    );
}

#[test]
fn a_password_in_the_url_never_reaches_the_output() {
    // Port 1 on loopback refuses at once: the failure path prints the URL.
    let url = "postgres://someone:hunter2-secret@127.0.0.1:1/pf";
    for args in [&["--json", "status"][..], &["status"], &["apply"]] {
        let run: Run = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--database-url")
            .arg(url)
            .args(args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
            .into();
        assert!(!run.ok);
        assert!(
            !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
            "{args:?}: {}{}",
            run.stdout,
            run.stderr
        );
        assert!(
            run.error().contains("127.0.0.1"),
            "the error still says which database: {}",
            run.error()
        );
    }
}

/// A database another tool migrated (diesel's version rows, no checksums): apply runs nothing
/// and says it only recorded the checksums.
#[test]
fn apply_on_a_database_migrated_by_another_tool_only_records_checksums() {
    for db in TestDb::each("apply_on_a_database_migrated_by_another_tool_only_records_checksums") {
        let b = db.name();
        let forget_checksums = || {
            diesel::connection::SimpleConnection::batch_execute(
                &mut db.connect(),
                &format!("DELETE FROM {}", migration_engine::history::CHECKSUM_TABLE),
            )
            .unwrap()
        };
        ok(&db, None, &["apply"]);
        forget_checksums();
        let report = ok(&db, None, &["apply"]);
        assert!(strings(&report["applied"]).is_empty(), "{b}: {report}");
        assert_eq!(strings(&report["recorded"]).len(), head(), "{b}: {report}");

        forget_checksums();
        let run = xtask(&db, None, &["apply"]);
        assert!(run.ok, "{b}: {}", run.stderr);
        assert!(
            run.stdout.contains("applied: nothing ran")
                && run.stdout.contains("none of its SQL ran")
                && !run.stdout.contains(&format!("    applied {}", folder(1))),
            "{b}: {}",
            run.stdout
        );
        let again = ok(&db, None, &["apply"]);
        assert!(strings(&again["recorded"]).is_empty(), "{b}: {again}");
    }
}
