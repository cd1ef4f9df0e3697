//! The migration lock: concurrent migrators apply each version exactly once, and a migrator
//! killed while holding the lock does not block the next one.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn eight_concurrent_migrators_apply_each_version_once() {
    for db in TestDb::each("eight_concurrent_migrators_apply_each_version_once") {
        // Creating the file first keeps the race on the lock, not on SQLite's journal mode switch.
        drop(db.connect());
        let children: Vec<_> = (0..8)
            .map(|_| {
                command(&db, None, &["--json", "apply", "--lock-wait", "120"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let mut applied_by_all = Vec::new();
        for child in children {
            let run: Run = child.wait_with_output().expect("wait").into();
            assert!(
                run.ok,
                "{}: a concurrent migrator failed: {}\n{}",
                db.name(),
                run.error(),
                run.stderr
            );
            applied_by_all.extend(strings(&run.json()["applied"]));
        }
        let unique: BTreeSet<&String> = applied_by_all.iter().collect();
        assert_eq!(
            applied_by_all.len(),
            head(),
            "{}: each version applied exactly once: {applied_by_all:?}",
            db.name()
        );
        assert_eq!(unique.len(), head());
        assert_eq!(applied_versions(&db).len(), head());
    }
}

/// True once another connection holds the migration lock.
fn lock_is_held(db: &TestDb) -> bool {
    let mut conn = db.connect();
    match db.name() {
        "postgres" => {
            #[derive(diesel::QueryableByName)]
            struct Held {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                held: bool,
            }
            let key = migration_engine::lock::PG_LOCK_KEY;
            let sql = format!(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = {} AND objid::bigint = {}) AS held",
                (key >> 32) as u32,
                (key & 0xffff_ffff) as u32
            );
            use diesel::RunQueryDsl;
            diesel::sql_query(sql)
                .get_result::<Held>(&mut conn)
                .map(|h| h.held)
                .unwrap_or(false)
        }
        _ => {
            // The holder keeps SQLite's write lock: a write that may not wait fails.
            conn.batch_execute("PRAGMA busy_timeout = 0").unwrap();
            match conn.batch_execute("BEGIN IMMEDIATE") {
                Ok(()) => {
                    conn.batch_execute("ROLLBACK").unwrap();
                    false
                }
                Err(_) => true,
            }
        }
    }
}

#[test]
fn a_killed_lock_holder_does_not_block_the_next_migrator() {
    for db in TestDb::each("a_killed_lock_holder_does_not_block_the_next_migrator") {
        let root = copy_trees();
        let slow_sqlite = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000000) SELECT count(*) FROM c;";
        add_migration(
            root.path(),
            "2026-01-01-000000_add_slow_probe",
            slow_sqlite,
            "SELECT pg_sleep(600);",
            "SELECT 1;",
        );
        drop(db.connect());
        let mut holder = command(&db, Some(root.path()), &["apply"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        while !lock_is_held(&db) {
            assert!(
                started.elapsed() < DEADLINE,
                "{}: the first migrator never took the lock",
                db.name()
            );
            assert!(
                holder.try_wait().unwrap().is_none(),
                "{}: the first migrator ended early",
                db.name()
            );
            std::thread::yield_now();
        }
        holder.kill().expect("SIGKILL the holder");
        holder.wait().unwrap();

        // The slow migration is replaced by a quick one; the next migrator must get through.
        for tree in ["sqlite", "postgres"] {
            std::fs::write(
                root.path()
                    .join(tree)
                    .join("2026-01-01-000000_add_slow_probe/up.sql"),
                "CREATE TABLE probe (id INTEGER);",
            )
            .unwrap();
            std::fs::write(
                root.path()
                    .join(tree)
                    .join("2026-01-01-000000_add_slow_probe/down.sql"),
                "DROP TABLE probe;",
            )
            .unwrap();
        }
        let started = Instant::now();
        let next = ok(&db, Some(root.path()), &["apply", "--lock-wait", "60"]);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}: waited past the deadline",
            db.name()
        );
        let versions = applied_versions(&db);
        assert_eq!(versions.len(), head() + 1, "{}: {versions:?}", db.name());
        assert!(!strings(&next["applied"]).is_empty());
        assert_eq!(
            versions.iter().collect::<BTreeSet<_>>().len(),
            head() + 1,
            "no version recorded twice"
        );
    }
}
