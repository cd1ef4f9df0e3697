//! Backups on both backends, through the `backend` binary as production runs it: taken while
//! another process writes, killed halfway, damaged, newer than the code; restores killed
//! halfway; file permissions.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use data_safety::Manifest;
use db_conn::DbConnection;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use pf_data::models::{FundDividend, FundInfo, NewFundDividend, NewFundInfo};
use pf_data::resource::{ListFilter, Resource};

use crate::backup_util::*;
use crate::support::TestDb;

/// One commit of the writer: a fund and its dividend, numbered.
fn write_pair(conn: &mut DbConnection, n: usize) -> diesel::QueryResult<()> {
    conn.transaction(|c| {
        let fund = FundInfo::create(
            c,
            &NewFundInfo {
                fund_code: format!("W{n:06}"),
                fund_name: format!("writer fund {n} — ünïcødé"),
                fund_type: None,
                currency: "USD".into(),
                nav: Some("1.000000000000000001".parse().unwrap()),
                nav_date: None,
            },
        )?;
        FundDividend::create(
            c,
            &NewFundDividend {
                fund_id: fund.id,
                ex_dividend_date: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                payment_date: None,
                dividend_per_share: "0.1".parse().unwrap(),
                currency: "USD".into(),
            },
        )?;
        Ok(())
    })
}

/// The writer's rows in a database: their numbers, and how many dividends point at them.
fn writer_state(conn: &mut DbConnection) -> (Vec<usize>, usize) {
    let funds = FundInfo::list(
        conn,
        &ListFilter {
            limit: i64::MAX,
            ..Default::default()
        },
    )
    .unwrap();
    let numbers: Vec<usize> = funds
        .iter()
        .filter_map(|f| f.fund_code.strip_prefix('W').and_then(|n| n.parse().ok()))
        .collect();
    let ids: Vec<i64> = funds
        .iter()
        .filter(|f| f.fund_code.starts_with('W'))
        .map(|f| f.id)
        .collect();
    let dividends = FundDividend::list(
        conn,
        &ListFilter {
            limit: i64::MAX,
            ..Default::default()
        },
    )
    .unwrap()
    .into_iter()
    .filter(|d| ids.contains(&d.fund_id))
    .count();
    (numbers, dividends)
}

#[test]
fn backup_while_another_process_inserts_verifies_and_restores_to_one_commit_point() {
    for db in TestDb::each("backup_while_another_process_inserts") {
        let b = db.name();
        drop(db.migrated());
        let backups = temp();
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (stop, written, target) = (stop.clone(), written.clone(), db.target.clone());
            std::thread::spawn(move || {
                let mut conn = db_conn::establish(&target).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    write_pair(&mut conn, n).unwrap();
                    n += 1;
                    written.store(n, Ordering::SeqCst);
                }
            })
        };
        while written.load(Ordering::SeqCst) < 50 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // The backup (and its verification) runs in another process while the writer commits.
        let before = written.load(Ordering::SeqCst);
        let out = ok(&db, backups.path(), &["backup"]);
        let after = written.load(Ordering::SeqCst);
        stop.store(true, Ordering::SeqCst);
        writer.join().unwrap();
        assert!(out.contains("verified"), "{b}: {out}");
        assert!(
            after > before,
            "{b}: the writer kept committing during the backup ({before} -> {after})"
        );

        let ids = backup_ids(backups.path());
        assert_eq!(ids.len(), 1, "{b}: {ids:?}");
        let manifest = Manifest::read(&backups.path().join(&ids[0])).unwrap();
        let k = manifest.tables["fund_info"].rows as usize;
        assert!(
            k >= before && k <= after + 1,
            "{b}: {k} rows, writer was at {before}..{after}"
        );
        assert_eq!(
            manifest.tables["fund_dividends"].rows as usize, k,
            "{b}: parents and children of the same commits"
        );

        // Restore it: the database is exactly the writer's first k commits, and sound.
        let restored = ok(&db, backups.path(), &["restore", &ids[0]]);
        assert!(
            restored.contains(&format!("restored backup {}", ids[0])),
            "{b}: {restored}"
        );
        let mut conn = db.connect();
        let (numbers, dividends) = writer_state(&mut conn);
        assert_eq!(
            numbers,
            (0..k).collect::<Vec<_>>(),
            "{b}: a prefix of the commits, no gap"
        );
        assert_eq!(dividends, k, "{b}");
        let report = data_safety::integrity::check(&db.target, None).unwrap();
        assert!(report.ok, "{b}: {:?}", report.problems);
        assert!(ok(&db, backups.path(), &["integrity"]).contains("integrity: ok"));
    }
}

