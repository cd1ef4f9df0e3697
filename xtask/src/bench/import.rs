//! `cargo xtask bench import`: a generated IBKR Flex statement of `--trades` trades imported
//! into a fresh SQLite database, each run in a child process of its own so its peak memory
//! (VmHWM from /proc/self/status) is the import's alone. Reports rows per second (median of
//! `--runs`), the re-import of the same file (every row skipped), and the peak memory of a
//! statement a tenth the size, to show memory is flat in the file's size. Use a release build
//! for real figures: `cargo run --release -p xtask -- bench import`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use db_conn::DatabaseTarget;
use serde_json::{json, Value};
use xshell::Shell;

use super::migrate::median;
use super::peak_kib;
use crate::Ctx;

#[derive(clap::Args)]
pub struct BenchImport {
    /// Trades in the large statement (the small one has a tenth)
    #[arg(long, default_value_t = 100_000)]
    pub trades: u64,
    /// Repetitions (medians are reported)
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    #[arg(long, hide = true)]
    pub child_file: Option<PathBuf>,
    #[arg(long, hide = true)]
    pub child_db: Option<PathBuf>,
}

/// Writes a Flex statement of `trades` trades (and a few positions and cash rows) to `path`.
fn generate(path: &Path, trades: u64) -> anyhow::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<FlexQueryResponse queryName="bench" type="AF"><FlexStatements count="1">"#
    )?;
    writeln!(
        out,
        r#"<FlexStatement accountId="U1000001" fromDate="20240101" toDate="20241231" period="Year" whenGenerated="20250101;010101">"#
    )?;
    writeln!(out, "<CashReport>")?;
    for ccy in ["USD", "EUR", "CHF"] {
        writeln!(
            out,
            r#"<CashReportCurrency accountId="U1000001" currency="{ccy}" levelOfDetail="Currency" fromDate="20240101" toDate="20241231" startingCash="1000" endingCash="1234.56" endingSettledCash="1234.56" />"#
        )?;
    }
    writeln!(out, "</CashReport><OpenPositions>")?;
    for i in 0..20 {
        writeln!(
            out,
            r#"<OpenPosition accountId="U1000001" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="SYM{i}" description="COMPANY {i}" conid="{}" reportDate="20241231" position="{}" markPrice="181.18" positionValue="1811.8" costBasisPrice="150.123456" levelOfDetail="SUMMARY" />"#,
            100_000 + i,
            10 + i
        )?;
    }
    writeln!(out, "</OpenPositions><Trades>")?;
    for i in 0..trades {
        let (side, qty, proceeds) = if i % 3 == 0 {
            ("SELL", "-7", "1289.75")
        } else {
            ("BUY", "10", "-1842.5")
        };
        let day = 1 + i % 28;
        writeln!(
            out,
            r#"<Trade accountId="U1000001" acctAlias="" model="" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="SYM{}" description="COMPANY {}" conid="{}" securityID="US0378331005" securityIDType="ISIN" listingExchange="NASDAQ" tradeID="{}" reportDate="202401{day:02}" tradeDate="202401{day:02}" tradeTime="093012" dateTime="202401{day:02};093012" settleDateTarget="202401{day:02}" transactionType="ExchTrade" exchange="ISLAND" quantity="{qty}" tradePrice="184.25" tradeMoney="1842.5" proceeds="{proceeds}" taxes="0" ibCommission="-1.0{}" ibCommissionCurrency="USD" netCash="-1843.5" closePrice="184.25" openCloseIndicator="O" notesAndCodes="O" cost="1843.5" fifoPnlRealized="0" mtmPnl="0" buySell="{side}" transactionID="{}" ibOrderID="{}" ibExecID="0000e0d5.65953a2b.01.01" orderTime="202401{day:02};093011" levelOfDetail="EXECUTION" orderType="LMT" />"#,
            i % 20,
            i % 20,
            100_000 + i % 20,
            700_000_000 + i,
            i % 10,
            2_300_000_000 + i,
            500_000_000 + i
        )?;
    }
    writeln!(
        out,
        "</Trades></FlexStatement></FlexStatements></FlexQueryResponse>"
    )?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The child: imports `file` into `db` (already migrated), prints seconds, rows and VmHWM.
