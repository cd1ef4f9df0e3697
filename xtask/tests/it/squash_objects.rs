//! Consolidation of a history that uses every kind of object a real one has, on both
//! backends: `cargo xtask consolidate` squashes and proves it (a failed proof fails the
//! command), and a database built from the baseline holds what one built from the chain
//! holds, whole-schema dump for whole-schema dump; the baseline's down.sql leaves nothing.

use std::path::Path;

use db_conn::DbConnection;
use diesel::prelude::*;
use migration_engine::{dump, sumfile, MigrationSet};

use crate::support::*;

/// (folder, PostgreSQL up.sql, SQLite up.sql): a dozen migrations between them using every
/// kind of object the issue lists.
const HISTORY: [(&str, &str, &str); 12] = [
    ("00000000000000_diesel_initial_setup", history_corpus::DIESEL_SETUP_UP, "-- nothing to set up on SQLite\n"),
    (
        "2024-01-01-000001_extensions_and_schema",
        "CREATE EXTENSION IF NOT EXISTS btree_gist;
         CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;
         CREATE SCHEMA utils;
         CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
             created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    ),
    (
        "2024-01-02-000000_types",
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         ALTER TYPE mood ADD VALUE 'calm' BEFORE 'happy';
         CREATE DOMAIN positive_amount AS numeric(12, 2) CHECK (VALUE > 0);
         CREATE TYPE utils.money_pair AS (amount numeric, currency text);",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;",
    ),
    (
        "2024-01-03-000000_functions",
        "CREATE FUNCTION utils.normalize_code(code text) RETURNS text
             LANGUAGE sql IMMUTABLE
             SET search_path TO '$user', 'public'
             AS $$ SELECT upper(btrim(code)) $$;
         CREATE FUNCTION public.touch_updated() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
-- a line that starts like a comment, inside the body
SET LOCAL statement_timeout = '5s';
NEW.updated_at := now();
RETURN NEW;
END
$body$;
         CREATE PROCEDURE utils.purge_events(days integer DEFAULT 30) LANGUAGE plpgsql AS $$
         BEGIN
             DELETE FROM public.events WHERE created_at < now() - make_interval(days => days);
         END
         $$;",
        "CREATE TABLE amounts (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL,
             euros REAL GENERATED ALWAYS AS (cents / 100.0) VIRTUAL) STRICT;",
    ),
    (
        "2024-01-04-000000_accounts_and_events",
        "CREATE TABLE public.accounts (
             id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             code citext NOT NULL UNIQUE,
             name text COLLATE public.ci NOT NULL,
             mood mood NOT NULL DEFAULT 'sad',
             balance positive_amount,
             pair utils.money_pair,
             created_at timestamptz NOT NULL DEFAULT now(),
             updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
         );
         SELECT diesel_manage_updated_at('accounts');
         CREATE SEQUENCE invoice_numbers START 1000;
         CREATE TABLE events (
             id serial PRIMARY KEY,
             account_id integer REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
             kind text NOT NULL,
             created_at timestamptz NOT NULL DEFAULT now(),
             updated_at timestamptz
         );",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
             kind TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    ),
    (
        "2024-01-05-000000_partitioned_measurements",
        "CREATE TABLE measurements (
             taken_on date NOT NULL,
             value numeric NOT NULL,
             doubled numeric GENERATED ALWAYS AS (value * 2) STORED,
             recorded_on date NOT NULL DEFAULT CURRENT_DATE
         ) PARTITION BY RANGE (taken_on);
         CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE measurements_rest PARTITION OF measurements DEFAULT;",
        "CREATE INDEX events_logins ON events (created_at) WHERE kind = 'login';
         CREATE UNIQUE INDEX accounts_code_nocase ON accounts (code COLLATE NOCASE);",
    ),
    (
        "2024-01-06-000000_constraints",
        "CREATE TABLE reservations (
             room integer NOT NULL,
             during tstzrange NOT NULL,
             EXCLUDE USING gist (room WITH =, during WITH &&)
         );
         ALTER TABLE accounts ADD CONSTRAINT accounts_name_not_blank CHECK (name <> '') NOT VALID;",
        "CREATE VIEW login_events AS SELECT * FROM events WHERE kind = 'login';",
    ),
    (
        "2024-01-07-000000_indexes_and_statistics",
        "CREATE INDEX events_logins ON events (created_at) WHERE kind = 'login';
         CREATE UNIQUE INDEX accounts_code_normalized ON accounts (utils.normalize_code(code::text));
         CREATE STATISTICS accounts_mood_balance (dependencies) ON mood, balance FROM accounts;",
        "CREATE TRIGGER accounts_signup AFTER INSERT ON accounts
         BEGIN INSERT INTO events (account_id, kind) VALUES (NEW.id, 'signup'); END;",
    ),
    (
        "2024-01-08-000000_views_and_rules",
        "CREATE VIEW active_accounts AS SELECT id, code, name FROM accounts WHERE mood <> 'sad';
         CREATE MATERIALIZED VIEW account_moods AS SELECT mood, count(*) AS n FROM accounts GROUP BY mood;
         CREATE TABLE audit_log (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, message text NOT NULL);
         CREATE RULE audit_log_is_append_only AS ON DELETE TO audit_log DO INSTEAD NOTHING;",
        "CREATE VIRTUAL TABLE notes USING fts5(title, body);",
    ),
    (
        "2024-01-09-000000_triggers_policies_comments",
        "CREATE TRIGGER events_touch BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION touch_updated();
         ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
         CREATE POLICY accounts_own ON accounts USING (code = current_user::citext);
         COMMENT ON TABLE accounts IS 'Who holds what; rows are ''owned'' (see public.events)';
         COMMENT ON COLUMN accounts.balance IS 'never negative';
         COMMENT ON FUNCTION utils.normalize_code(text) IS 'upper-cased, trimmed';
         COMMENT ON SCHEMA utils IS 'helpers';",
        "PRAGMA user_version = 7;",
    ),
    (
        "2024-01-10-000000_seed_rows",
        "INSERT INTO accounts (code, name, mood, balance) VALUES ('alice', 'Alice', 'happy', 10.50), ('bob', 'Bob', 'calm', 3);
         INSERT INTO events (account_id, kind, created_at) VALUES (1, 'login', '2020-01-01 00:00:00+00'), (2, 'signup', now());
         INSERT INTO measurements (taken_on, value) VALUES ('2024-06-01', 1.5), ('2026-01-01', 2);
         INSERT INTO audit_log (message) VALUES ('seeded');
         SELECT nextval('invoice_numbers');
         SELECT nextval('invoice_numbers');
         REFRESH MATERIALIZED VIEW account_moods;",
        "INSERT INTO accounts (code, name) VALUES ('alice', 'Alice'), ('bob', 'Bob'), ('carol', 'Carol');
         DELETE FROM accounts WHERE code = 'carol';
         INSERT INTO events (account_id, kind, created_at) VALUES (1, 'login', '2020-01-01 00:00:00');
         INSERT INTO settings VALUES ('theme', 'dark');
         INSERT INTO amounts (cents) VALUES (1050);
         INSERT INTO notes (title, body) VALUES ('hello', 'full text; search');",
    ),
    (
        "2024-01-11-000000_cleanup-function",
        "CREATE FUNCTION utils.trim_audit() RETURNS void LANGUAGE plpgsql AS $$
         BEGIN
             DELETE FROM public.audit_log WHERE false;
         END
         $$;
         CREATE VIEW utils.account_codes AS SELECT utils.normalize_code(code::text) AS code FROM public.accounts
         -- the last statement has no semicolon
         -- and comments follow it
",
        "CREATE VIEW account_codes AS SELECT upper(code) AS code FROM accounts
         -- the last statement has no semicolon
         -- and comments follow it
",
    ),
];

