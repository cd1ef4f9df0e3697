//! The proof catches what a baseline loses: a function attribute, a comment, a frozen
//! timestamp, a trigger, `user_version`, or something its down.sql leaves behind.

use migration_engine::scratch::ScratchPlace;
use migration_engine::MigrationSet;

use super::super::squash;
use super::equivalence;

/// A tree of `(folder, up.sql)` on disk, read back as the engine reads it.
fn tree(migrations: &[(&str, &str)]) -> (tempfile::TempDir, MigrationSet) {
    let dir = tempfile::tempdir().unwrap();
    for (folder, up) in migrations {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join("up.sql"), up).unwrap();
    }
    let set = MigrationSet::from_dir(dir.path()).unwrap();
    (dir, set)
}

fn server() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        test_kit::skip_check(
            "REQUIRE_POSTGRES",
            "the PostgreSQL proof needs TEST_DATABASE_URL",
        );
    }
    url
}

/// `text` with `what` removed, insisting it was there.
fn without(text: &str, what: &str) -> String {
    assert!(text.contains(what), "{what:?} not in:\n{text}");
    text.replacen(what, "", 1)
}

#[test]
fn a_postgres_baseline_missing_anything_is_not_equivalent() {
    let Some(server) = server() else { return };
    let (_dir, set) = tree(&[
        (
            "2024-01-01-000000_functions",
            "CREATE SCHEMA utils;
             CREATE FUNCTION utils.code(t text) RETURNS text LANGUAGE sql IMMUTABLE
                 SET search_path TO '$user', 'public' AS $$ SELECT upper(t) $$;
             COMMENT ON FUNCTION utils.code(text) IS 'upper-cased';",
        ),
        (
            "2024-01-02-000000_notes",
            "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
             INSERT INTO notes (body) VALUES ('first');",
        ),
    ]);
    let chain: Vec<_> = set.migrations.iter().collect();
    let sh = xshell::Shell::new().unwrap();
    let base = squash::postgres(&sh, &server, &chain).unwrap();
    let place = ScratchPlace::Postgres { server };
    let prove = |up: &str, down: &str| equivalence(&place, &chain, up, down).unwrap();
    assert_eq!(
        prove(&base.up, &base.down),
        Vec::<String>::new(),
        "{}",
        base.up
    );

    let lost_search_path = prove(
        &without(&base.up, "SET search_path TO '$user', 'public'"),
        &base.down,
    );
    assert!(
        lost_search_path
            .iter()
            .any(|p| p.starts_with("CREATE FUNCTION utils.code differs")
                && p.contains("search_path")),
        "{lost_search_path:?}"
    );
    let lost_comment = prove(
        &without(
            &base.up,
            "COMMENT ON FUNCTION utils.code(t text) IS 'upper-cased';",
        ),
        &base.down,
    );
    assert!(
        lost_comment
            .iter()
            .any(|p| p.starts_with("only the chain has `COMMENT ON FUNCTION utils.code")),
        "{lost_comment:?}"
    );
    let frozen = prove(
        &base.up.replace(
            "INSERT INTO notes (id, body) VALUES (1, 'first');",
            "INSERT INTO notes (id, body, created_at) VALUES (1, 'first', '2001-01-01 00:00:00+00');",
        ),
        &base.down,
    );
    assert!(
        frozen
            .iter()
            .any(|p| p.starts_with("table notes: the rows differ")),
        "a frozen timestamp is seen: {frozen:?}"
    );
    let left_behind = prove(&base.up, &without(&base.down, "DROP SCHEMA utils;"));
    assert!(
        left_behind
            .iter()
            .any(|p| p.contains("leaves something behind") && p.contains("CREATE SCHEMA utils")),
        "{left_behind:?}"
    );
}

#[test]
fn a_sqlite_baseline_missing_anything_is_not_equivalent() {
    let (_dir, set) = tree(&[
        (
            "2024-01-01-000000_accounts",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
             CREATE UNIQUE INDEX accounts_lower_code ON accounts (lower(code));
             CREATE TABLE log (line TEXT NOT NULL);
             CREATE TRIGGER accounts_log AFTER INSERT ON accounts BEGIN INSERT INTO log VALUES ('added ' || NEW.code); END;",
        ),
        (
            "2024-01-02-000000_seed",
            "INSERT INTO accounts (code) VALUES ('a'), ('b');
             DELETE FROM accounts WHERE code = 'b';
             PRAGMA user_version = 3;",
        ),
    ]);
    let chain: Vec<_> = set.migrations.iter().collect();
    let base = squash::sqlite(&chain).unwrap();
    let prove =
        |up: &str, down: &str| equivalence(&ScratchPlace::Sqlite, &chain, up, down).unwrap();
    assert_eq!(
        prove(&base.up, &base.down),
        Vec::<String>::new(),
        "{}",
        base.up
    );

    let no_version = prove(&without(&base.up, "PRAGMA user_version = 3;"), &base.down);
    assert!(
        no_version
            .iter()
            .any(|p| p.contains("PRAGMA user_version = 3")),
        "{no_version:?}"
    );
    let no_trigger = prove(
        &without(&base.up, "CREATE TRIGGER accounts_log AFTER INSERT ON accounts BEGIN INSERT INTO log VALUES ('added ' || NEW.code); END"),
        &base.down.replace("DROP TRIGGER \"accounts_log\";", ""),
    );
    assert!(
        no_trigger
            .iter()
            .any(|p| p.contains("trigger accounts_log")),
        "{no_trigger:?}"
    );
    let no_index = prove(
        &without(
            &base.up,
            "CREATE UNIQUE INDEX accounts_lower_code ON accounts (lower(code))",
        ),
        &base.down,
    );
    assert!(
        no_index.iter().any(|p| p.contains("accounts_lower_code")),
        "{no_index:?}"
    );
    let counter_lost = prove(
        &base.up.replace(
            "UPDATE sqlite_sequence SET seq = 2",
            "UPDATE sqlite_sequence SET seq = 1",
        ),
        &base.down,
    );
    assert!(
        counter_lost
            .iter()
            .any(|p| p.starts_with("sequence positions differ")),
        "{counter_lost:?}"
    );
    let version_kept = prove(&base.up, &without(&base.down, "PRAGMA user_version = 0;"));
    assert!(
        version_kept
            .iter()
            .any(|p| p.contains("leaves something behind")),
        "{version_kept:?}"
    );
}
