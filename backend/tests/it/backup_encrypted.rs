//! Encrypted backups through the `backend` binary on both backends: `backup keygen`, a backup
//! encrypted while it is written (no plaintext file at any moment, checked while one is paused
//! mid-stream), a readable manifest, verify and restore with the identity; without it, with
//! another one, and after a flipped byte or a truncation: one line, nothing restored.

use std::path::{Path, PathBuf};

use data_safety::Manifest;
use pf_data::models::{FundInfo, NewFundInfo};
use pf_data::resource::Resource;

use crate::backup_util::*;
use crate::support::TestDb;

const CANARY: &str = "plaintext-canary-7f3a9c";

fn keygen(db: &TestDb, dir: &Path, name: &str) -> (PathBuf, String) {
    let file = dir.join(name);
    let out = ok(db, dir, &["backup", "keygen", file.to_str().unwrap()]);
    let public = out
        .lines()
        .find_map(|l| {
            l.split("public key (BACKUP_RECIPIENTS / --encrypt-to): ")
                .nth(1)
        })
        .unwrap_or_else(|| panic!("no public key in {out}"))
        .to_owned();
    assert!(public.starts_with("age1"), "{public}");
    (file, public)
}

fn seed(db: &TestDb) {
    let mut conn = db.migrated();
    fill(&mut conn, 2, 0);
    FundInfo::create(
        &mut conn,
        &NewFundInfo {
            fund_code: "CANARY".into(),
            fund_name: CANARY.repeat(40),
            fund_type: None,
            currency: "USD".into(),
            nav: None,
            nav_date: None,
        },
    )
    .unwrap();
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if path.is_file() {
            out.push(path);
        }
    }
    out
}

/// Files under `dirs` that hold a database or dump in plaintext (by magic or the canary),
/// but the live database `except` and its WAL and shared-memory files.
fn plaintext_files(dirs: &[&Path], except: Option<&Path>) -> Vec<PathBuf> {
    let live = |p: &Path| {
        except.is_some_and(|e| {
            let (e, p) = (
                e.as_os_str().to_string_lossy(),
                p.as_os_str().to_string_lossy(),
            );
            p == e || p == format!("{e}-wal") || p == format!("{e}-shm")
        })
    };
    let mut found = Vec::new();
    for path in dirs.iter().flat_map(|d| files_under(d)) {
        if live(&path) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        let magic = bytes.starts_with(b"SQLite format 3\0") || bytes.starts_with(b"PGDMP");
        let canary = bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes());
        if magic || canary {
            found.push(path);
        }
    }
    found
}

fn live_file(db: &TestDb) -> Option<PathBuf> {
    match &db.target {
        db_conn::DatabaseTarget::Sqlite { path } => Some(path.clone()),
        db_conn::DatabaseTarget::Postgres { .. } => None,
    }
}

#[test]
fn encrypted_backups_round_trip_and_refuse_missing_or_wrong_keys_and_damage() {
    for db in TestDb::each("encrypted_round_trip") {
        let b = db.name();
        seed(&db);
        let keys = temp();
        let (identity, public) = keygen(&db, keys.path(), "key.txt");
        let (other, _) = keygen(&db, keys.path(), "other.txt");
        let again = fails(
            &db,
            keys.path(),
            &["backup", "keygen", identity.to_str().unwrap()],
        );
        assert!(again.contains("never overwritten"), "{b}: {again}");
        let id_arg = identity.to_str().unwrap();
        let backups = temp();
        let out = ok(
            &db,
            backups.path(),
            &["backup", "--encrypt-to", &public, "--identity", id_arg],
        );
        assert!(out.contains("verified"), "{b}: {out}");
        let ids = backup_ids(backups.path());
        let dir = backups.path().join(&ids[0]);
        let manifest = Manifest::read(&dir).unwrap();
        let sealed = manifest.snapshot.encryption.clone().expect("encrypted");
        assert_eq!(sealed.recipients, vec![public.clone()], "{b}");
        assert!(manifest.snapshot.file.ends_with(".age"), "{b}");
        assert_eq!(
            manifest.tables,
            digests(&db),
            "{b}: the manifest stays readable"
        );
        assert!(plaintext_files(&[backups.path()], None).is_empty(), "{b}");
        let manifest_text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
        assert!(
            !manifest_text.contains(CANARY),
            "{b}: no row data in the manifest"
        );

        let bare = fails(&db, backups.path(), &["backup", "verify", &ids[0]]);
        assert!(bare.contains("--identity"), "{b}: {bare}");
        let wrong = fails(
            &db,
            backups.path(),
            &["restore", &ids[0], "--identity", other.to_str().unwrap()],
        );
        assert!(
            wrong.contains("no key in") && wrong.contains(&public),
            "{b}: {wrong}"
        );
        assert!(ok(
            &db,
            backups.path(),
            &["backup", "verify", &ids[0], "--identity", id_arg]
        )
        .contains("verified"));

        // The data moves on; the restore brings the backup back, its safety backup encrypted.
        let mut conn = db.connect();
        fill(&mut conn, 1, 5);
        drop(conn);
        let moved = digests(&db);
        assert_ne!(moved, manifest.tables);
        let restored = ok(
            &db,
            backups.path(),
            &["restore", &ids[0], "--identity", id_arg],
        );
        assert!(restored.contains("restored backup"), "{b}: {restored}");
        assert_eq!(digests(&db), manifest.tables, "{b}");
        let all = backup_ids(backups.path());
        let safety = all.iter().find(|i| **i != ids[0]).expect("a safety backup");
        let safety = Manifest::read(&backups.path().join(safety)).unwrap();
        assert_eq!(safety.tables, moved, "{b}: the state before the restore");
        assert_eq!(
            safety.snapshot.encryption.map(|e| e.recipients),
            Some(vec![public.clone()]),
            "{b}: the safety backup of an encrypted restore is encrypted too"
        );
        assert!(plaintext_files(&[backups.path()], None).is_empty(), "{b}");

        refuse_damage(&db, backups.path(), &dir, id_arg);
    }
}

