//! `cargo xtask bench backup`: backup, verify and restore against the engines' own tools
//! (`sqlite3 .backup` / `.restore`; `pg_dump -Fc` / `pg_restore`) in the same run, on a
//! database of `--rows` rows spread over every table; export and import rows per second and
//! peak memory (each measured in a child process of its own: VmHWM from /proc/self/status);
//! and the old way for contrast: re-POSTing rows one by one over HTTP, on a sample. Medians of
//! `--runs`; ratios printed. Run it on a release build for meaningful figures:
//! `cargo run --release -p xtask -- bench backup`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use backend::backup::{self, export, snapshot_postgres, SwapMode};
use backend::config::DatabaseTarget;
use backend::db::DbConnection;
use backend::models::visit_all;
use backend::resource::{FieldKind, Resource, ResourceVisitor};
use diesel::connection::Connection;
use serde_json::{json, Value};
use xshell::{cmd, Shell};

use super::migrate::median;
use crate::Ctx;

#[derive(clap::Args)]
pub struct BenchBackup {
    /// Rows in the benchmark database, spread over every table
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Repetitions of each measurement (medians are reported)
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Rows re-POSTed over HTTP for the old way
    #[arg(long, default_value_t = 2000)]
    pub http_sample: usize,
    /// PostgreSQL server for the scratch databases [default: target if PostgreSQL, else TEST_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// Only these backends (sqlite, postgres)
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    #[arg(long, hide = true)]
    pub child: Option<String>,
    #[arg(long, hide = true)]
    pub child_dir: Option<PathBuf>,
}

/// Relative weight of each table in the generated data (the rest of a table's share is 0).
const WEIGHTS: &[(&str, u64)] = &[
    ("fund_info", 20),
    ("fund_dividends", 50),
    ("asset_positions", 30),
    ("dca_plans", 10),
    ("user_operations", 250),
    ("okx_balances", 20),
    ("okx_transactions", 80),
    ("okx_positions", 20),
    ("okx_market_data", 50),
    ("okx_account_overview", 10),
    ("ibkr_accounts", 2),
    ("ibkr_balances", 20),
    ("ibkr_positions", 20),
    ("ibkr_sync_logs", 20),
    ("wise_transactions", 80),
    ("wise_balances", 10),
    ("web3_balances", 20),
    ("web3_tokens", 10),
    ("web3_transactions", 80),
    ("asset_snapshots", 150),
    ("exchange_rate_snapshots", 28),
];

fn plan(rows: u64) -> BTreeMap<&'static str, u64> {
    let total: u64 = WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut plan: BTreeMap<&'static str, u64> = WEIGHTS
        .iter()
        .map(|(t, w)| (*t, (rows * w / total).max(1)))
        .collect();
    let sum: u64 = plan.values().sum();
    if sum < rows {
        *plan.get_mut("user_operations").expect("a table") += rows - sum;
    }
    plan
}

fn parent_of(field: &str) -> Option<&'static str> {
    match field {
        "fund_id" => Some("fund_info"),
        "ibkr_account_id" => Some("ibkr_accounts"),
        "dca_plan_id" => Some("dca_plans"),
        _ => None,
    }
}

const DECIMALS: [&str; 4] = [
    "0.1",
    "0.000000000000000001",
    "123456789012345678.123456789012",
    "-42.5",
];

