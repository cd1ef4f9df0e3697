//! The schema history: both trees run and revert from their files as diesel reads them,
//! every down.sql reverses its up.sql, and both backends end at the same schema.

use std::path::{Path, PathBuf};

use db_conn::introspect::{SchemaSnapshot, TypeClass};
use db_conn::DbConnection;
use diesel::connection::SimpleConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::samples;
use crate::support::TestDb;

/// How many of [`SPEC_ORDER`]'s migrations were ported from Alembic.
const PORTED_FROM_ALEMBIC: usize = 19;

const SPEC_ORDER: [&str; 20] = [
    "create_core_tables",
    "add_okx_tables",
    "add_ibkr_tables",
    "add_wise_transactions_and_balances",
    "add_web3_tables",
    "add_dca_plan_fields_and_user_operation",
    "add_fund_dividend_table",
    "add_okx_account_overview_table",
    "add_fee_rate_to_dca_plans",
    "add_nav_field_to_user_operations",
    "fix_okx_market_data_precision",
    "add_asset_type_to_dca_plans_table",
    "add_exclude_dates_to_dca_plans",
    "add_wise_primary_secondary_amount_fields",
    "fix_wise_tables_structure",
    "add_incremental_okx_and_wise_balance",
    "remove_wise_balance_account_id_unique_index",
    "add_asset_and_exchange_rate_snapshot",
    "add_base_value_to_asset_snapshot",
    "add_import_runs_and_operation_external_id",
];

fn tree_dir(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend)
}

fn tree(backend: &str) -> FileBasedMigrations {
    FileBasedMigrations::from_path(tree_dir(backend)).expect("migration tree readable")
}

