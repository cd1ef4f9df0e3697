//! export -> import on both backends, and SQLite -> PostgreSQL transfer: every row, id,
//! decimal, NULL, unicode string and timestamp equal; foreign keys intact; sequences moved on.

use data_safety::export;
use pf_data::resource::Resource;

use crate::backup_util::*;
use crate::support::TestDb;

fn no_progress() -> impl FnMut(&str, u64) {
    |_, _| {}
}

#[test]
fn export_import_round_trip_keeps_every_value_on_each_backend() {
    for source in TestDb::each("export_import_round_trip") {
        let b = source.name();
        fill(&mut source.migrated(), 4, 0);
        let work = temp();
        let dir = work.path().join("export");
        let out = ok(&source, work.path(), &["export", dir.to_str().unwrap()]);
        assert!(out.contains("exported"), "{b}: {out}");
        let manifest = export::ExportManifest::read(&dir).unwrap();
        assert_eq!(
            manifest.tables.len(),
            pf_data::models::table_names().len(),
            "{b}"
        );

        // Into a fresh database of the same backend: identical, at full precision.
        let dest = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("export_import_round_trip").unwrap()
        };
        drop(dest.migrated());
        let out = ok(&dest, work.path(), &["import", dir.to_str().unwrap()]);
        assert!(
            out.contains(&format!("imported {} row(s)", manifest.total_rows())),
            "{b}: {out}"
        );
        let (want, got) = (
            json_rows(&mut source.connect()),
            json_rows(&mut dest.connect()),
        );
        for (table, rows) in &want {
            assert_eq!(rows, &got[table], "{b}: table {table}");
        }
        assert!(
            want["fund_info"].iter().any(|r| r["fund_type"].is_null()),
            "{b}: NULLs covered"
        );
        let all = serde_json::to_string(&want).unwrap();
        for value in [
            "\"0.000000000000000001\"",
            "\"123456789012345678.123456789012\"",
            "\"0.1\"",
        ] {
            assert!(all.contains(value), "{b}: {value} covered");
        }
        assert!(
            want["fund_info"]
                .iter()
                .any(|r| r["fund_name"].as_str().unwrap().contains("中文")),
            "{b}: unicode covered"
        );
        let report = data_safety::integrity::check(&dest.target, None).unwrap();
        assert!(
            report.ok && report.foreign_keys_checked >= 5,
            "{b}: {:?}",
            report.problems
        );

        // Sequences moved past the imported ids: a new row gets a fresh id.
        let mut conn = dest.connect();
        let max = want["user_operations"]
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .max()
            .unwrap();
        let mut input: pf_data::models::NewSystemConfig =
            serde_json::from_value(serde_json::json!(
                {"config_key": "after import", "config_value": "1", "description": null}
            ))
            .unwrap();
        let row = pf_data::models::SystemConfig::create(&mut conn, &input).unwrap();
        assert!(row.id > 0, "{b}");
        input.config_key = "after import 2".into();
        let ops = want["user_operations"].clone();
        let op: pf_data::models::NewUserOperation = {
            let mut v = ops[0].clone();
            let obj = v.as_object_mut().unwrap();
            // external_id is unique per platform: the copy is a new operation, not the import.
            for k in ["id", "created_at", "updated_at", "external_id"] {
                obj.remove(k);
            }
            serde_json::from_value(v).unwrap()
        };
        let created = pf_data::models::UserOperation::create(&mut conn, &op).unwrap();
        assert!(
            created.id > max,
            "{b}: new id {} after imported max {max}",
            created.id
        );

        // Importing again: refused, the database is not empty; nothing changes.
        let before = digests(&dest);
        let err = fails(&dest, work.path(), &["import", dir.to_str().unwrap()]);
        assert!(
            err.contains("not empty") && err.contains("freshly migrated"),
            "{b}: {err}"
        );
        assert_eq!(digests(&dest), before, "{b}");
    }
}