fn child(file: &Path, db: &Path) -> anyhow::Result<()> {
    let mut conn = db_conn::establish(&DatabaseTarget::sqlite(db))?;
    let input = std::io::BufReader::new(std::fs::File::open(file)?);
    let started = Instant::now();
    let report = imports::import(&mut conn, imports::Source::Ibkr, input)?;
    let seconds = started.elapsed().as_secs_f64();
    let out = json!({
        "seconds": seconds,
        "rows": report.added + report.updated + report.skipped,
        "added": report.added,
        "skipped": report.skipped,
        "peak_kib": peak_kib(),
    });
    println!("{out}");
    Ok(())
}

fn in_child(file: &Path, db: &Path) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let out = std::process::Command::new(me)
        .args(["bench", "import", "--child-file"])
        .arg(file)
        .arg("--child-db")
        .arg(db)
        .env_remove("GITHUB_ACTIONS")
        .output()?;
    if !out.status.success() {
        bail!(
            "the import child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the import child said {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Median seconds, rows and the largest peak of `runs` fresh imports, and of their re-imports.
struct Figures {
    import: Duration,
    reimport: Duration,
    rows: u64,
    peak_kib: u64,
}

fn measure(dir: &Path, file: &Path, runs: usize, name: &str) -> anyhow::Result<Figures> {
    let (mut first, mut again, mut rows, mut peak) = (Vec::new(), Vec::new(), 0, 0);
    for run in 0..runs {
        let db = dir.join(format!("{name}-{run}.db"));
        {
            let mut conn = db_conn::establish(&DatabaseTarget::sqlite(db.clone()))?;
            pf_data::migrations::run_pending(&mut conn)?;
        }
        for (samples, pass) in [(&mut first, "added"), (&mut again, "skipped")] {
            let v = in_child(file, &db)?;
            rows = v["rows"].as_u64().unwrap_or(0);
            anyhow::ensure!(
                v[pass].as_u64() == Some(rows),
                "expected every row {pass}: {v}"
            );
            samples.push(Duration::from_secs_f64(
                v["seconds"].as_f64().unwrap_or(0.0),
            ));
            peak = peak.max(v["peak_kib"].as_u64().unwrap_or(0));
        }
    }
    Ok(Figures {
        import: median(first),
        reimport: median(again),
        rows,
        peak_kib: peak,
    })
}

impl BenchImport {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        if let (Some(file), Some(db)) = (&self.child_file, &self.child_db) {
            return child(file, db);
        }
        anyhow::ensure!(self.runs > 0, "--runs must be at least 1");
        let dir = tempfile::tempdir()?;
        let mut results = Vec::new();
        for trades in [self.trades / 10, self.trades] {
            let file = dir.path().join(format!("flex-{trades}.xml"));
            let bytes = generate(&file, trades)?;
            let f = measure(dir.path(), &file, self.runs, &format!("t{trades}"))?;
            let rate = |d: Duration| f.rows as f64 / d.as_secs_f64().max(1e-9);
            ctx.report.say(&format!(
                "    {trades} trades ({:.1} MB, {} rows): import {:.2} s = {:.0} rows/s, re-import (all skipped) {:.2} s = {:.0} rows/s, peak memory {:.1} MiB (medians of {})",
                bytes as f64 / 1e6, f.rows, f.import.as_secs_f64(), rate(f.import),
                f.reimport.as_secs_f64(), rate(f.reimport), f.peak_kib as f64 / 1024.0, self.runs
            ));
            results.push(json!({
                "trades": trades, "bytes": bytes, "rows": f.rows,
                "import_seconds": f.import.as_secs_f64(), "import_rows_per_second": rate(f.import),
                "reimport_seconds": f.reimport.as_secs_f64(), "reimport_rows_per_second": rate(f.reimport),
                "peak_kib": f.peak_kib,
            }));
        }
        let (small, large) = (&results[0]["peak_kib"], &results[1]["peak_kib"]);
        let ratio = large.as_f64().unwrap_or(0.0) / small.as_f64().unwrap_or(1.0).max(1.0);
        ctx.report.say(&format!(
            "    peak memory, {}x the trades: {ratio:.2}x the memory",
            self.trades / (self.trades / 10).max(1)
        ));
        ctx.report.set(
            "bench_import",
            json!({"sizes": results, "peak_ratio": ratio}),
        );
        Ok(())
    }
}
