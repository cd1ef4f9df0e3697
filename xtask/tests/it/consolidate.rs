//! Consolidation on the repository's own history, on SQLite and PostgreSQL: data and
//! schema unchanged, databases behind the baseline still upgrade (or are refused), kills at
//! every step leave old-or-new, dry runs change nothing.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use db_conn::introspect::SchemaSnapshot;
use diesel::connection::SimpleConnection;
use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(120);

/// Consolidation builds the postgres tree's baseline in scratch databases: it needs a server.
fn pg_server(test: &str) -> bool {
    let known = std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    if !known {
        test_kit::skip_check(
            "REQUIRE_POSTGRES",
            &format!("{test}: consolidation needs a PostgreSQL server (TEST_DATABASE_URL)"),
        );
    }
    known
}

/// Rows of every table, generically, for before/after comparison.
fn data(db: &TestDb) -> Value {
    let mut conn = db.connect();
    let mut out = serde_json::Map::new();
    for table in pf_data::models::table_names() {
        let counts = pf_data::counts::count_all(&mut conn).unwrap();
        out.insert(table.to_owned(), serde_json::json!(counts[table]));
    }
    let rows = |sql: &str, conn: &mut db_conn::DbConnection| -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text)]
            line: String,
        }
        use diesel::RunQueryDsl;
        diesel::sql_query(sql)
            .load::<Line>(conn)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect()
    };
    out.insert(
        "funds".into(),
        serde_json::json!(rows("SELECT fund_code || '|' || fund_name || '|' || COALESCE(CAST(nav AS TEXT), 'null') AS line FROM fund_info ORDER BY id", &mut conn)),
    );
    out.insert(
        "operations".into(),
        serde_json::json!(rows("SELECT CAST(id AS TEXT) || '|' || CAST(amount AS TEXT) || '|' || COALESCE(notes, 'null') AS line FROM user_operations ORDER BY id", &mut conn)),
    );
    Value::Object(out)
}

fn fill(db: &TestDb) {
    db.connect()
        .batch_execute(
            "INSERT INTO fund_info (fund_code, fund_name, currency, nav) VALUES ('110011', 'Fund ü 中文', 'CNY', '1.234567890123456789');
             INSERT INTO fund_dividends (fund_id, ex_dividend_date, dividend_per_share, currency) VALUES (1, '2025-01-02', '0.05', 'CNY');
             INSERT INTO user_operations (operation_date, platform, asset_code, operation_type, amount, currency, notes)
                 VALUES ('2025-01-03', 'alipay', '110011', 'buy', '123456789012345678.123456789012', 'CNY', NULL);
             INSERT INTO web3_balances (wallet_address, chain, total_value_usd, update_time) VALUES ('0xabc', 'eth', '0.000000000000000001', '2025-01-01 00:00:00');",
        )
        .unwrap();
}

fn consolidate(db: &TestDb, root: &Path, backups: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["consolidate", "--backups-dir", backups.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(db, Some(root), &args)
}

#[test]
fn consolidating_a_database_with_data_changes_neither_data_nor_schema() {
    if !pg_server("consolidating_a_database_with_data_changes_neither_data_nor_schema") {
        return;
    }
    for db in TestDb::each("consolidating_a_database_with_data_changes_neither_data_nor_schema") {
        let b = db.name();
        let root = copy_trees();
        let backups = tempfile::tempdir().unwrap();
        ok(&db, Some(root.path()), &["apply"]);
        fill(&db);
        let before = data(&db);
        let schema_before = SchemaSnapshot::capture(&mut db.connect()).unwrap();

        let report = consolidate(&db, root.path(), backups.path(), &[]);
        assert_eq!(report["squashed"], head(), "{b}");
        assert_eq!(data(&db), before, "{b}: every row unchanged");
        assert_eq!(
            SchemaSnapshot::capture(&mut db.connect()).unwrap(),
            schema_before,
            "{b}: schema unchanged"
        );
        assert_eq!(
            strings(&ok(&db, Some(root.path()), &["apply"])["applied"]),
            Vec::<String>::new(),
            "{b}: nothing to run after"
        );
        let status = ok(&db, Some(root.path()), &["status"]);
        assert_eq!(status["drift"], serde_json::json!([]), "{b}");
        ok(&db, Some(root.path()), &["verify"]);

        // A fresh database from the baseline equals one from the chain.
        let fresh = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("fresh").unwrap()
        };
        let applied = ok(&fresh, Some(root.path()), &["apply"]);
        assert_eq!(strings(&applied["applied"]).len(), 1, "{b}: one baseline");
        assert_eq!(
            SchemaSnapshot::capture(&mut fresh.connect()).unwrap(),
            schema_before,
            "{b}: baseline == chain"
        );
        assert_eq!(
            pf_data::counts::count_all(&mut fresh.connect()).unwrap()["system_config"],
            3,
            "{b}: seed rows carried"
        );

        // And the whole thing can be undone.
        let backup = report["files_backup"].as_str().unwrap();
        ok(&db, Some(root.path()), &["rollback", backup]);
        assert_eq!(
            file_sums(root.path()),
            file_sums(&repo_root().join("migrations")),
            "{b}: files as before"
        );
        ok(&db, Some(root.path()), &["status"]);
    }
}

