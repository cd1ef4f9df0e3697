//! Consolidation of the generated hard histories (`test_kit::corpus`) as a plain one-tree
//! project: on a database at head holding rows in every table, then a fresh database from
//! the new tree must equal one from the chain (compared as normalized `pg_dump
//! --schema-only` / `sqlite_master` text, not the tool's own snapshot), every row must be
//! unchanged, a database left halfway up the chain must upgrade through the archive,
//! `rollback` must give back every file byte for byte, and a backup of the consolidated
//! database must verify and restore with every table's count and hash.

use std::collections::BTreeMap;

use data_safety::manifest::TableDigest;
use history_corpus as corpus;

use crate::corpus::{empty_tables, new_db, schema_text, write_checksums, Project};
use crate::support::*;

/// Count and hash of every user table (bookkeeping tables aside: consolidation rewrites them).
fn table_digests(db: &TestDb) -> BTreeMap<String, TableDigest> {
    let mut all = data_safety::hash::digests(&mut db.connect()).expect("hash every table");
    all.retain(|name, _| !corpus::BOOKKEEPING_TABLES.contains(&name.trim_start_matches("public.")));
    all
}

fn consolidated_corpus_keeps_schema_rows_and_files(backend: db_conn::Backend, test: &str) {
    let (Some(db), Some(fresh), Some(halfway)) = (
        new_db(backend, test),
        new_db(backend, test),
        new_db(backend, test),
    ) else {
        return;
    };
    let p = Project::new(backend);
    let b = db.name();
    write_checksums(&p.tree);
    let original = file_sums(&p.tree);
    let half = (p.len() / 2).to_string();
    ok(&halfway, None, &p.args(&["apply", "--steps", &half]));
    ok(&db, None, &p.args(&["apply"]));
    corpus::fill_rows(&mut db.connect(), &p.history).expect("fill every table");
    assert_eq!(
        empty_tables(&db),
        Vec::<String>::new(),
        "{b}: rows everywhere"
    );
    let (chain_schema, rows) = (schema_text(&db), table_digests(&db));

    let backups = tempfile::tempdir().expect("temp dir");
    let backups_dir = backups.path().to_str().expect("utf-8");
    let report = ok(
        &db,
        None,
        &p.args(&["consolidate", "--backups-dir", backups_dir]),
    );
    assert_eq!(
        report["squashed"],
        serde_json::json!(p.len()),
        "{b}: {report}"
    );
    assert_eq!(schema_text(&db), chain_schema, "{b}: live schema unchanged");
    assert_eq!(table_digests(&db), rows, "{b}: every row unchanged");
    let status = ok(&db, None, &p.args(&["status"]));
    assert_eq!(status["drift"], serde_json::json!([]), "{b}: {status}");

    let applied = ok(&fresh, None, &p.args(&["apply"]));
    assert_eq!(strings(&applied["applied"]).len(), 1, "{b}: one baseline");
    same_schema(
        &schema_text(&fresh),
        &chain_schema,
        &format!("{b}: baseline"),
    );
    let upgraded = ok(&halfway, None, &p.args(&["apply"]));
    assert_eq!(
        strings(&upgraded["applied"]).len(),
        p.len() - p.len() / 2,
        "{b}: the archived chain's rest ran: {upgraded}"
    );
    same_schema(
        &schema_text(&halfway),
        &chain_schema,
        &format!("{b}: halfway"),
    );

    backup_round_trip(&db, &p, backups_dir, &rows);

    let files_backup = report["files_backup"].as_str().expect("files backup");
    ok(&db, None, &p.args(&["rollback", files_backup]));
    assert!(
        file_sums(&p.tree) == original,
        "{b}: every file back byte for byte"
    );
}

/// backup → verify → restore of the consolidated database, every table counted and hashed.
fn backup_round_trip(
    db: &TestDb,
    p: &Project,
    backups_dir: &str,
    rows: &BTreeMap<String, TableDigest>,
) {
    let b = db.name();
    let made = ok(db, None, &p.args(&["backup", "--backups-dir", backups_dir]));
    let id = made["backup"]["id"].as_str().expect("backup id").to_owned();
    let total: u64 = rows.values().map(|d| d.rows).sum();
    assert_eq!(
        made["verify"]["rows"],
        serde_json::json!(total),
        "{b}: {made}"
    );
    ok(
        db,
        None,
        &p.args(&["backup", "verify", &id, "--backups-dir", backups_dir]),
    );
    diesel::connection::SimpleConnection::batch_execute(
        &mut db.connect(),
        &format!("DELETE FROM {}", first_plain_table(rows)),
    )
    .expect("lose rows");
    assert_ne!(&table_digests(db), rows, "{b}: the loss is seen");
    ok(
        db,
        None,
        &p.args(&["restore", &id, "--backups-dir", backups_dir]),
    );
    assert_eq!(&table_digests(db), rows, "{b}: every table restored");
}

/// A table nothing else references, so deleting its rows breaks no foreign key.
fn first_plain_table(rows: &BTreeMap<String, TableDigest>) -> String {
    rows.keys()
        .find(|t| t.contains("audit") || t.contains("log"))
        .or_else(|| rows.keys().last())
        .expect("a table")
        .clone()
}

/// Equal schema texts, or a panic naming the lines only one side has (the whole text of a
/// 320-migration schema would drown them).
fn same_schema(got: &str, want: &str, what: &str) {
    if got != want {
        // Lines as a multiset: the same line may occur in many objects.
        let only = |a: &str, b: &str| -> Vec<String> {
            let mut theirs: BTreeMap<&str, usize> = BTreeMap::new();
            b.lines().for_each(|l| *theirs.entry(l).or_default() += 1);
            let mut extra = Vec::new();
            let mut before = "";
            for (n, line) in a.lines().enumerate() {
                match theirs.get_mut(line) {
                    Some(count) if *count > 0 => *count -= 1,
                    _ => extra.push(format!("line {} (after `{before}`): {line}", n + 1)),
                }
                before = line;
            }
            extra.truncate(12);
            extra
        };
        panic!(
            "{what}: schemas differ; only in the new one: {:#?}; only in the chain's: {:#?}",
            only(got, want),
            only(want, got)
        );
    }
}

#[test]
fn postgres_corpus_consolidated_at_head_keeps_schema_rows_and_files() {
    consolidated_corpus_keeps_schema_rows_and_files(
        db_conn::Backend::Postgres,
        "postgres_corpus_consolidated_at_head",
    );
}

#[test]
fn sqlite_corpus_consolidated_at_head_keeps_schema_rows_and_files() {
    consolidated_corpus_keeps_schema_rows_and_files(
        db_conn::Backend::Sqlite,
        "sqlite_corpus_consolidated_at_head",
    );
}