/// Row `id` of `table` as JSON, every value derived from the id (unique where keys need it).
fn row(
    table: &str,
    fields: &[backend::resource::FieldSpec],
    id: u64,
    plan: &BTreeMap<&str, u64>,
) -> Value {
    let day = |offset: u64| {
        (chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date") + chrono::Days::new(offset))
            .to_string()
    };
    let stamp = |offset: u64| {
        let t = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
            .expect("a date")
            .and_hms_micro_opt(0, 0, 0, (offset % 1_000_000) as u32)
            .expect("a time")
            + chrono::Duration::seconds(offset as i64);
        t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    };
    let mut map = serde_json::Map::new();
    map.insert("id".into(), json!(id));
    for f in fields {
        let null = f.nullable && id % 5 == 0;
        let value = if let Some(parent) = parent_of(f.name) {
            json!(id % plan.get(parent).copied().unwrap_or(1) + 1)
        } else if null {
            Value::Null
        } else {
            match (table, f.name) {
                (_, n) if n == "currency" || n.ends_with("_currency") => {
                    json!(["USD", "CNY", "EUR"][(id % 3) as usize])
                }
                ("dca_plans", "frequency") => json!("monthly"),
                ("dca_plans", "status") => json!("active"),
                ("dca_plans", "exclude_dates") => json!("[\"2025-02-01\"]"),
                ("user_operations", "operation_type") => json!(["buy", "sell"][(id % 2) as usize]),
                _ => match f.kind {
                    FieldKind::Text => json!(format!("{}-{id} — ünïcødé", f.name)),
                    FieldKind::Decimal => json!(DECIMALS[(id % 4) as usize]),
                    FieldKind::Integer => json!(id % 1000),
                    FieldKind::Bool => json!(id % 2 == 0),
                    FieldKind::Date => json!(day(id)),
                    FieldKind::DateTime => json!(stamp(id)),
                },
            }
        };
        map.insert(f.name.into(), value);
    }
    map.insert("created_at".into(), json!(stamp(id)));
    map.insert("updated_at".into(), json!(stamp(id + 7)));
    Value::Object(map)
}

/// Fills a migrated database with `plan`'s rows (batched inserts, one transaction per table).
fn generate(
    conn: &mut DbConnection,
    plan: &BTreeMap<&'static str, u64>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    struct Gen<'a> {
        conn: &'a mut DbConnection,
        plan: &'a BTreeMap<&'static str, u64>,
        bar: &'a indicatif::ProgressBar,
        out: anyhow::Result<()>,
    }
    impl ResourceVisitor for Gen<'_> {
        fn visit<R: Resource>(&mut self) {
            let Some(&n) = self.plan.get(R::TABLE) else {
                return;
            };
            if self.out.is_err() {
                return;
            }
            let fields = R::fields();
            let (plan, bar) = (self.plan, self.bar);
            self.out = self.conn.transaction(|c| {
                let mut batch: Vec<R> = Vec::with_capacity(500);
                for id in 1..=n {
                    batch.push(serde_json::from_value(row(R::TABLE, &fields, id, plan))?);
                    if batch.len() == 500 || id == n {
                        R::insert_rows(c, &batch)?;
                        bar.inc(batch.len() as u64);
                        batch.clear();
                    }
                }
                if let DbConnection::Pg(_) = c {
                    use diesel::RunQueryDsl;
                    diesel::sql_query(format!(
                        "SELECT setval(pg_get_serial_sequence('{0}', 'id'), {1})",
                        R::TABLE,
                        n
                    ))
                    .execute(c)?;
                }
                Ok::<_, anyhow::Error>(())
            });
        }
    }
    let mut generator = Gen {
        conn,
        plan,
        bar,
        out: Ok(()),
    };
    visit_all(&mut generator);
    generator.out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// VmHWM (peak resident memory) of this process, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A fresh database of `backend`: a new SQLite path under `dir`, or a scratch PostgreSQL
/// database (dropped when the guard goes).
fn fresh(
    backend: &str,
    server: Option<&DatabaseTarget>,
    dir: &Path,
    name: &str,
) -> anyhow::Result<(DatabaseTarget, Option<snapshot_postgres::ScratchDb>)> {
    Ok(match backend {
        "sqlite" => (DatabaseTarget::sqlite(dir.join(format!("{name}.db"))), None),
        _ => {
            let scratch = snapshot_postgres::ScratchDb::create(
                server.context("a PostgreSQL server")?,
                "bench",
            )?;
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
fn in_child(target: &DatabaseTarget, op: &str, dir: &Path) -> anyhow::Result<(f64, u64)> {
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

/// The old way: every row re-POSTed on its own over HTTP to a service on a fresh database.
fn old_way(rows: &[Value], dest: &DatabaseTarget) -> anyhow::Result<Duration> {
    const TOKEN: &str = "bench-token-0123456789abcdef";
    {
        let mut conn = backend::db::establish(dest)?;
        backend::db::migrations::run_pending(&mut conn)?;
    }
    let pool = backend::db::pool(dest)?;
    let auth = backend::api::Auth::from_token(Some(TOKEN.into()), false)?;
    let router = backend::api::router(backend::api::AppState::new(pool, dest.clone(), auth));
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(async move { axum::serve(listener, router).await });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let started = Instant::now();
    for row in rows {
        let mut input = row.clone();
        if let Some(obj) = input.as_object_mut() {
            // The old scripts sent what the API accepts: the server assigns new ids and times.
            for key in ["id", "created_at", "updated_at"] {
                obj.remove(key);
            }
        }
        let response = agent
            .post(format!("http://{addr}/api/v1/asset_snapshots"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .send(input.to_string())?;
        if response.status().as_u16() != 201 {
            bail!("the old way's POST answered {}", response.status());
        }
    }
    Ok(started.elapsed())
}

impl BenchBackup {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        if let Some(op) = &self.child {
            return self.child(op, ctx);
        }
        anyhow::ensure!(self.runs > 0, "--runs must be at least 1");
        if cfg!(debug_assertions) {
            ctx.report.say("    NOTICE: a debug build: run `cargo run --release -p xtask -- bench backup` for meaningful figures");
        }
        let server = super::super::migrate::pgscratch::server_url(ctx, self.pg_url.as_deref())
            .map(|url| DatabaseTarget::Postgres { url });
        let mut backends = Vec::new();
        for b in ["sqlite", "postgres"] {
            if !self.only.is_empty() && !self.only.iter().any(|o| o == b) {
                continue;
            }
            if b == "postgres" && server.is_none() {
                ctx.report.say("    NOTICE: no PostgreSQL server (pass --pg-url or set TEST_DATABASE_URL): SQLite only");
                continue;
            }
            backends.push(b);
        }
        let mut results = Vec::new();
        for b in backends {
            let result = ctx.report.step(&format!("{b}: {} rows", self.rows), |r| {
                self.one(sh, r, b, server.as_ref())
            })?;
            results.push(result);
        }
        ctx.report.set("results", results);
        Ok(())
    }

    fn child(&self, op: &str, ctx: &mut Ctx) -> anyhow::Result<()> {
        let dir = self.child_dir.clone().context("--child-dir")?;
        let target = ctx.target()?;
        let started = Instant::now();
        let rows = match op {
            "export" => export::export(&target, &dir, None, &mut |_, _| {})?.total_rows(),
            "import" => export::import(&target, &dir, &mut |_, _| {})?.rows,
            "noop" => 0,
            _ => bail!("unknown child operation {op}"),
        };
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{}",
            json!({"seconds": seconds, "rows": rows, "peak_kib": peak_kib()})
        );
        Ok(())
    }

    fn one(
        &self,
        sh: &Shell,
        r: &mut crate::report::Reporter,
        b: &str,
        server: Option<&DatabaseTarget>,
    ) -> anyhow::Result<Value> {
        let work = tempfile::tempdir()?;
        let (source, _source_guard) = fresh(b, server, work.path(), "source")?;
        let plan = plan(self.rows);
        {
            let mut conn = backend::db::establish(&source)?;
            backend::db::migrations::run_pending(&mut conn)?;
            let bar = r.progress(self.rows, &format!("{b}: generate"));
            let started = Instant::now();
            generate(&mut conn, &plan, &bar)?;
            bar.finish_and_clear();
            r.say(&format!(
                "    generated {} rows in {} tables in {:.1} s",
                self.rows,
                plan.len(),
                started.elapsed().as_secs_f64()
            ));
        }
        let total = self.rows + 3; // + the seeded system_config rows
        let (mut ours_b, mut peer_b, mut verify, mut ours_r, mut peer_r) =
            (vec![], vec![], vec![], vec![], vec![]);
        let (mut exp, mut imp) = (vec![], vec![]);
        let (mut exp_peak, mut imp_peak) = (0u64, 0u64);
        let mut sizes = (0u64, 0u64);
        for run in 0..self.runs {
            let dir = work.path().join(format!("run{run}"));
            std::fs::create_dir_all(&dir)?;
            // Backup: ours (snapshot + per-table hashes of every row + manifest) vs the engine's.
            let started = Instant::now();
            let info = backup::create(&source, &dir.join("backups")).context("our backup")?;
            ours_b.push(started.elapsed());
            sizes.0 = info.manifest.snapshot.bytes;
            let peer_file = dir.join(if b == "sqlite" {
                "peer.db"
            } else {
                "peer.pgdump"
            });
            let started = Instant::now();
            peer_backup(sh, &source, &peer_file).context("the peer backup")?;
            peer_b.push(started.elapsed());
            sizes.1 = std::fs::metadata(&peer_file)
                .context("the peer backup file")?
                .len();
            let started = Instant::now();
            backup::verify(&info.path, &source).context("our verify")?;
            verify.push(started.elapsed());
            // Restore into a fresh database: ours (verify, safety backup, atomic swap, check
            // afterwards) vs the engine's plain restore.
            let (dest, _g1) = fresh(b, server, &dir, "ours")?;
            let started = Instant::now();
            backup::restore(&dest, &dir.join("backups"), &info.path, SwapMode::Auto)
                .context("our restore")?;
            ours_r.push(started.elapsed());
            let (peer_dest, _g2) = fresh(b, server, &dir, "peer")?;
            let started = Instant::now();
            peer_restore(sh, &peer_dest, &peer_file).context("the peer restore")?;
            peer_r.push(started.elapsed());
            // Export and import, each in a process of its own for its peak memory.
            let folder = dir.join("export");
            let (s, peak) = in_child(&source, "export", &folder).context("export")?;
            exp.push(Duration::from_secs_f64(s));
            exp_peak = exp_peak.max(peak);
            let (import_dest, _g3) = fresh(b, server, &dir, "import")?;
            {
                let mut conn = backend::db::establish(&import_dest)?;
                backend::db::migrations::run_pending(&mut conn)?;
            }
            let (s, peak) = in_child(&import_dest, "import", &folder).context("import")?;
            imp.push(Duration::from_secs_f64(s));
            imp_peak = imp_peak.max(peak);
            drop((_g1, _g2, _g3));
            std::fs::remove_dir_all(&dir)?;
        }
        let (_, base_peak) = in_child(&source, "noop", work.path())?;
        // The old way, on a sample.
        let sample: Vec<Value> = {
            let mut conn = backend::db::establish(&source)?;
            let page =
                backend::models::AssetSnapshot::page_after(&mut conn, 0, self.http_sample as i64)?;
            page.iter()
                .map(|row| serde_json::to_value(row).expect("json"))
                .collect()
        };
        let (old_dest, _g) = fresh(b, server, work.path(), "old")?;
        let old = old_way(&sample, &old_dest).context("the old way")?;
        let old_rps = sample.len() as f64 / old.as_secs_f64();

        let (ours_b, peer_b, verify, ours_r, peer_r, exp, imp) = (
            median(ours_b),
            median(peer_b),
            median(verify),
            median(ours_r),
            median(peer_r),
            median(exp),
            median(imp),
        );
        let (peer_b_name, peer_r_name) = if b == "sqlite" {
            ("sqlite3 .backup", "sqlite3 .restore")
        } else {
            ("pg_dump -Fc", "pg_restore")
        };
        let exp_rps = total as f64 / exp.as_secs_f64();
        let imp_rps = total as f64 / imp.as_secs_f64();
        let lines = [
            format!("backup:  ours {:.0} ms ({} bytes) vs {peer_b_name} {:.0} ms ({} bytes): {:.2}x", ms(ours_b), sizes.0, ms(peer_b), sizes.1, ms(ours_b) / ms(peer_b)),
            format!("verify:  {:.0} ms (restore into a scratch database + hash every row)", ms(verify)),
            format!("restore: ours {:.0} ms (verify + swap + check) vs {peer_r_name} {:.0} ms: {:.2}x", ms(ours_r), ms(peer_r), ms(ours_r) / ms(peer_r)),
            format!("export:  {:.0} rows/s ({:.0} ms), peak memory {} MiB (a process doing nothing: {} MiB)", exp_rps, ms(exp), exp_peak / 1024, base_peak / 1024),
            format!("import:  {:.0} rows/s ({:.0} ms), peak memory {} MiB", imp_rps, ms(imp), imp_peak / 1024),
            format!("old way: {:.0} rows/s re-POSTing {} rows one by one over HTTP (new ids): import is {:.0}x faster", old_rps, sample.len(), imp_rps / old_rps),
        ];
        for line in &lines {
            r.say(&format!("    {line}"));
        }
        Ok(json!({
            "backend": b, "rows": total, "runs": self.runs,
            "backup_ms": ms(ours_b), "peer_backup_ms": ms(peer_b), "peer_backup": peer_b_name,
            "backup_bytes": sizes.0, "peer_backup_bytes": sizes.1,
            "verify_ms": ms(verify),
            "restore_ms": ms(ours_r), "peer_restore_ms": ms(peer_r), "peer_restore": peer_r_name,
            "export_rows_per_s": exp_rps, "export_peak_kib": exp_peak,
            "import_rows_per_s": imp_rps, "import_peak_kib": imp_peak, "baseline_peak_kib": base_peak,
            "old_way_rows_per_s": old_rps, "old_way_sample": sample.len(),
        }))
    }
}