/// A flipped byte, the same with the manifest's size and hash made to match, and a
/// truncation: each one line, nothing restored.
fn refuse_damage(db: &TestDb, backups: &Path, dir: &Path, identity: &str) {
    let b = db.name();
    let manifest = Manifest::read(dir).unwrap();
    let snapshot = dir.join(&manifest.snapshot.file);
    let original = std::fs::read(&snapshot).unwrap();
    let id = manifest.id.clone();
    let mut conn = db.connect();
    fill(&mut conn, 1, 7);
    drop(conn);
    let before = digests(db);
    let mut flipped = original.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x01;
    let cases: [(&str, Vec<u8>, bool); 3] = [
        ("flipped byte", flipped.clone(), false),
        ("flipped byte, manifest rewritten to match", flipped, true),
        ("truncated", original[..original.len() - 100].to_vec(), true),
    ];
    for (case, bytes, forge) in cases {
        std::fs::write(&snapshot, &bytes).unwrap();
        if forge {
            let mut m = manifest.clone();
            m.snapshot.bytes = bytes.len() as u64;
            m.snapshot.sha256 = data_safety::hash::file_sha256(&snapshot).unwrap().1;
            std::fs::write(
                dir.join("manifest.json"),
                serde_json::to_vec_pretty(&m).unwrap(),
            )
            .unwrap();
        }
        let err = fails(db, backups, &["restore", &id, "--identity", identity]);
        assert!(
            err.contains("damaged") || err.contains("does not decrypt"),
            "{b}, {case}: {err}"
        );
        assert_eq!(digests(db), before, "{b}, {case}: nothing restored");
        std::fs::write(
            dir.join("manifest.json"),
            serde_json::to_vec_pretty(&manifest).unwrap(),
        )
        .unwrap();
    }
    std::fs::write(&snapshot, &original).unwrap();
}

#[test]
fn no_plaintext_file_exists_while_an_encrypted_backup_is_written() {
    for db in TestDb::each("encrypted_paused") {
        let b = db.name();
        seed(&db);
        // Enough rows that the snapshot is written in many parts.
        fill(&mut db.connect(), 10, 8);
        let keys = temp();
        let (_, public) = keygen(&db, keys.path(), "key.txt");
        let (backups, scratch, pause) = (temp(), temp(), temp());
        let mut cmd = command(
            &db,
            backups.path(),
            &["backup", "--no-verify", "--encrypt-to", &public],
        );
        cmd.env("TMPDIR", scratch.path());
        let child = spawn_paused(cmd, "backup-while-encrypting", pause.path());
        let live = live_file(&db);
        let folder = live
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let mut dirs = vec![backups.path(), scratch.path()];
        if let Some(f) = &folder {
            dirs.push(f);
        }
        let leaks = plaintext_files(&dirs, live.as_deref());
        let staged: Vec<PathBuf> = files_under(backups.path())
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".age"))
            .collect();
        kill9(child);
        assert!(
            leaks.is_empty(),
            "{b}: plaintext on disk mid-backup: {leaks:?}"
        );
        assert_eq!(
            staged.len(),
            1,
            "{b}: the snapshot is being written: {staged:?}"
        );
        assert!(
            backup_ids(backups.path()).is_empty(),
            "{b}: killed, nothing published"
        );
    }
}
