//! One run of `bench backup`'s measurements: our backup, verify and restore against the
//! engine's own tools, and export and import each in a child process of its own.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use data_safety::{self as backup, snapshot_postgres, SwapMode};
use db_conn::DatabaseTarget;
use serde_json::Value;
use xshell::{cmd, Shell};

/// A fresh database of `backend`: a new SQLite path under `dir`, or a scratch PostgreSQL
/// database (dropped when the guard goes).
pub(super) fn fresh(
    backend: &str,
    server: Option<&DatabaseTarget>,
    dir: &Path,
    name: &str,
) -> anyhow::Result<(DatabaseTarget, Option<db_conn::scratch::ScratchDatabase>)> {
    Ok(match backend {
        "sqlite" => (DatabaseTarget::sqlite(dir.join(format!("{name}.db"))), None),
        _ => {
            let scratch =
                snapshot_postgres::scratch_db(server.context("a PostgreSQL server")?, "bench")?;
            (scratch.target.clone(), Some(scratch))
        }
    })
}

fn url(target: &DatabaseTarget) -> String {
    match target {
        DatabaseTarget::Postgres { url } => url.clone(),
        DatabaseTarget::Sqlite { path } => path.display().to_string(),
    }
}

/// The engine's own backup and restore, for comparison.
fn peer_backup(sh: &Shell, target: &DatabaseTarget, dest: &Path) -> anyhow::Result<()> {
    match target {
        DatabaseTarget::Sqlite { path } => {
            let command = format!(".backup '{}'", dest.display());
            cmd!(sh, "sqlite3 {path} {command}").quiet().run()?;
        }
        DatabaseTarget::Postgres { url } => {
            let u = snapshot_postgres::split_url(url);
            let (db, file) = (
                format!("--dbname={}", u.without_password),
                format!("--file={}", dest.display()),
            );
            cmd!(sh, "pg_dump --format=custom --no-password {file} {db}")
                .env("PGPASSWORD", u.password.unwrap_or_default())
                .quiet()
                .run()?;
        }
    }
    Ok(())
}

fn peer_restore(sh: &Shell, target: &DatabaseTarget, file: &Path) -> anyhow::Result<()> {
    match target {
        DatabaseTarget::Sqlite { path } => {
            let command = format!(".restore '{}'", file.display());
            cmd!(sh, "sqlite3 {path} {command}").quiet().run()?;
        }
        DatabaseTarget::Postgres { url } => {
            let u = snapshot_postgres::split_url(url);
            let db = format!("--dbname={}", u.without_password);
            cmd!(
                sh,
                "pg_restore --no-owner --no-privileges --no-password {db} {file}"
            )
            .env("PGPASSWORD", u.password.unwrap_or_default())
            .quiet()
            .run()?;
        }
    }
    Ok(())
}

/// Runs one export or import in a child process of its own; returns (seconds, peak KiB).
pub(super) fn in_child(
    target: &DatabaseTarget,
    op: &str,
    dir: &Path,
) -> anyhow::Result<(f64, u64)> {
    let me = std::env::current_exe()?;
    let out = std::process::Command::new(me)
        .arg("--database-url")
        .arg(url(target))
        .args(["bench", "backup", "--child", op, "--child-dir"])
        .arg(dir)
        .env_remove("GITHUB_ACTIONS")
        .output()?;
    if !out.status.success() {
        bail!(
            "the {op} child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the {op} child said {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    Ok((
        v["seconds"].as_f64().unwrap_or(0.0),
        v["peak_kib"].as_u64().unwrap_or(0),
    ))
}

