//! `cargo xtask verify-deploy`: did a deploy keep the data? Reads `/health/data` from the
//! running service (bearer token from `API_TOKEN`) and compares it with a report saved before
//! the deploy (`--save` writes one): every table's row count must be at least what it was,
//! `has_data` must not turn false, storage must be persistent and no migration pending.
//! With `--expect-new-instance` it first waits until a different process answers than the
//! one in the saved report, so it checks the new deployment rather than the old one.
//!
//! ```sh
//! cargo xtask verify-deploy --url "$APP_URL" --save backups/health_data_before.json
//! # ... deploy ...
//! cargo xtask verify-deploy --url "$APP_URL" --before backups/health_data_before.json --expect-new-instance
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use backend::api::DataHealth;
use backend::instance::Instance;
use xshell::Shell;

use crate::Ctx;

#[derive(clap::Args)]
pub struct VerifyDeploy {
    /// Base URL of the running service, e.g. https://personalfinance.up.railway.app
    #[arg(long, env = "APP_URL")]
    pub url: String,
    /// A /health/data report saved earlier (by --save): fail if any count dropped
    #[arg(long, value_name = "FILE")]
    pub before: Option<PathBuf>,
    /// Save the /health/data report to FILE (before a deploy)
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Wait until another process than the one recorded in --before answers
    #[arg(long, requires = "before")]
    pub expect_new_instance: bool,
    /// How long to keep asking (the service may be restarting), in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub wait: u64,
    #[arg(skip = Duration::from_secs(5))]
    pub poll_every: Duration,
}

impl VerifyDeploy {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            bail!("--url (APP_URL) must be the service's base URL, e.g. https://personalfinance.up.railway.app; got `{}`", db_conn::redact_url(&self.url));
        }
        let token = std::env::var("API_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .context("API_TOKEN is not set: /health/data needs the service's bearer token (in CI: the API_TOKEN secret)")?;
        let shown = db_conn::redact_url(self.url.trim_end_matches('/'))
            .trim_end_matches('/')
            .to_owned();
        let before = match &self.before {
            Some(path) => Some(read_report(path)?),
            None => None,
        };
        let previous_instance = before
            .as_ref()
            .filter(|_| self.expect_new_instance)
            .map(|b| b.instance.clone());
        let report = ctx.report.step(&format!("GET {shown}/health/data"), |r| {
            let report = self.fetch(&token, previous_instance.as_ref())?;
            r.say(&format!(
                "    {} rows, has_data {}, storage: {}",
                report.total_rows, report.has_data, report.storage.reason
            ));
            Ok(report)
        })?;
        ctx.report.set("report", &report);
        if let Some(path) = &self.save {
            ctx.report.step(&format!("save {}", path.display()), |_| {
                save_report(path, &report)
            })?;
        }
        let mut problems = health_problems(&report);
        if let Some(before) = &before {
            problems.extend(compare(before, &report));
            for line in count_changes(before, &report) {
                ctx.report.say(&format!("    {line}"));
            }
        }
        ctx.report.set("problems", &problems);
        if !problems.is_empty() {
            bail!("{shown}: {}", problems.join("; "));
        }
        ctx.report.say(match &before {
            Some(_) => {
                "verify-deploy: no table lost rows; storage persistent; no migration pending"
            }
            None => "verify-deploy: storage persistent; no migration pending",
        });
        Ok(())
    }

    /// Polls `/health/data` until it answers (and, when asked, from a new instance).
    fn fetch(
        &self,
        token: &str,
        previous_instance: Option<&Instance>,
    ) -> anyhow::Result<DataHealth> {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build(),
        );
        let url = format!("{}/health/data", self.url.trim_end_matches('/'));
        let deadline = Instant::now() + Duration::from_secs(self.wait);
        loop {
            let last;
            match agent
                .get(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .call()
            {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let body = response.body_mut().read_to_string().unwrap_or_default();
                    match status {
                        200 => {
                            let report: DataHealth = serde_json::from_str(&body).with_context(|| {
                                format!("/health/data answered 200 with something that is not its report (is APP_URL this service?): {}", first_line(&body))
                            })?;
                            match previous_instance {
                                Some(old) if report.instance == *old => {
                                    last = format!(
                                        "the instance that answered before the deploy (started {:?}) still answers",
                                        report.instance.started_at
                                    );
                                }
                                _ => return Ok(report),
                            }
                        }
                        401 | 403 => bail!(
                            "/health/data refused the token ({status}): API_TOKEN must be the service's API_TOKEN"
                        ),
                        _ => last = format!("HTTP {status}: {}", first_line(&body)),
                    }
                }
                Err(e) => last = e.to_string(),
            }
            if Instant::now() + self.poll_every > deadline {
                bail!(
                    "no usable answer from /health/data within {}s; last: {last}{}",
                    self.wait,
                    if previous_instance.is_some() {
                        " (did the deploy fail? check the platform's deploy logs)"
                    } else {
                        ""
                    }
                );
            }
            std::thread::sleep(self.poll_every);
        }
    }
}

