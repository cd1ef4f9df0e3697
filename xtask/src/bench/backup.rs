//! `cargo xtask bench backup`: backup, verify and restore against the engines' own tools
//! (`sqlite3 .backup` / `.restore`; `pg_dump -Fc` / `pg_restore`) in the same run, on a
//! database of `--rows` rows (each of a list of sizes) spread over every table; export and import rows per second and
//! peak memory (each measured in a child process of its own: VmHWM from /proc/self/status);
//! and the old way for contrast: re-POSTing rows one by one over HTTP, on a sample. Medians of
//! `--runs`; ratios printed. Run it on a release build for meaningful figures:
//! `cargo run --release -p xtask -- bench backup`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use data_safety::export;
use db_conn::DatabaseTarget;
use db_conn::DbConnection;
use diesel::connection::Connection;
use pf_data::models::visit_all;
use pf_data::resource::{FieldKind, Resource, ResourceVisitor};
use serde_json::{json, Value};
use xshell::Shell;

use super::peak_kib;
use crate::Ctx;
use measure::{fresh, in_child, RunEnv, Samples};

mod measure;
mod summary;

#[derive(clap::Args)]
pub struct BenchBackup {
    /// Rows in the benchmark database, spread over every table: each size of the list in turn
    #[arg(long, value_delimiter = ',', default_values_t = [100_000, 1_000_000])]
    pub rows: Vec<u64>,
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
    fields: &[pf_data::resource::FieldSpec],
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
        let null = f.nullable && id.is_multiple_of(5);
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
                    FieldKind::Bool => json!(id.is_multiple_of(2)),
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

/// Migrates `source` and fills it with `rows` rows spread over every table.
fn fill(
    r: &mut crate::report::Reporter,
    b: &str,
    source: &DatabaseTarget,
    rows: u64,
) -> anyhow::Result<()> {
    let plan = plan(rows);
    let mut conn = db_conn::establish(source)?;
    pf_data::migrations::run_pending(&mut conn)?;
    let bar = r.progress(rows, &format!("{b}: generate"));
    let started = Instant::now();
    generate(&mut conn, &plan, &bar)?;
    bar.finish_and_clear();
    r.say(&format!(
        "    generated {rows} rows in {} tables in {:.1} s",
        plan.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The old way: every row re-POSTed on its own over HTTP to a service on a fresh database.
fn old_way(rows: &[Value], dest: &DatabaseTarget) -> anyhow::Result<Duration> {
    const TOKEN: &str = "bench-token-0123456789abcdef";
    {
        let mut conn = db_conn::establish(dest)?;
        pf_data::migrations::run_pending(&mut conn)?;
    }
    let pool = db_conn::pool(dest)?;
    let auth =
        backend::api::Auth::from_token(Some(TOKEN.into()), backend::api::TokenRule::Required)?;
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
        anyhow::ensure!(
            !self.rows.is_empty() && self.rows.iter().all(|&n| n > 0),
            "--rows needs one or more sizes above 0, e.g. --rows 100000,1000000"
        );
        let mut results = Vec::new();
        for &rows in &self.rows {
            for &b in &backends {
                let result = ctx.report.step(&format!("{b}: {rows} rows"), |r| {
                    self.one(sh, r, b, server.as_ref(), rows)
                })?;
                results.push(result);
            }
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

    /// Every measurement on one backend: the median figures printed, and returned as JSON.
    fn one(
        &self,
        sh: &Shell,
        r: &mut crate::report::Reporter,
        b: &str,
        server: Option<&DatabaseTarget>,
        rows: u64,
    ) -> anyhow::Result<Value> {
        let work = tempfile::tempdir()?;
        let (source, _source_guard) = fresh(b, server, work.path(), "source")?;
        fill(r, b, &source, rows)?;
        let mut samples = Samples::default();
        for run in 0..self.runs {
            let dir = work.path().join(format!("run{run}"));
            std::fs::create_dir_all(&dir)?;
            let env = RunEnv {
                sh,
                backend: b,
                server,
                source: &source,
                dir: &dir,
            };
            env.measure(&mut samples)?;
            std::fs::remove_dir_all(&dir)?;
        }
        let (_, base_peak) = in_child(&source, "noop", work.path())?;
        // The old way, on a sample.
        let old = self.old_way_sample(b, server, &source, work.path())?;
        let total = rows + 3; // + the seeded system_config rows
        Ok(summary::summarize(
            r, b, total, self.runs, samples, base_peak, old,
        ))
    }

    /// The old way on `--http-sample` rows of `source`: (rows per second, rows sent).
    fn old_way_sample(
        &self,
        b: &str,
        server: Option<&DatabaseTarget>,
        source: &DatabaseTarget,
        work: &Path,
    ) -> anyhow::Result<(f64, usize)> {
        let sample: Vec<Value> = {
            let mut conn = db_conn::establish(source)?;
            let page =
                pf_data::models::AssetSnapshot::page_after(&mut conn, 0, self.http_sample as i64)?;
            page.iter()
                .map(|row| serde_json::to_value(row).expect("json"))
                .collect()
        };
        let (old_dest, _g) = fresh(b, server, work, "old")?;
        let old = old_way(&sample, &old_dest).context("the old way")?;
        Ok((sample.len() as f64 / old.as_secs_f64(), sample.len()))
    }
}