#[test]
fn a_tampered_export_is_refused_and_nothing_is_imported() {
    for source in TestDb::each("tampered_export") {
        let b = source.name();
        fill(&mut source.migrated(), 3, 0);
        let work = temp();
        let dir = work.path().join("export");
        export::export(&source.target, &dir, None, &mut no_progress()).unwrap();
        // One decimal changed in the last table imported (children of everything else).
        let file = dir.join("exchange_rate_snapshots.jsonl");
        let text = std::fs::read_to_string(&file).unwrap();
        let tampered = text.replacen("\"rate\":\"0.1\"", "\"rate\":\"0.2\"", 1);
        assert_ne!(text, tampered, "{b}: the sample has a rate of 0.1");
        std::fs::write(&file, tampered).unwrap();
        let dest = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("tampered_export").unwrap()
        };
        drop(dest.migrated());
        let before = digests(&dest);
        let err = fails(&dest, work.path(), &["import", dir.to_str().unwrap()]);
        assert!(
            err.contains("exchange_rate_snapshots.jsonl") && err.contains("export again"),
            "{b}: {err}"
        );
        assert_eq!(digests(&dest), before, "{b}: one transaction, rolled back");
        // A folder that is no export at all.
        let err = fails(
            &dest,
            work.path(),
            &["import", work.path().to_str().unwrap()],
        );
        assert!(
            err.contains("not a usable backup") || err.contains("manifest"),
            "{b}: {err}"
        );
        // An export of a database at another migration version.
        let partial = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres("tampered_export").unwrap()
        };
        let mut conn = partial.connect();
        let set = pf_data::migrations::embedded(partial.target.backend());
        migration_engine::Migrator::new(set, "test")
            .apply(
                &mut conn,
                &migration_engine::Target::Steps(set.migrations.len() - 1),
            )
            .unwrap_or_else(|e| panic!("{b}: {e}"));
        let err = fails(&partial, work.path(), &["import", dir.to_str().unwrap()]);
        assert!(
            err.contains("migrate the database to the export's version"),
            "{b}: {err}"
        );
    }
}

#[test]
fn sqlite_to_postgres_transfer_keeps_every_row_id_decimal_null_string_and_timestamp() {
    let Some(pg) = TestDb::postgres("sqlite_to_postgres_transfer") else {
        return;
    };
    let sqlite = TestDb::sqlite();
    fill(&mut sqlite.migrated(), 5, 0);
    let work = temp();
    let to = crate::binary::database_url(&pg);
    let out = ok(&sqlite, work.path(), &["transfer", "--to", &to]);
    assert!(out.contains("every count and content hash equal"), "{out}");
    let (want, got) = (
        canonical_rows(&mut sqlite.connect()),
        canonical_rows(&mut pg.connect()),
    );
    let total: usize = want.values().map(Vec::len).sum();
    assert!(total >= 22 * 5, "{total}");
    for (table, rows) in &want {
        assert_eq!(
            rows, &got[table],
            "table {table}: ids, decimals, NULLs, strings, timestamps"
        );
    }
    // Full-precision values too, apart from timestamps' sub-microsecond digits (PostgreSQL
    // keeps microseconds): compare everything else exactly.
    let (a, c) = (
        json_rows(&mut sqlite.connect()),
        json_rows(&mut pg.connect()),
    );
    let strip = |rows: &Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                for k in ["created_at", "updated_at"] {
                    let t = r[k].as_str().unwrap().to_owned();
                    r[k] = serde_json::json!(t
                        .get(..26)
                        .unwrap_or(&t)
                        .trim_end_matches('0')
                        .trim_end_matches('.'));
                }
                r
            })
            .collect()
    };
    for (table, rows) in &a {
        assert_eq!(strip(rows), strip(&c[table]), "table {table}");
    }
    let report = data_safety::integrity::check(&pg.target, None).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert!(report.orphans.is_empty());
    // Transferring into a database that now holds data is refused.
    let err = fails(&sqlite, work.path(), &["transfer", "--to", &to]);
    assert!(err.contains("not empty"), "{err}");
}

/// A value the database's own lines cannot spell as the model does (a BC date on PostgreSQL)
/// sends its table through the model: exported as serde writes it, and imported back equal.
#[test]
fn a_table_only_the_model_can_spell_is_exported_through_it() {
    use diesel::connection::SimpleConnection;
    let Some(source) = TestDb::postgres("export_through_the_model") else {
        return;
    };
    let mut conn = source.migrated();
    fill(&mut conn, 2, 0);
    conn.batch_execute(
        "INSERT INTO fund_info (fund_code, fund_name, currency, nav, nav_date) \
         VALUES ('BC', 'ides', 'EUR', 1, '0044-03-15 BC')",
    )
    .unwrap();
    let work = temp();
    let dir = work.path().join("export");
    ok(&source, work.path(), &["export", dir.to_str().unwrap()]);
    let lines = std::fs::read_to_string(dir.join("fund_info.jsonl")).unwrap();
    assert!(lines.contains("\"nav_date\":\"-0043-03-15\""), "{lines}");
    let dest = TestDb::postgres("export_through_the_model").unwrap();
    drop(dest.migrated());
    ok(&dest, work.path(), &["import", dir.to_str().unwrap()]);
    assert_eq!(
        json_rows(&mut conn)["fund_info"],
        json_rows(&mut dest.connect())["fund_info"]
    );
}
