//! A plain diesel project: one migration tree, no sqlite/ or postgres/ subfolders, named by
//! `--migrations-dir`, diesel.toml (`--config-file`) or a root holding only one backend's tree.
//! And adoption of a database that another tool migrated.

use std::path::Path;

use crate::support::*;

/// A small plain diesel tree that runs on either backend, with a last statement that has no `;`
/// and is followed by comment lines, as real histories have. (Not after ADD COLUMN: SQLite
/// copies such comments into the table's stored definition and then fails to parse it.)
fn write_plain_tree(dir: &Path) {
    let steps = [
        ("2021-01-01-000001_create_accounts", "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);", "DROP TABLE accounts;"),
        ("2021-01-01-000002_add_note_to_accounts", "ALTER TABLE accounts ADD COLUMN note TEXT;", "ALTER TABLE accounts DROP COLUMN note;"),
        ("2021-01-01-000003_index_account_names", "CREATE INDEX accounts_name ON accounts (name)\n-- the last statement has no semicolon\n-- and two comment lines follow it\n", "DROP INDEX accounts_name;"),
        ("2021-01-01-000004_seed_cash_account", "INSERT INTO accounts (id, name) VALUES (1, 'cash');", "DELETE FROM accounts WHERE id = 1;"),
        ("2021-01-01-000005_create_named_accounts_view", "CREATE VIEW named_accounts AS SELECT id, name FROM accounts WHERE name <> '';", "DROP VIEW named_accounts;"),
    ];
    for (folder, up, down) in steps {
        let d = dir.join(folder);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("up.sql"), up).unwrap();
        std::fs::write(d.join("down.sql"), down).unwrap();
    }
}

/// A project folder holding the plain tree as `migrations/`: (folder, tree, tree as text).
fn plain_project() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let project = tempfile::tempdir().unwrap();
    let tree = project.path().join("migrations");
    write_plain_tree(&tree);
    let dir = tree.display().to_string();
    (project, tree, dir)
}

/// `args` on the one tree at `dir`.
fn single<'a>(dir: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    [&["--migrations-dir", dir], args].concat()
}

#[test]
fn a_plain_diesel_project_with_one_tree_checks_applies_and_consolidates() {
    for db in TestDb::each("a_plain_diesel_project_with_one_tree") {
        let b = db.name();
        let (project, tree, dir) = plain_project();
        let missing_sum = fails(&db, None, &single(&dir, &["check"]));
        assert!(missing_sum.contains("check --fix"), "{b}: {missing_sum}");
        ok(&db, None, &single(&dir, &["check", "--fix"]));
        let checked = ok(&db, None, &single(&dir, &["check"]));
        assert_eq!(checked["problems"], serde_json::json!([]), "{b}: {checked}");

        let applied = ok(&db, None, &single(&dir, &["apply"]));
        assert_eq!(strings(&applied["applied"]).len(), 5, "{b}: {applied}");
        let status = ok(&db, None, &single(&dir, &["status"]));
        assert_eq!(status["drift"], serde_json::json!([]), "{b}: {status}");

        // The same tree named by the project's diesel.toml.
        let toml = project.path().join("diesel.toml");
        std::fs::write(&toml, "[migrations_directory]\ndir = \"migrations\"\n").unwrap();
        let via_toml = ok(
            &db,
            None,
            &["--config-file", toml.to_str().unwrap(), "status"],
        );
        assert_eq!(
            via_toml["status"]["pending"],
            serde_json::json!([]),
            "{b}: {via_toml}"
        );

        let backups = tempfile::tempdir().unwrap();
        let backups_dir = backups.path().display().to_string();
        ok(
            &db,
            None,
            &single(&dir, &["consolidate", "--backups-dir", &backups_dir]),
        );
        let folders: Vec<String> = std::fs::read_dir(&tree)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && !n.ends_with(".sum"))
            .collect();
        assert_eq!(folders, ["2021-01-01-000005_consolidated_baseline"], "{b}");
        assert!(
            tree.join(".archive").is_dir(),
            "{b}: the chain is archived in the tree"
        );
        let after = ok(&db, None, &single(&dir, &["verify"]));
        assert!(after.is_object(), "{b}: {after}");

        // A root holding only this backend's tree works as a root.
        let root = tempfile::tempdir().unwrap();
        write_plain_tree(&root.path().join(db.target.backend().tree_name()));
        let root_dir = root.path().display().to_string();
        ok(
            &db,
            None,
            &["--migrations-root", &root_dir, "check", "--fix"],
        );
        let other = match db.target.backend() {
            db_conn::Backend::Sqlite => "postgres",
            db_conn::Backend::Postgres => "sqlite",
        };
        assert!(!root.path().join(other).exists());
    }
}