fn folders(backend: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tree_dir(backend))
        .expect("tree exists")
        .map(|e| e.expect("entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn snapshot(conn: &mut DbConnection) -> SchemaSnapshot {
    SchemaSnapshot::capture(conn).expect("introspect schema")
}

#[test]
fn trees_hold_the_same_versions_in_spec_order() {
    let sqlite = folders("sqlite");
    assert_eq!(
        sqlite,
        folders("postgres"),
        "both trees must hold the same migration folders"
    );
    let names: Vec<&str> = sqlite
        .iter()
        .map(|f| f.split_once('_').expect("version_name").1)
        .collect();
    assert_eq!(names, SPEC_ORDER);
    for backend in ["sqlite", "postgres"] {
        for (i, folder) in sqlite.iter().enumerate() {
            let up = std::fs::read_to_string(tree_dir(backend).join(folder).join("up.sql"))
                .expect("up.sql");
            // The history ported from Alembic names its revisions; later ones say why they exist.
            let opening = if i < PORTED_FROM_ALEMBIC {
                "-- Alembic revision"
            } else {
                "-- "
            };
            assert!(
                up.starts_with(opening),
                "{backend}/{folder}/up.sql must open with `{opening}`"
            );
            assert!(
                tree_dir(backend).join(folder).join("down.sql").is_file(),
                "{backend}/{folder} has no down.sql"
            );
            assert!(
                !tree_dir(backend)
                    .join(folder)
                    .join("metadata.toml")
                    .exists(),
                "{folder}: no metadata.toml (it silently turns transactions off)"
            );
        }
    }
}

#[test]
fn each_tree_runs_and_reverts_as_diesel_reads_it() {
    for db in TestDb::each("each_tree_runs_and_reverts_as_diesel_reads_it") {
        let backend = db.name();
        let mut conn = db.connect();
        let applied = conn.run_pending_migrations(tree(backend)).expect("run all");
        assert_eq!(applied.len(), SPEC_ORDER.len(), "{backend}");
        assert_eq!(
            snapshot(&mut conn).tables.len(),
            pf_data::models::table_names().len(),
            "{backend}"
        );
        let reverted = conn
            .revert_all_migrations(tree(backend))
            .expect("revert all");
        assert_eq!(reverted.len(), SPEC_ORDER.len(), "{backend}");
        assert_eq!(
            snapshot(&mut conn),
            SchemaSnapshot::default(),
            "{backend}: revert --all leaves nothing"
        );
    }
}

#[test]
fn every_down_reverses_its_up() {
    for db in TestDb::each("every_down_reverses_its_up") {
        let backend = db.name();
        let mut conn = db.connect();
        for step in 1..=SPEC_ORDER.len() {
            let before = snapshot(&mut conn);
            let version = conn
                .run_next_migration(tree(backend))
                .expect("up")
                .to_string();
            let after_up = snapshot(&mut conn);
            assert_ne!(before, after_up, "{backend} {version}: up changed nothing");
            conn.revert_last_migration(tree(backend)).expect("down");
            let diff = before.diff(&snapshot(&mut conn));
            assert!(
                diff.is_empty(),
                "{backend} {version} (#{step}): down does not reverse up:\n{}",
                diff.join("\n")
            );
            conn.run_next_migration(tree(backend)).expect("up again");
            let diff = after_up.diff(&snapshot(&mut conn));
            assert!(
                diff.is_empty(),
                "{backend} {version}: up again differs:\n{}",
                diff.join("\n")
            );
        }
    }
}

#[test]
fn backends_agree_on_tables_columns_and_keys() {
    let Some(pg_db) = TestDb::postgres("backends_agree_on_tables_columns_and_keys") else {
        return;
    };
    let sqlite = snapshot(&mut TestDb::sqlite().migrated());
    let pg = snapshot(&mut pg_db.migrated());
    assert_eq!(
        sqlite.tables.keys().collect::<Vec<_>>(),
        pg.tables.keys().collect::<Vec<_>>()
    );
    for (name, p) in &pg.tables {
        let s = &sqlite.tables[name];
        let shape = |t: &db_conn::introspect::TableSchema| {
            t.columns
                .iter()
                .map(|c| (c.name.clone(), c.nullable))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shape(s),
            shape(p),
            "{name}: column names, order or nullability differ"
        );
        assert_eq!(s.primary_key, p.primary_key, "{name}: primary key");
        assert_eq!(s.foreign_keys, p.foreign_keys, "{name}: foreign keys");
        let uniques = |t: &db_conn::introspect::TableSchema| {
            t.indexes
                .iter()
                .filter(|i| i.starts_with("UNIQUE"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(uniques(s), uniques(p), "{name}: unique constraints");
        for (sc, pc) in s.columns.iter().zip(&p.columns) {
            let (st, pt) = (TypeClass::of(&sc.data_type), TypeClass::of(&pc.data_type));
            // SQLite keeps decimals as TEXT on purpose: NUMERIC affinity would round them.
            let ok = st == pt || (pt == TypeClass::Decimal && st == TypeClass::Text);
            assert!(
                ok,
                "{name}.{}: {} on SQLite vs {} on PostgreSQL",
                sc.name, sc.data_type, pc.data_type
            );
            if pt == TypeClass::Decimal {
                assert_eq!(pc.data_type, "numeric(38,18)", "{name}.{}", pc.name);
                assert_eq!(
                    sc.data_type, "TEXT",
                    "{name}.{}: SQLite decimals are TEXT",
                    sc.name
                );
            }
        }
    }
}

#[test]
fn models_cover_every_column() {
    for db in TestDb::each("models_cover_every_column") {
        let schema = snapshot(&mut db.migrated());
        let tables = samples::tables();
        assert_eq!(tables.len(), schema.tables.len(), "{}", db.name());
        for table in tables {
            let mut expected: Vec<&str> = vec!["id", "created_at", "updated_at"];
            expected.extend(table.fields.iter().map(|f| f.name));
            expected.sort();
            let mut actual: Vec<&str> = schema.tables[table.name]
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            actual.sort();
            assert_eq!(
                actual,
                expected,
                "{} {}: model and table disagree",
                db.name(),
                table.name
            );
        }
    }
}

#[test]
fn table_rebuilds_keep_rows_and_ids() {
    for db in TestDb::each("table_rebuilds_keep_rows_and_ids") {
        let backend = db.name();
        let mut conn = db.connect();
        for _ in 0..10 {
            conn.run_next_migration(tree(backend)).expect("up to #10");
        }
        conn.batch_execute(
            "INSERT INTO okx_market_data (id, inst_id, last_price, bid_price, data_time) \
             VALUES (5, 'BTC-USDT', 67000.12345678, 0.00001234, '2024-09-01 00:00:00')",
        )
        .expect("row at #10");
        for _ in 10..14 {
            conn.run_next_migration(tree(backend)).expect("up to #14");
        }
        conn.batch_execute(
            "INSERT INTO wise_transactions (id, transaction_id, type, date, amount, currency) \
             VALUES (7, 'T-1', 'CARD', '2024-12-01 10:00:00', 12.5, 'EUR'); \
             INSERT INTO wise_transactions (id) VALUES (9); \
             INSERT INTO wise_balances (id, profile_id, account_id, currency, amount, reserved_amount, update_time) \
             VALUES (3, 'p', 'a', 'EUR', 100.25, 0, '2024-12-01 10:00:00');",
        )
        .expect("rows at #14");
        conn.run_pending_migrations(tree(backend))
            .expect("up to head");
        drop(conn);

        let mut conn = db.connect();
        let market = get::<pf_data::models::OkxMarketData>(&mut conn, 5);
        assert_eq!(market.last_price.to_string(), "67000.12345678", "{backend}");
        assert_eq!(
            market.bid_price.unwrap().to_string(),
            "0.00001234",
            "{backend}"
        );
        let tx = get::<pf_data::models::WiseTransaction>(&mut conn, 7);
        assert_eq!(
            (
                tx.transaction_type.as_str(),
                tx.amount.to_string().as_str(),
                tx.status.as_str()
            ),
            ("CARD", "12.5", "completed")
        );
        let backfilled = get::<pf_data::models::WiseTransaction>(&mut conn, 9);
        assert_eq!(
            backfilled.currency, "unknown",
            "{backend}: NULLs are backfilled, not dropped"
        );
        let balance = get::<pf_data::models::WiseBalance>(&mut conn, 3);
        assert_eq!(balance.available.to_string(), "100.25", "{backend}");
    }
}

/// The real `diesel` CLI on both trees, when it is installed (CI installs it).
#[test]
fn plain_diesel_cli_runs_and_reverts_both_trees() {
    let Some(cli) = test_kit::diesel_cli() else {
        test_kit::skip_check(
            "REQUIRE_DIESEL_CLI",
            "plain_diesel_cli_runs_and_reverts_both_trees: the diesel CLI is not installed",
        );
        return;
    };
    for db in TestDb::each("plain_diesel_cli_runs_and_reverts_both_trees") {
        let backend = db.name();
        let url = match &db.target {
            db_conn::DatabaseTarget::Postgres { url } => url.clone(),
            db_conn::DatabaseTarget::Sqlite { path } => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                path.display().to_string()
            }
        };
        // An empty config: the project's diesel.toml would rewrite schema.rs on every run.
        let scratch = tempfile::tempdir().unwrap();
        let config = scratch.path().join("diesel.toml");
        std::fs::write(&config, "").unwrap();
        for args in [
            &["migration", "run"][..],
            &["migration", "revert", "--all"],
            &["migration", "run"],
        ] {
            let out = std::process::Command::new(&cli)
                .args(args)
                .arg("--migration-dir")
                .arg(tree_dir(backend))
                .arg("--database-url")
                .arg(&url)
                .arg("--config-file")
                .arg(&config)
                .current_dir(scratch.path())
                .output()
                .expect("run diesel");
            assert!(
                out.status.success(),
                "{backend}: diesel {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut conn = db.connect();
        let applied = pf_data::migrations::status(&mut conn).unwrap();
        assert_eq!(
            (applied.applied.len(), applied.pending.len()),
            (SPEC_ORDER.len(), 0),
            "{backend}"
        );
    }
}

fn get<R: pf_data::resource::Resource>(conn: &mut DbConnection, id: i64) -> R {
    R::get(conn, id).unwrap_or_else(|e| panic!("{} row {id}: {e}", R::TABLE))
}

/// A file whose last statement has no `;` and is followed by comment lines (one ending in `;`)
/// is legal: diesel sends the file as one batch. The tool must run it unchanged, and revert it.
#[test]
fn a_migration_without_a_final_terminator_applies_as_diesel_runs_it() {
    use migration_engine::{MigrationSet, Migrator, Target};
    for db in TestDb::each("a_migration_without_a_final_terminator_applies_as_diesel_runs_it") {
        let backend = db.name();
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("2020-01-01-000000_unterminated");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("up.sql"),
            "CREATE TABLE unterminated (id INTEGER PRIMARY KEY)\n-- a comment line\n-- the statement above has no terminator;\n",
        )
        .unwrap();
        std::fs::write(folder.join("down.sql"), "DROP TABLE unterminated\n-- done;").unwrap();
        let set = MigrationSet::from_dir(dir.path()).unwrap();
        let mut conn = db.connect();
        let migrator = Migrator::new(&set, "test");
        let applied = migrator
            .apply(&mut conn, &Target::Head)
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(applied, ["2020-01-01-000000_unterminated"], "{backend}");
        conn.batch_execute("INSERT INTO unterminated (id) VALUES (1)")
            .unwrap();
        let reverted = migrator
            .downgrade(&mut conn, &Target::Zero)
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(reverted, ["2020-01-01-000000_unterminated"], "{backend}");
        assert!(
            conn.batch_execute("SELECT 1 FROM unterminated").is_err(),
            "{backend}: down.sql ran"
        );
    }
}

/// A history whose down.sql fails, or leaves its table behind so that up.sql cannot run again,
/// is reported migration by migration, every problem at once, not as the tool's own failure.
#[test]
fn failing_downs_and_reapplies_are_reported_as_the_historys_defects() {
    use migration_engine::{scratch, MigrationSet};
    for db in TestDb::each("failing_downs_and_reapplies_are_reported_as_the_historys_defects") {
        let backend = db.name();
        let dir = tempfile::tempdir().unwrap();
        for (folder, up, down) in [
            (
                "2020-01-01-000000_create_a",
                "CREATE TABLE a (id INTEGER PRIMARY KEY);",
                "DROP TABLE missing_table;",
            ),
            (
                "2020-01-02-000000_create_b",
                "CREATE TABLE b (id INTEGER PRIMARY KEY);",
                "SELECT 1;",
            ),
        ] {
            let path = dir.path().join(folder);
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("up.sql"), up).unwrap();
            std::fs::write(path.join("down.sql"), down).unwrap();
        }
        let set = MigrationSet::from_dir(dir.path()).unwrap();
        let all: Vec<_> = set.migrations.iter().collect();
        let problems = scratch::check_reversible(&scratch::ScratchPlace::beside(&db.target), &all)
            .unwrap_or_else(|e| panic!("{backend}: the probe itself failed: {e}"));
        let text = problems.join("\n");
        for needle in [
            "2020-01-01-000000_create_a: down.sql fails",
            "2020-01-02-000000_create_b: down.sql does not reverse up.sql",
            "2020-01-02-000000_create_b: up.sql run again after down.sql",
        ] {
            assert!(
                text.contains(needle),
                "{backend}: no `{needle}` in:\n{text}"
            );
        }
    }
}