#[test]
fn sigkill_during_backup_leaves_no_final_name_and_earlier_backups_intact() {
    for db in TestDb::each("sigkill_during_backup") {
        let b = db.name();
        fill(&mut db.migrated(), 2, 0);
        let backups = temp();
        let first = data_safety::create(&db.target, backups.path()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100)); // the next id is a new second
        let pause = temp();
        let child = spawn_paused(
            command(&db, backups.path(), &["backup"]),
            "backup-after-snapshot",
            pause.path(),
        );
        // Snapshot and manifest are written, under the temporary name only.
        let during = entries(backups.path());
        assert!(
            during.iter().any(|e| e.starts_with(".tmp-")),
            "{b}: {during:?}"
        );
        kill9(child);
        assert_eq!(
            backup_ids(backups.path()),
            vec![first.id.clone()],
            "{b}: no new backup under a final name"
        );
        let left: Vec<String> = entries(backups.path())
            .into_iter()
            .filter(|e| !e.starts_with('.'))
            .collect();
        assert_eq!(left, vec![first.id.clone()], "{b}: {left:?}");
        data_safety::verify(&first.path, &db.target).unwrap_or_else(|e| panic!("{b}: {e}"));
        // The next backup clears what the killed one left.
        let next = data_safety::create(&db.target, backups.path()).unwrap();
        assert!(
            !entries(backups.path())
                .iter()
                .any(|e| e.starts_with(".tmp-")),
            "{b}"
        );
        assert_eq!(backup_ids(backups.path()).len(), 2, "{b}: {}", next.id);
    }
}

#[test]
fn sigkill_during_restore_leaves_the_old_database_whole() {
    for db in TestDb::each("sigkill_during_restore") {
        let b = db.name();
        fill(&mut db.migrated(), 2, 0);
        let backups = temp();
        let old = data_safety::create(&db.target, backups.path()).unwrap();
        fill(&mut db.connect(), 3, 10);
        let current = digests(&db);
        assert_ne!(
            current, old.manifest.tables,
            "{b}: the database moved on since the backup"
        );
        let pause = temp();

        // Killed just before the swap (SQLite: the rename; PostgreSQL: COMMIT, with all the
        // restore's statements run inside the open transaction).
        let point = if b == "sqlite" {
            "restore-before-swap"
        } else {
            "restore-before-commit"
        };
        let child = spawn_paused(
            command(&db, backups.path(), &["restore", &old.id]),
            point,
            pause.path(),
        );
        kill9(child);
        assert_eq!(digests(&db), current, "{b}: the old database, whole");
        assert!(
            data_safety::integrity::check(&db.target, None).unwrap().ok,
            "{b}"
        );

        if b == "sqlite" {
            // With another connection open (a running service), the restore replaces the
            // content in one transaction: killed inside it, nothing changed either.
            let mut holder = db.connect();
            holder.batch_execute("SELECT 1").unwrap();
            let child = spawn_paused(
                command(&db, backups.path(), &["restore", &old.id]),
                "restore-before-commit",
                pause.path(),
            );
            kill9(child);
            drop(holder);
            assert_eq!(
                digests(&db),
                current,
                "{b}: the old database, whole (transaction)"
            );
            assert!(
                data_safety::integrity::check(&db.target, None).unwrap().ok,
                "{b}"
            );
        }

        // Uninterrupted, the restore succeeds, and what it replaced is in its safety backup.
        let out = ok(&db, backups.path(), &["restore", &old.id]);
        assert_eq!(digests(&db), old.manifest.tables, "{b}: {out}");
        let safety = out
            .split("previous state is in backup ")
            .nth(1)
            .unwrap()
            .trim()
            .to_owned();
        let safety = Manifest::read(&backups.path().join(&safety)).unwrap();
        assert_eq!(
            safety.tables, current,
            "{b}: the safety backup holds the replaced state"
        );
        assert!(safety.note.unwrap().contains(&old.id));
    }
}