#[test]
fn adopting_a_database_another_tool_migrated_checks_its_schema_first() {
    for db in TestDb::each("adopting_a_database_another_tool_migrated") {
        let b = db.name();
        let exec = |sql: &str| {
            diesel::connection::SimpleConnection::batch_execute(&mut db.connect(), sql).unwrap()
        };
        ok(&db, None, &["apply"]);
        exec(&format!(
            "DELETE FROM {}",
            migration_engine::history::CHECKSUM_TABLE
        ));
        let run = xtask(&db, None, &["status", "--no-drift"]);
        assert!(
            run.stdout.contains("stamp --adopt"),
            "{b}: status says how to adopt: {}",
            run.stdout
        );

        // A schema the history does not build is not vouched for.
        exec("CREATE TABLE hand_made (id INTEGER PRIMARY KEY)");
        let refused = fails(&db, None, &["stamp", "--adopt"]);
        assert!(
            refused.contains("not what the applied migrations build"),
            "{b}: {refused}"
        );
        let refused_apply = fails(&db, None, &["apply"]);
        assert!(
            refused_apply.contains("no checksum recorded"),
            "{b}: {refused_apply}"
        );
        let status = ok(&db, None, &["status", "--no-drift"]);
        assert_eq!(
            strings(&status["status"]["unrecorded"]).len(),
            head(),
            "{b}: nothing was recorded: {status}"
        );

        exec("DROP TABLE hand_made");
        let adopted = ok(&db, None, &["stamp", "--adopt"]);
        assert_eq!(strings(&adopted["stamped"]).len(), head(), "{b}: {adopted}");
        let again = ok(&db, None, &["stamp", "--adopt"]);
        assert!(strings(&again["stamped"]).is_empty(), "{b}: {again}");
        let status = ok(&db, None, &["status"]);
        assert_eq!(status["drift"], serde_json::json!([]), "{b}: {status}");
    }
}

#[test]
fn a_backup_of_another_projects_database_restores_against_its_own_tree() {
    for db in TestDb::each("a_backup_of_another_projects_database") {
        let b = db.name();
        let (_project, _, dir) = plain_project();
        ok(&db, None, &single(&dir, &["apply"]));
        let backups = tempfile::tempdir().unwrap();
        let backups_dir = backups.path().display().to_string();
        let made = ok(&db, None, &["backup", "--backups-dir", &backups_dir]);
        assert_eq!(made["verify"]["rows"], serde_json::json!(1), "{b}: {made}");
        let id = made["backup"]["id"].as_str().unwrap().to_owned();

        // Against this repository's history its versions are unknown: refused, nothing changed.
        let refused = fails(&db, None, &["restore", &id, "--backups-dir", &backups_dir]);
        assert!(
            refused.contains("20210101000005") && refused.contains("does not know"),
            "{b}: {refused}"
        );
        let restored = ok(
            &db,
            None,
            &single(&dir, &["restore", &id, "--backups-dir", &backups_dir]),
        );
        assert_eq!(
            restored["restore"]["restored"],
            serde_json::json!(id),
            "{b}"
        );
    }
}

#[test]
fn the_plain_diesel_cli_is_refused_clearly_on_a_database_partway_through_a_consolidated_chain() {
    let Some(diesel) = migration_engine::diesel_cli::find() else {
        test_kit::skip_check("REQUIRE_DIESEL_CLI", "the diesel CLI is not installed");
        return;
    };
    for db in TestDb::each("the_plain_diesel_cli_is_refused_clearly") {
        let b = db.name();
        let partway = match db.target.backend() {
            db_conn::Backend::Sqlite => TestDb::sqlite(),
            db_conn::Backend::Postgres => TestDb::postgres("the_plain_diesel_cli_partway").unwrap(),
        };
        let (project, _, dir) = plain_project();
        ok(&db, None, &single(&dir, &["check", "--fix"]));
        ok(&db, None, &single(&dir, &["apply"]));
        ok(&partway, None, &single(&dir, &["apply", "--steps", "2"]));
        let backups = tempfile::tempdir().unwrap();
        let backups_dir = backups.path().display().to_string();
        ok(
            &db,
            None,
            &single(&dir, &["consolidate", "--backups-dir", &backups_dir]),
        );

        let empty_config = project.path().join("empty-diesel.toml");
        std::fs::write(&empty_config, "").unwrap();
        let run = std::process::Command::new(&diesel)
            .args(["migration", "run", "--migration-dir", &dir, "--config-file"])
            .arg(&empty_config)
            .args(["--database-url", &url(&partway)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success(),
            "{b}: diesel ran the baseline on a partway database"
        );
        assert!(
            stderr.contains("upgrade it with `cargo xtask apply`"),
            "{b}: diesel's error names what to do: {stderr}"
        );
        let upgraded = ok(&partway, None, &single(&dir, &["apply"]));
        assert_eq!(
            strings(&upgraded["applied"]).len(),
            3,
            "{b}: the archived chain's rest ran: {upgraded}"
        );
        let status = ok(&partway, None, &single(&dir, &["status"]));
        assert_eq!(status["drift"], serde_json::json!([]), "{b}: {status}");

        // A fresh database still installs from the baseline with the plain CLI.
        let fresh = match db.target.backend() {
            db_conn::Backend::Sqlite => TestDb::sqlite(),
            db_conn::Backend::Postgres => TestDb::postgres("the_plain_diesel_cli_fresh").unwrap(),
        };
        drop(fresh.connect());
        let run = std::process::Command::new(&diesel)
            .args(["migration", "run", "--migration-dir", &dir, "--config-file"])
            .arg(&empty_config)
            .args(["--database-url", &url(&fresh)])
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{b}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
