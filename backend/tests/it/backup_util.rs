//! Helpers for the data-safety tests: the `backend` binary's data commands, filled databases,
//! pause points to SIGKILL a process at a chosen moment, content digests.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use data_safety::manifest::TableDigest;
use db_conn::DbConnection;
use pf_data::models::visit_all;
use pf_data::resource::{Resource, ResourceVisitor};

use crate::binary::database_url;
use crate::samples;
use crate::support::TestDb;

const DEADLINE: Duration = Duration::from_secs(120);

/// Variables of the developer's shell that would change what a command does.
const ISOLATED_ENV: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_PATH",
    "BACKUPS_DIR",
    "ADMIN_TOKEN",
    "RAILWAY_ENVIRONMENT",
    "RAILWAY_ENVIRONMENT_NAME",
    "RAILWAY_PROJECT_ID",
    "RAILWAY_VOLUME_MOUNT_PATH",
    "PF_ACCEPT_EMPTY_DATABASE",
    "PF_TEST_PAUSE_AT",
    "PF_TEST_PAUSE_FILE",
];

/// `backend <args>` on `db`, backups in `backups`.
pub fn command(db: &TestDb, backups: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
    for var in ISOLATED_ENV {
        cmd.env_remove(var);
    }
    cmd.env("DATABASE_URL", database_url(db))
        .env("BACKUPS_DIR", backups)
        .env("RUST_LOG", "warn")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs to success; returns stdout.
pub fn ok(db: &TestDb, backups: &Path, args: &[&str]) -> String {
    let out = command(db, backups, args).output().expect("run backend");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "backend {args:?} on {} failed:\n{stdout}\n{}",
        db.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs to failure; returns the one line it wrote on stderr (checked to be one line).
pub fn fails(db: &TestDb, backups: &Path, args: &[&str]) -> String {
    let out = command(db, backups, args).output().expect("run backend");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert!(
        !out.status.success(),
        "backend {args:?} on {} should have failed:\n{}",
        db.name(),
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line saying what is wrong: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

/// Spawns `cmd` so that it stops at the test-only pause `point`; returns once it got there.
pub fn spawn_paused(mut cmd: Command, point: &str, dir: &Path) -> Child {
    let flag = dir.join(format!("pause-{point}"));
    cmd.env("PF_TEST_PAUSE_AT", point)
        .env("PF_TEST_PAUSE_FILE", &flag);
    let mut child = cmd.spawn().expect("spawn backend");
    let reached = dir.join(format!("pause-{point}.reached"));
    let started = Instant::now();
    while !reached.exists() {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("the process exited ({status}) before reaching {point}: {err}");
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{point} not reached within {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// SIGKILL, then reap.
pub fn kill9(mut child: Child) {
    crate::binary::signal(&child, "KILL");
    let status = crate::binary::wait_exit(&mut child);
    assert!(!status.success());
}

/// Count and content hash of every table.
pub fn digests(db: &TestDb) -> BTreeMap<String, TableDigest> {
    let mut conn = db.connect();
    data_safety::hash::digests(&mut conn).expect("digests")
}

/// Inserts `variants` rows into every table through the models (parents first), then updates
/// every second row (a server-set `updated_at` with sub-second precision).
pub fn fill(conn: &mut DbConnection, variants: usize, offset: usize) {
    struct Filler<'a> {
        conn: &'a mut DbConnection,
        ids: HashMap<&'static str, i64>,
        variants: usize,
        offset: usize,
    }
    impl ResourceVisitor for Filler<'_> {
        fn visit<R: Resource>(&mut self) {
            let table = samples::Table {
                name: R::TABLE,
                fields: R::fields(),
            };
            for v in 0..self.variants {
                let variant = self.offset + v;
                let mut value = samples::input(&table, variant, &self.ids);
                // Unique keys stay unique across variants and fills.
                for key in ["config_key", "fund_code"] {
                    if let Some(s) = value.get(key).and_then(|s| s.as_str()).map(str::to_owned) {
                        value[key] = serde_json::json!(format!("{s} #{variant}"));
                    }
                }
                let input: R::Input = serde_json::from_value(value).expect("a valid input");
                let row =
                    R::create(self.conn, &input).unwrap_or_else(|e| panic!("{}: {e}", R::TABLE));
                if v % 2 == 1 {
                    R::update(self.conn, row.id(), &input).expect("update");
                }
                self.ids.insert(R::TABLE, row.id());
            }
        }
    }
    visit_all(&mut Filler {
        conn,
        ids: HashMap::new(),
        variants,
        offset,
    });
}

/// Every row of every table as canonical lines (ids, decimals, NULLs, text, timestamps at
/// microseconds), per table.
pub fn canonical_rows(conn: &mut DbConnection) -> BTreeMap<&'static str, Vec<String>> {
    struct Dump<'a> {
        conn: &'a mut DbConnection,
        out: BTreeMap<&'static str, Vec<String>>,
    }
    impl ResourceVisitor for Dump<'_> {
        fn visit<R: Resource>(&mut self) {
            let mut lines = Vec::new();
            data_safety::hash::for_each_page::<R, diesel::result::Error>(self.conn, |page| {
                for row in page {
                    let mut line = String::new();
                    row.write_canonical(&mut line);
                    lines.push(line);
                }
                Ok(())
            })
            .expect("read rows");
            self.out.insert(R::TABLE, lines);
        }
    }
    let mut dump = Dump {
        conn,
        out: BTreeMap::new(),
    };
    visit_all(&mut dump);
    dump.out
}

/// Every row of every table as the API serializes it (full precision).
pub fn json_rows(conn: &mut DbConnection) -> BTreeMap<&'static str, Vec<serde_json::Value>> {
    struct Dump<'a> {
        conn: &'a mut DbConnection,
        out: BTreeMap<&'static str, Vec<serde_json::Value>>,
    }
    impl ResourceVisitor for Dump<'_> {
        fn visit<R: Resource>(&mut self) {
            let mut rows = Vec::new();
            data_safety::hash::for_each_page::<R, diesel::result::Error>(self.conn, |page| {
                rows.extend(page.iter().map(|r| serde_json::to_value(r).expect("json")));
                Ok(())
            })
            .expect("read rows");
            self.out.insert(R::TABLE, rows);
        }
    }
    let mut dump = Dump {
        conn,
        out: BTreeMap::new(),
    };
    visit_all(&mut dump);
    dump.out
}

/// The backup folders under `dir` (final names only), sorted.
pub fn backup_ids(dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = data_safety::store::list(dir)
        .expect("list")
        .into_iter()
        .map(|l| l.id)
        .collect();
    ids.sort();
    ids
}

/// Every entry of `dir`, dot-names included.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}