#[test]
fn plan_b_keeps_the_newest_and_every_kind_of_database_still_upgrades() {
    if !pg_server("plan_b_keeps_the_newest_and_every_kind_of_database_still_upgrades") {
        return;
    }
    for db in TestDb::each("plan_b_keeps_the_newest_and_every_kind_of_database_still_upgrades") {
        let b = db.name();
        let root = copy_trees();
        let original = copy_trees();
        let backups = tempfile::tempdir().unwrap();
        ok(&db, Some(root.path()), &["apply"]);
        let report = consolidate(&db, root.path(), backups.path(), &["--keep-latest", "5"]);
        assert_eq!(
            (report["squashed"].as_u64(), report["kept"].as_u64()),
            (Some(head() as u64 - 5), Some(5)),
            "{b}"
        );
        let tree: Vec<String> = std::fs::read_dir(root.path().join(b))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && !n.ends_with(".sum"))
            .collect();
        assert_eq!(tree.len(), 6, "{b}: baseline + 5 kept: {tree:?}");

        let fresh = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("fresh").unwrap()
        };
        assert_eq!(
            strings(&ok(&fresh, Some(root.path()), &["apply"])["applied"]).len(),
            6,
            "{b}: baseline then the kept five"
        );

        let behind = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("behind").unwrap()
        };
        ok(&behind, Some(original.path()), &["apply", "--steps", "10"]);
        let upgraded = strings(&ok(&behind, Some(root.path()), &["apply"])["applied"]);
        assert_eq!(
            upgraded,
            (11..=head()).map(folder).collect::<Vec<_>>(),
            "{b}: the archived chain from 11, then the kept five"
        );
        ok(&behind, Some(root.path()), &["verify"]);
        assert_eq!(
            SchemaSnapshot::capture(&mut behind.connect()).unwrap(),
            SchemaSnapshot::capture(&mut fresh.connect()).unwrap(),
            "{b}: both roads lead to the same schema"
        );
    }
}

#[test]
fn a_database_behind_the_baseline_without_its_archive_is_refused_untouched() {
    if !pg_server("a_database_behind_the_baseline_without_its_archive_is_refused_untouched") {
        return;
    }
    for db in
        TestDb::each("a_database_behind_the_baseline_without_its_archive_is_refused_untouched")
    {
        let b = db.name();
        let root = copy_trees();
        let original = copy_trees();
        let backups = tempfile::tempdir().unwrap();
        let live = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("live").unwrap()
        };
        ok(&live, Some(root.path()), &["apply"]);
        consolidate(&live, root.path(), backups.path(), &[]);
        ok(&db, Some(original.path()), &["apply", "--steps", "10"]);
        for tree in ["sqlite", "postgres"] {
            std::fs::remove_dir_all(root.path().join(tree).join(".archive")).unwrap();
        }
        let schema = SchemaSnapshot::capture(&mut db.connect()).unwrap();
        let error = fails(&db, Some(root.path()), &["apply"]);
        assert!(
            error.contains("deploy the last release before the consolidation first"),
            "{b}: {error}"
        );
        assert_eq!(
            SchemaSnapshot::capture(&mut db.connect()).unwrap(),
            schema,
            "{b}: never half-migrated"
        );
        assert_eq!(applied_versions(&db).len(), 10, "{b}");
    }
}