fn first_line(body: &str) -> String {
    body.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

fn read_report(path: &Path) -> anyhow::Result<DataHealth> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {}: save one before deploying with --save",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a /health/data report (save one with --save)",
            path.display()
        )
    })
}

/// Written to a temporary name and renamed, so a killed run leaves no half report.
fn save_report(path: &Path, report: &DataHealth) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let text = serde_json::to_string_pretty(report)? + "\n";
    safe_fs::write_atomic(path, text.as_bytes(), safe_fs::Access::Private)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// What is wrong with one report on its own.
pub fn health_problems(report: &DataHealth) -> Vec<String> {
    let mut problems = Vec::new();
    if !report.storage.persistent {
        problems.push(format!(
            "storage is not persistent: {}",
            report.storage.reason
        ));
    }
    if !report.migrations.pending.is_empty() {
        problems.push(format!(
            "{} migration(s) pending",
            report.migrations.pending.len()
        ));
    }
    problems
}

/// Row counts that dropped, tables that vanished, data that disappeared.
pub fn compare(before: &DataHealth, after: &DataHealth) -> Vec<String> {
    let mut problems = Vec::new();
    if before.has_data && !after.has_data {
        problems.push("has_data went from true to false".to_owned());
    }
    for (table, was) in &before.tables {
        match after.tables.get(table) {
            None => problems.push(format!("table {table} is gone (had {was} rows)")),
            Some(is) if is < was => problems.push(format!("{table}: {was} -> {is} rows")),
            Some(_) => {}
        }
    }
    problems
}