/// A migrations root holding both trees of [`HISTORY`], checksum files current.
fn history_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for (folder, pg, sqlite) in HISTORY {
        for (tree, up) in [("postgres", pg), ("sqlite", sqlite)] {
            let dir = root.path().join(tree).join(folder);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("up.sql"), up).unwrap();
        }
    }
    for tree in ["postgres", "sqlite"] {
        let dir = root.path().join(tree);
        sumfile::write(&dir, &MigrationSet::from_dir(&dir).unwrap()).unwrap();
    }
    root
}

fn fresh(backend: &str, purpose: &str) -> TestDb {
    if backend == "sqlite" {
        TestDb::sqlite()
    } else {
        TestDb::postgres(purpose).unwrap()
    }
}

/// Everything `db` holds, as a proof compares it.
fn whole_schema(db: &TestDb) -> Vec<String> {
    let sh = xshell::Shell::new().unwrap();
    let mut conn = db.connect();
    let url = matches!(conn, DbConnection::Pg(_)).then(|| url(db));
    dump::whole_schema(&sh, &mut conn, url.as_deref()).unwrap()
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

fn lines(db: &TestDb, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<Line>(&mut db.connect())
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

fn baseline_file(root: &Path, tree: &str, file: &str) -> String {
    let dir = std::fs::read_dir(root.join(tree))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_consolidated_baseline"))
        .expect("a baseline folder");
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn every_kind_of_object_is_squashed_proven_and_dropped_again() {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |u| u.is_empty()) {
        test_kit::skip_check(
            "REQUIRE_POSTGRES",
            "every_kind_of_object_is_squashed_proven_and_dropped_again: needs TEST_DATABASE_URL",
        );
        return;
    }
    let test_started = lines(&TestDb::sqlite(), "SELECT datetime('now') AS line").remove(0);
    for live in TestDb::each("every_kind_of_object_is_squashed_proven_and_dropped_again") {
        let b = live.name();
        let root = history_root();
        let original = history_root();
        let backups = tempfile::tempdir().unwrap();
        ok(&live, Some(root.path()), &["apply"]);
        // The command squashes both trees and proves both baselines; a failed proof fails it.
        let report = ok(
            &live,
            Some(root.path()),
            &[
                "consolidate",
                "--backups-dir",
                backups.path().to_str().unwrap(),
            ],
        );
        assert_eq!(report["squashed"], 12, "{b}");

        for backend in ["postgres", "sqlite"] {
            let by_chain = fresh(backend, "chain");
            ok(&by_chain, Some(original.path()), &["apply"]);
            let by_baseline = fresh(backend, "baseline");
            let applied = ok(&by_baseline, Some(root.path()), &["apply"]);
            assert_eq!(
                strings(&applied["applied"]).len(),
                1,
                "{b}/{backend}: one baseline"
            );
            let expected = whole_schema(&by_chain);
            let got = whole_schema(&by_baseline);
            assert_eq!(
                dump::diff(&expected, &got, "the chain", "the baseline"),
                Vec::<String>::new(),
                "{b}/{backend}"
            );
            assert!(expected.len() > 15, "{b}/{backend}: {expected:?}");
            ok(&by_baseline, Some(root.path()), &["downgrade", "--all"]);
            assert_eq!(
                whole_schema(&by_baseline),
                whole_schema(&fresh(backend, "empty")),
                "{b}/{backend}: the baseline's down.sql leaves nothing"
            );
        }

        let pg_up = baseline_file(root.path(), "postgres", "up.sql");
        for kept in [
            "SET search_path TO '$user', 'public'",
            "SET LOCAL statement_timeout = '5s';",
            "-- a line that starts like a comment, inside the body",
            "DELETE FROM public.events WHERE",
            "COMMENT ON TABLE accounts IS 'Who holds what; rows are ''owned'' (see public.events)';",
            "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;",
            "CREATE SCHEMA utils;",
            "'2020-01-01 00:00:00+00'",
        ] {
            assert!(pg_up.contains(kept), "{b}: the baseline lost {kept:?}:\n{pg_up}");
        }
        let accounts_rows: Vec<&str> = pg_up
            .lines()
            .filter(|l| l.starts_with("INSERT INTO accounts "))
            .collect();
        assert_eq!(accounts_rows.len(), 2, "{b}: {pg_up}");
        assert!(
            accounts_rows
                .iter()
                .all(|r| !r.contains("created_at") && !r.contains("updated_at")),
            "{b}: now() defaults are left to the default: {accounts_rows:?}"
        );
        let sqlite_up = baseline_file(root.path(), "sqlite", "up.sql");
        assert!(
            !sqlite_up.contains("notes_data"),
            "{b}: FTS5 shadow tables are not dumped"
        );
        assert!(sqlite_up.contains("PRAGMA user_version = 7;"), "{b}");

        // Rows carried, timestamps from the defaults set when the baseline ran.
        let pg = fresh("postgres", "rows");
        ok(&pg, Some(root.path()), &["apply"]);
        assert_eq!(
            lines(&pg, "SELECT code || ' ' || (created_at >= now() - interval '1 hour')::text AS line FROM accounts ORDER BY id"),
            ["alice true", "bob true"],
            "{b}"
        );
        assert_eq!(
            lines(&pg, "SELECT nextval('invoice_numbers')::text AS line"),
            ["1002"],
            "{b}: sequence position carried"
        );
        let sqlite = fresh("sqlite", "rows");
        ok(&sqlite, Some(root.path()), &["apply"]);
        assert_eq!(
            lines(&sqlite, &format!("SELECT code || ' ' || (created_at >= '{test_started}') AS line FROM accounts ORDER BY id")),
            ["alice 1", "bob 1"],
            "{b}"
        );
        assert_eq!(
            lines(
                &sqlite,
                "SELECT kind || ' ' || account_id AS line FROM events ORDER BY id"
            ),
            ["signup 1", "signup 2", "login 1"],
            "{b}: no trigger fired while the rows were carried"
        );
        assert_eq!(
            lines(
                &sqlite,
                "SELECT CAST(seq AS TEXT) AS line FROM sqlite_sequence WHERE name = 'accounts'"
            ),
            ["3"],
            "{b}: AUTOINCREMENT counter carried"
        );
        assert_eq!(
            lines(
                &sqlite,
                "SELECT title AS line FROM notes WHERE notes MATCH 'search'"
            ),
            ["hello"],
            "{b}: full-text index rebuilt"
        );
    }
}