#[test]
fn seed_rows_views_and_triggers_survive_the_squash() {
    if !pg_server("seed_rows_views_and_triggers_survive_the_squash") {
        return;
    }
    for db in TestDb::each("seed_rows_views_and_triggers_survive_the_squash") {
        let b = db.name();
        let root = copy_trees();
        let backups = tempfile::tempdir().unwrap();
        let sqlite_up = "CREATE TABLE currencies (code TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
            INSERT INTO currencies VALUES ('CNY', 'Renminbi'), ('USD', 'US dollar');
            CREATE VIEW fund_names AS SELECT fund_code, fund_name FROM fund_info;
            CREATE TRIGGER fund_info_touch AFTER UPDATE OF fund_name ON fund_info BEGIN UPDATE fund_info SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;";
        let pg_up = "CREATE TABLE currencies (code TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
            INSERT INTO currencies VALUES ('CNY', 'Renminbi'), ('USD', 'US dollar');
            CREATE VIEW fund_names AS SELECT fund_code, fund_name FROM fund_info;
            CREATE FUNCTION fund_info_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := CURRENT_TIMESTAMP; RETURN NEW; END $$;
            CREATE TRIGGER fund_info_touch BEFORE UPDATE ON fund_info FOR EACH ROW EXECUTE FUNCTION fund_info_touch();";
        let down = "DROP TRIGGER fund_info_touch ON fund_info; DROP VIEW fund_names; DROP TABLE currencies;";
        let sqlite_down =
            "DROP TRIGGER fund_info_touch; DROP VIEW fund_names; DROP TABLE currencies;";
        add_migration(
            root.path(),
            "2025-07-01-000000_add_currencies_view_and_trigger",
            sqlite_up,
            pg_up,
            down,
        );
        std::fs::write(
            root.path()
                .join("sqlite/2025-07-01-000000_add_currencies_view_and_trigger/down.sql"),
            sqlite_down,
        )
        .unwrap();
        std::fs::write(
            root.path()
                .join("postgres/2025-07-01-000000_add_currencies_view_and_trigger/down.sql"),
            format!("{down} DROP FUNCTION fund_info_touch();"),
        )
        .unwrap();
        ok(&db, Some(root.path()), &["check", "--fix"]);
        ok(&db, Some(root.path()), &["apply"]);
        consolidate(&db, root.path(), backups.path(), &[]);

        let fresh = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("fresh").unwrap()
        };
        ok(&fresh, Some(root.path()), &["apply"]);
        let schema = SchemaSnapshot::capture(&mut fresh.connect()).unwrap();
        assert!(
            schema.views.contains_key("fund_names"),
            "{b}: view survives"
        );
        assert!(
            schema.triggers.contains_key("fund_info_touch on fund_info"),
            "{b}: trigger survives"
        );
        let mut conn = fresh.connect();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel::RunQueryDsl;
        let n: N = diesel::sql_query("SELECT COUNT(*) AS n FROM currencies")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(n.n, 2, "{b}: rows a migration inserted are carried");
        // The baseline's down.sql drops it all again.
        ok(&fresh, Some(root.path()), &["downgrade", "--all"]);
        assert_eq!(
            SchemaSnapshot::capture(&mut fresh.connect()).unwrap(),
            SchemaSnapshot::default(),
            "{b}"
        );
    }
}

#[test]
fn a_dry_run_changes_no_byte() {
    if !pg_server("a_dry_run_changes_no_byte") {
        return;
    }
    for db in TestDb::each("a_dry_run_changes_no_byte") {
        let root = copy_trees();
        let backups = tempfile::tempdir().unwrap();
        ok(&db, Some(root.path()), &["apply"]);
        fill(&db);
        let files = file_sums(root.path());
        let db_bytes = db.target.sqlite_path().map(|p| std::fs::read(p).unwrap());
        let rows = data(&db);
        let report = consolidate(&db, root.path(), backups.path(), &["--dry-run"]);
        assert_eq!(report["dry_run"], true);
        assert_eq!(
            file_sums(root.path()),
            files,
            "{}: files untouched",
            db.name()
        );
        assert!(
            db.target.sqlite_path().map(|p| std::fs::read(p).unwrap()) == db_bytes,
            "sqlite: database file byte-identical"
        );
        assert_eq!(data(&db), rows);
        assert_eq!(
            std::fs::read_dir(backups.path()).unwrap().count(),
            0,
            "{}: no backup written",
            db.name()
        );
    }
}

#[test]
fn a_kill_at_any_step_leaves_old_or_new_never_a_mix() {
    if !pg_server("a_kill_at_any_step_leaves_old_or_new_never_a_mix") {
        return;
    }
    for db in TestDb::each("a_kill_at_any_step_leaves_old_or_new_never_a_mix") {
        let b = db.name();
        for step in [
            "after-files-backup",
            "after-squash",
            "before-exchange",
            "after-exchange",
            "after-stamp",
        ] {
            let root = copy_trees();
            let backups = tempfile::tempdir().unwrap();
            let pause = tempfile::tempdir().unwrap();
            let live = if b == "sqlite" {
                TestDb::sqlite()
            } else {
                TestDb::postgres("kill").unwrap()
            };
            ok(&live, Some(root.path()), &["apply"]);
            fill(&live);
            let files_before = file_sums(root.path());
            let rows_before = data(&live);
            let mut child = command(
                &live,
                Some(root.path()),
                &[
                    "consolidate",
                    "--backups-dir",
                    backups.path().to_str().unwrap(),
                ],
            )
            .env("PF_TEST_PAUSE_AT", step)
            .env("PF_TEST_PAUSE_FILE", pause.path().join("go"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
            let started = Instant::now();
            while !pause.path().join("go.reached").exists() {
                assert!(started.elapsed() < DEADLINE, "{b}: never reached {step}");
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "{b}: ended before {step}"
                );
                std::thread::yield_now();
            }
            child.kill().unwrap();
            child.wait().unwrap();

            assert_eq!(
                data(&live),
                rows_before,
                "{b} killed {step}: every row as before"
            );
            let files_now = file_sums(root.path());
            if files_now == files_before {
                ok(&live, Some(root.path()), &["status"]);
            } else {
                // Fully consolidated: a baseline, a complete archive, checksums current, live database consistent.
                assert!(
                    files_now
                        .keys()
                        .any(|f| f.ends_with("_consolidated_baseline/up.sql")),
                    "{b} killed {step}: a mix: {files_now:?}"
                );
                ok(&live, Some(root.path()), &["verify"]);
                ok(&live, Some(root.path()), &["check"]);
            }
        }
    }
}