#[test]
fn damaged_truncated_and_newer_backups_are_refused() {
    for db in TestDb::each("damaged_backups_are_refused") {
        let b = db.name();
        fill(&mut db.migrated(), 2, 0);
        let backups = temp();
        let good = data_safety::create(&db.target, backups.path()).unwrap();
        let copy = |name: &str| {
            let dir = backups.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            for f in ["manifest.json", &good.manifest.snapshot.file] {
                std::fs::copy(good.path.join(f), dir.join(f)).unwrap();
            }
            dir
        };
        let snapshot = |dir: &std::path::Path| dir.join(&good.manifest.snapshot.file);

        let flipped = copy("flipped");
        let mut bytes = std::fs::read(snapshot(&flipped)).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(snapshot(&flipped), bytes).unwrap();
        let err = fails(&db, backups.path(), &["backup", "verify", "flipped"]);
        assert!(
            err.contains("is damaged")
                && err.contains("SHA-256")
                && err.contains("use another backup"),
            "{b}: {err}"
        );

        let truncated = copy("truncated");
        let len = std::fs::metadata(snapshot(&truncated)).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(snapshot(&truncated))
            .unwrap()
            .set_len(len / 3)
            .unwrap();
        let err = fails(&db, backups.path(), &["backup", "verify", "truncated"]);
        assert!(err.contains("truncated"), "{b}: {err}");
        let err = fails(&db, backups.path(), &["restore", "truncated"]);
        assert!(err.contains("truncated"), "{b}: {err}");

        // A manifest whose recorded hash of a table was changed: the restored copy disagrees.
        let edited = copy("edited");
        let mut manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(edited.join("manifest.json")).unwrap())
                .unwrap();
        manifest["tables"]["fund_info"]["sha256"] = serde_json::json!("0".repeat(64));
        std::fs::write(edited.join("manifest.json"), manifest.to_string()).unwrap();
        let err = fails(&db, backups.path(), &["backup", "verify", "edited"]);
        assert!(
            err.contains("does not verify") && err.contains("fund_info"),
            "{b}: {err}"
        );
        // Restoring it fails at verification, which runs beside the safety backup: that one
        // is removed again, and the database is as it was.
        let unchanged = digests(&db);
        let err = fails(&db, backups.path(), &["restore", "edited"]);
        assert!(err.contains("fund_info"), "{b}: {err}");
        assert_eq!(digests(&db), unchanged, "{b}");

        // A backup of a database a newer release migrated.
        let before = digests(&db);
        db.connect()
            .batch_execute(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')",
            )
            .unwrap();
        let newer = data_safety::create(&db.target, backups.path()).unwrap();
        db.connect()
            .batch_execute(
                "DELETE FROM __diesel_schema_migrations WHERE version = '29990101000000'",
            )
            .unwrap();
        let err = fails(&db, backups.path(), &["restore", &newer.id]);
        assert!(
            err.contains("29990101000000")
                && err.contains("does not know")
                && err.contains("release"),
            "{b}: {err}"
        );
        assert_eq!(digests(&db), before, "{b}: refusals changed nothing");
        assert_eq!(
            backup_ids(backups.path()).len(),
            5,
            "{b}: no safety backup was taken for a refused restore"
        );

        // The good one still verifies; a reference that names nothing says how to find one.
        assert!(ok(&db, backups.path(), &["backup", "verify", &good.id]).contains("verified"));
        let err = fails(&db, backups.path(), &["restore", "nope"]);
        assert!(
            err.contains("no backup `nope`") && err.contains("backup list"),
            "{b}: {err}"
        );
    }
}

#[cfg(unix)]
#[test]
fn backups_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    for db in TestDb::each("backups_are_private") {
        let b = db.name();
        fill(&mut db.migrated(), 1, 0);
        let work = temp();
        let backups = work.path().join("nested").join("backups");
        let export = work.path().join("export");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // The child inherits the umask; the test's own is restored right after the spawn.
        let spawn = |args: &[&str]| {
            let old = rustix::process::umask(rustix::fs::Mode::empty());
            let child = command(&db, &backups, args).spawn();
            rustix::process::umask(old);
            let out = child.unwrap().wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{b} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        spawn(&["backup"]);
        spawn(&["export", export.to_str().unwrap()]);
        let id = backup_ids(&backups).pop().unwrap();
        spawn(&["restore", &id]);
        assert_eq!(mode(&backups), 0o700, "{b}");
        assert_eq!(
            mode(backups.parent().unwrap()),
            0o700,
            "{b}: folders it created"
        );
        assert_eq!(mode(&export), 0o700, "{b}");
        for dir in backup_ids(&backups)
            .iter()
            .map(|id| backups.join(id))
            .chain([export.clone()])
        {
            assert_eq!(mode(&dir), 0o700, "{b}: {}", dir.display());
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                assert_eq!(mode(&f), 0o600, "{b}: {}", f.display());
            }
        }
        assert_eq!(mode(&backups.join("last-verified.json")), 0o600, "{b}");
    }
}

#[cfg(unix)]
#[test]
fn a_pg_dump_older_than_the_server_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let Some(db) = TestDb::postgres("older_pg_dump") else {
        return;
    };
    drop(db.migrated());
    // A pg_dump that says it is 9.6, first on PATH.
    let bin = temp();
    let fake = bin.path().join("pg_dump");
    std::fs::write(&fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let backups = temp();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = command(&db, backups.path(), &["backup"])
        .env("PATH", path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("`pg_dump` is version 9") && err.contains("postgresql-client-"),
        "{err}"
    );
    assert!(
        backup_ids(backups.path()).is_empty()
            && !entries(backups.path())
                .iter()
                .any(|e| e.starts_with(".tmp")),
        "nothing left behind"
    );
}

#[test]
fn a_damaged_sqlite_database_is_restored_and_its_files_kept() {
    let db = TestDb::sqlite();
    fill(&mut db.migrated(), 2, 0);
    let backups = temp();
    let good = data_safety::create(&db.target, backups.path()).unwrap();
    let path = db.target.sqlite_path().unwrap().to_path_buf();
    let garbage = b"this is not a database any more\n".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    let out = ok(&db, backups.path(), &["restore", &good.id]);
    assert!(
        out.contains("by rename") && out.contains("_unreadable"),
        "{out}"
    );
    assert_eq!(digests(&db), good.manifest.tables);
    let kept = out
        .split("previous state is in backup ")
        .nth(1)
        .unwrap()
        .trim();
    let kept = backups.path().join(kept);
    assert_eq!(
        std::fs::read(kept.join("test.db")).unwrap(),
        garbage,
        "the damaged file, as it was"
    );
    assert!(std::fs::read_to_string(kept.join("README.txt"))
        .unwrap()
        .contains("could not be backed up"));
}
