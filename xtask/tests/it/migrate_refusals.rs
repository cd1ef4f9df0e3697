//! Edited, deleted, out-of-order and unknown migrations: each refused with a message that
//! says what to do, and nothing applied.

use crate::support::*;

#[test]
fn an_edited_applied_migration_is_refused_with_both_checksums() {
    for db in TestDb::each("an_edited_applied_migration_is_refused_with_both_checksums") {
        let root = copy_trees();
        ok(&db, Some(root.path()), &["apply"]);
        add_probe(root.path());
        let up = root.path().join(db.name()).join(folder(2)).join("up.sql");
        let text = std::fs::read_to_string(&up).unwrap();
        std::fs::write(&up, format!("{text}\n-- edited after it was applied\n")).unwrap();

        let error = fails(&db, Some(root.path()), &["apply"]);
        assert!(
            error.contains(&folder(2))
                && error.contains("was edited")
                && error.contains(&up.display().to_string()),
            "{error}"
        );
        assert!(
            error.matches(char::is_alphanumeric).count() > 128,
            "both checksums are named: {error}"
        );
        assert_eq!(
            applied_versions(&db).len(),
            head(),
            "{}: nothing applied",
            db.name()
        );
        let run = xtask(&db, Some(root.path()), &["--json", "status"]);
        assert!(!run.ok);
        assert_eq!(
            run.json()["status"]["edited"][0]["folder"],
            folder(2).as_str()
        );
    }
}

#[test]
fn the_backend_refuses_to_start_on_an_edited_migration() {
    for db in TestDb::each("the_backend_refuses_to_start_on_an_edited_migration") {
        ok(&db, None, &["apply"]);
        use diesel::connection::SimpleConnection;
        db.connect()
            .batch_execute(&format!(
                "UPDATE __pf_migration_checksums SET checksum = '{}' WHERE version = '{}'",
                "0".repeat(64),
                migration_engine::version_of(&folder(7))
            ))
            .unwrap();
        let err = pf_data::migrations::run_pending(&mut db.connect())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&folder(7))
                && err.contains(&"0".repeat(64))
                && err.contains("git checkout"),
            "{err}"
        );
    }
}

#[test]
fn unknown_applied_versions_are_refused() {
    for db in TestDb::each("unknown_applied_versions_are_refused") {
        let root = copy_trees();
        ok(&db, Some(root.path()), &["apply"]);
        for tree in ["sqlite", "postgres"] {
            std::fs::remove_dir_all(root.path().join(tree).join(folder(head()))).unwrap();
        }
        add_probe(root.path());
        let error = fails(&db, Some(root.path()), &["apply"]);
        assert!(
            error.contains(&migration_engine::version_of(&folder(head())))
                && error.contains("stamp head --prune"),
            "{error}"
        );
        assert_eq!(
            applied_versions(&db).len(),
            head(),
            "{}: the probe was not applied",
            db.name()
        );
        let status = xtask(&db, Some(root.path()), &["--json", "status"]).json();
        assert_eq!(
            strings(&status["status"]["unknown"]),
            [migration_engine::version_of(&folder(head()))]
        );
    }
}

#[test]
fn out_of_order_migrations_are_refused_unless_allowed() {
    for db in TestDb::each("out_of_order_migrations_are_refused_unless_allowed") {
        let root = copy_trees();
        // #18 and #19 arrive late (a merged branch), after a newer migration was applied.
        let aside = tempfile::tempdir().unwrap();
        for tree in ["sqlite", "postgres"] {
            std::fs::create_dir_all(aside.path().join(tree)).unwrap();
            for n in [18, 19] {
                std::fs::rename(
                    root.path().join(tree).join(folder(n)),
                    aside.path().join(tree).join(folder(n)),
                )
                .unwrap();
            }
        }
        add_probe(root.path());
        ok(&db, Some(root.path()), &["apply"]);
        for tree in ["sqlite", "postgres"] {
            for n in [18, 19] {
                std::fs::rename(
                    aside.path().join(tree).join(folder(n)),
                    root.path().join(tree).join(folder(n)),
                )
                .unwrap();
            }
        }
        let before = applied_versions(&db);
        let error = fails(&db, Some(root.path()), &["apply"]);
        assert!(
            error.contains(&folder(18)) && error.contains("--allow-out-of-order"),
            "{error}"
        );
        assert_eq!(
            applied_versions(&db),
            before,
            "{}: nothing applied",
            db.name()
        );
        let applied = ok(&db, Some(root.path()), &["apply", "--allow-out-of-order"]);
        assert_eq!(
            strings(&applied["applied"]),
            [folder(18), folder(19)],
            "{}",
            db.name()
        );
    }
}