/// One line per table whose count changed, for the log.
fn count_changes(before: &DataHealth, after: &DataHealth) -> Vec<String> {
    let shown = |n: Option<&i64>| n.map_or("-".to_owned(), i64::to_string);
    let tables: std::collections::BTreeSet<&String> =
        before.tables.keys().chain(after.tables.keys()).collect();
    tables
        .into_iter()
        .filter_map(|table| {
            let (old, new) = (before.tables.get(table), after.tables.get(table));
            (old != new).then(|| format!("{table}: {} -> {}", shown(old), shown(new)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use super::*;

    /// A report as the service writes it, parsed into the type (so the wire format is tested).
    fn report(counts: &[(&str, i64)], has_data: bool, started: &str) -> DataHealth {
        let tables: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(t, n)| (t.to_string(), json!(n)))
            .collect();
        serde_json::from_value(json!({
            "status": "ok",
            "storage": {"backend": "sqlite", "location": "/app/data/personalfinance.db", "persistent": true, "reason": "on the volume"},
            "tables": tables,
            "total_rows": counts.iter().map(|(_, n)| n).sum::<i64>(),
            "has_data": has_data,
            "migrations": {"applied": ["1"], "pending": []},
            "instance": {"started_at": started, "pid": 1, "version": "0.1.0", "deployment_id": null},
            "last_verified_backup": null,
        }))
        .unwrap()
    }

    #[test]
    fn dropped_counts_and_lost_data_are_named() {
        let before = report(&[("fund_info", 3), ("system_config", 3)], true, "a");
        assert!(compare(
            &before,
            &report(&[("fund_info", 4), ("system_config", 3)], true, "b")
        )
        .is_empty());
        let wiped = report(&[("fund_info", 0), ("system_config", 3)], false, "b");
        assert_eq!(
            compare(&before, &wiped),
            vec!["has_data went from true to false", "fund_info: 3 -> 0 rows"]
        );
        let gone = report(&[("system_config", 3)], true, "b");
        assert_eq!(
            compare(&before, &gone),
            vec!["table fund_info is gone (had 3 rows)"]
        );
        let mut ephemeral = report(&[], false, "b");
        ephemeral.storage.persistent = false;
        ephemeral.migrations.pending = vec!["20240101000000".into()];
        assert_eq!(health_problems(&ephemeral).len(), 2);
    }

    /// Serves the given (status, body) answers in order on loopback, recording each request's
    /// Authorization header; the last answer repeats.
    fn serve(answers: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut auth = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("authorization:") {
                        auth = v.trim().to_owned();
                    }
                }
                log.lock().unwrap().push(auth);
                let (status, body) = &answers[i.min(answers.len() - 1)];
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, seen)
    }

    fn command(
        url: &str,
        before: Option<PathBuf>,
        save: Option<PathBuf>,
        expect_new: bool,
    ) -> VerifyDeploy {
        VerifyDeploy {
            url: url.to_owned(),
            before,
            save,
            expect_new_instance: expect_new,
            wait: 5,
            poll_every: Duration::from_millis(20),
        }
    }

    fn run(cmd: &VerifyDeploy) -> anyhow::Result<()> {
        let sh = Shell::new().unwrap();
        let layout = crate::layout::Layout::from_args(None, None, None).expect("layout");
        let mut ctx = Ctx::new(None, layout, "verify-deploy", crate::report::Output::Text);
        cmd.run(&sh, &mut ctx)
    }

    // One test for everything that needs API_TOKEN in the environment (tests run in threads).
    #[test]
    fn save_then_verify_over_http() {
        std::env::set_var("API_TOKEN", "test-token-0123456789abcdef");
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("backups").join("health_data_before.json");

        let old = serde_json::to_string(&report(
            &[("fund_info", 3), ("system_config", 3)],
            true,
            "old",
        ))
        .unwrap();
        let (url, seen) = serve(vec![(200, old.clone())]);
        run(&command(&url, None, Some(saved.clone()), false)).unwrap();
        assert_eq!(read_report(&saved).unwrap().tables["fund_info"], 3);
        assert_eq!(
            seen.lock().unwrap()[0],
            "bearer test-token-0123456789abcdef"
        );

        // The old instance answers twice (still draining), then the new one with every row.
        let new = serde_json::to_string(&report(
            &[("fund_info", 5), ("system_config", 3)],
            true,
            "new",
        ))
        .unwrap();
        let (url, seen) = serve(vec![
            (502, "bad gateway".into()),
            (200, old.clone()),
            (200, new),
        ]);
        run(&command(&url, Some(saved.clone()), None, true)).unwrap();
        assert_eq!(seen.lock().unwrap().len(), 3);

        // The new instance lost the data: a one-line reason naming the table.
        let wiped = serde_json::to_string(&report(
            &[("fund_info", 0), ("system_config", 3)],
            false,
            "new",
        ))
        .unwrap();
        let (url, _) = serve(vec![(200, wiped)]);
        let err = run(&command(&url, Some(saved.clone()), None, true))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fund_info: 3 -> 0 rows") && !err.contains('\n'),
            "{err}"
        );

        // The old instance never goes away: the deploy did not take.
        let (url, _) = serve(vec![(200, old)]);
        let err = run(&command(&url, Some(saved), None, true))
            .unwrap_err()
            .to_string();
        assert!(err.contains("still answers"), "{err}");

        // A refused token fails at once, without waiting out the deadline.
        let (url, seen) = serve(vec![(401, r#"{"error":{}}"#.into())]);
        let err = run(&command(&url, None, None, false))
            .unwrap_err()
            .to_string();
        assert!(err.contains("refused the token"), "{err}");
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
}