/// Every run's timings (medians are taken at the end), the peak memories and the backup sizes.
#[derive(Default)]
pub(super) struct Samples {
    pub(super) ours_b: Vec<Duration>,
    pub(super) peer_b: Vec<Duration>,
    pub(super) verify: Vec<Duration>,
    pub(super) ours_r: Vec<Duration>,
    pub(super) peer_r: Vec<Duration>,
    pub(super) exp: Vec<Duration>,
    pub(super) imp: Vec<Duration>,
    pub(super) exp_peak: u64,
    pub(super) imp_peak: u64,
    /// (our snapshot's bytes, the peer backup's bytes), from the last run.
    pub(super) sizes: (u64, u64),
}

/// What one run of the measurements works with.
pub(super) struct RunEnv<'a> {
    pub(super) sh: &'a Shell,
    pub(super) backend: &'a str,
    pub(super) server: Option<&'a DatabaseTarget>,
    pub(super) source: &'a DatabaseTarget,
    /// This run's scratch directory.
    pub(super) dir: &'a Path,
}

impl RunEnv<'_> {
    /// One run: backup, verify, restore (ours and the engine's), export and import.
    pub(super) fn measure(&self, s: &mut Samples) -> anyhow::Result<()> {
        let (ours, peer) = self.back_up_and_verify(s)?;
        self.restore(s, &ours, &peer)?;
        self.export_import(s)
    }

    /// Backup: ours (snapshot + per-table hashes of every row + manifest) vs the engine's,
    /// then our verify. Returns (our backup, the peer backup's file).
    fn back_up_and_verify(&self, s: &mut Samples) -> anyhow::Result<(PathBuf, PathBuf)> {
        let (sh, source, dir) = (self.sh, self.source, self.dir);
        let started = Instant::now();
        let info = backup::create(source, &dir.join("backups")).context("our backup")?;
        s.ours_b.push(started.elapsed());
        s.sizes.0 = info.manifest.snapshot.bytes;
        let peer_file = dir.join(if self.backend == "sqlite" {
            "peer.db"
        } else {
            "peer.pgdump"
        });
        let started = Instant::now();
        peer_backup(sh, source, &peer_file).context("the peer backup")?;
        s.peer_b.push(started.elapsed());
        s.sizes.1 = std::fs::metadata(&peer_file)
            .context("the peer backup file")?
            .len();
        let started = Instant::now();
        backup::verify(&info.path, source).context("our verify")?;
        s.verify.push(started.elapsed());
        Ok((info.path, peer_file))
    }

    /// Restore into a fresh database: ours (verify, safety backup, atomic swap, check
    /// afterwards) vs the engine's plain restore.
    fn restore(&self, s: &mut Samples, ours: &Path, peer_file: &Path) -> anyhow::Result<()> {
        let (b, server, dir) = (self.backend, self.server, self.dir);
        let (dest, _g1) = fresh(b, server, dir, "ours")?;
        let started = Instant::now();
        backup::restore(&dest, &dir.join("backups"), ours, SwapMode::Auto)
            .context("our restore")?;
        s.ours_r.push(started.elapsed());
        let (peer_dest, _g2) = fresh(b, server, dir, "peer")?;
        let started = Instant::now();
        peer_restore(self.sh, &peer_dest, peer_file).context("the peer restore")?;
        s.peer_r.push(started.elapsed());
        Ok(())
    }

    /// Export and import, each in a process of its own for its peak memory.
    fn export_import(&self, s: &mut Samples) -> anyhow::Result<()> {
        let folder = self.dir.join("export");
        let (secs, peak) = in_child(self.source, "export", &folder).context("export")?;
        s.exp.push(Duration::from_secs_f64(secs));
        s.exp_peak = s.exp_peak.max(peak);
        let (import_dest, _g3) = fresh(self.backend, self.server, self.dir, "import")?;
        {
            let mut conn = db_conn::establish(&import_dest)?;
            pf_data::migrations::run_pending(&mut conn)?;
        }
        let (secs, peak) = in_child(&import_dest, "import", &folder).context("import")?;
        s.imp.push(Duration::from_secs_f64(secs));
        s.imp_peak = s.imp_peak.max(peak);
        Ok(())
    }
}
