//! How every command talks to people and machines: step markers with results and times,
//! progress bars on long work, `--json` for machines, and GitHub Actions groups plus a step
//! summary when `GITHUB_ACTIONS` is set. Human text goes to stdout, or to stderr under
//! `--json` so that stdout holds exactly one JSON document.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Map, Value};

/// Who reads stdout: people (text), or machines (`--json`: one JSON document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

pub struct Reporter {
    json: bool,
    github: bool,
    command: String,
    steps: Vec<Value>,
    data: Map<String, Value>,
    summary: Vec<String>,
}

impl Reporter {
    pub fn new(command: &str, output: Output) -> Self {
        Self {
            json: output == Output::Json,
            github: std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true"),
            command: command.to_owned(),
            steps: Vec::new(),
            data: Map::new(),
            summary: Vec::new(),
        }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Runs one named step: marks its start, then its result and duration.
    pub fn step<T>(
        &mut self,
        name: &str,
        work: impl FnOnce(&mut Self) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        if self.github {
            self.say(&format!("::group::{name}"));
        }
        self.say(&format!("==> {name}"));
        let started = Instant::now();
        let result = work(self);
        let took = started.elapsed();
        let (ok, error) = match &result {
            Ok(_) => (true, None),
            Err(e) => (false, Some(db_conn::redact_urls_in(&format!("{e:#}")))),
        };
        match &error {
            None => self.say(&format!("    ok ({})", human(took))),
            Some(e) => self.say(&format!("    FAILED ({}): {e}", human(took))),
        }
        if self.github {
            self.say("::endgroup::");
        }
        self.summary.push(format!(
            "| {} | {name} | {} |",
            if ok { "✅" } else { "❌" },
            human(took)
        ));
        self.steps
            .push(json!({"name": name, "ok": ok, "seconds": took.as_secs_f64(), "error": error}));
        result
    }

    /// A line of human output (not part of the JSON document).
    pub fn say(&self, line: &str) {
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = if self.json {
            writeln!(std::io::stderr(), "{line}")
        } else {
            writeln!(std::io::stdout(), "{line}")
        };
    }

    /// Raw text for stdout (e.g. a SQL script); suppressed under `--json`.
    pub fn print(&self, text: &str) {
        if !self.json {
            let _ = write!(std::io::stdout(), "{text}");
        }
    }

    /// Records a field of the machine-readable result.
    pub fn set(&mut self, key: &str, value: impl Serialize) {
        let value =
            serde_json::to_value(value).unwrap_or_else(|e| json!(format!("unserializable: {e}")));
        self.data.insert(key.to_owned(), value);
    }

    /// A progress bar for `len` units of work, drawn only for a person at a terminal.
    pub fn progress(&self, len: u64, message: &str) -> indicatif::ProgressBar {
        let visible = !self.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bar = if visible {
            indicatif::ProgressBar::new(len)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("    {msg} [{bar:30}] {pos}/{len} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(message.to_owned());
        bar
    }

    /// Ends the command: the JSON document (under `--json`) and the Actions step summary.
    pub fn finish(self, outcome: &anyhow::Result<()>) {
        let error = outcome
            .as_ref()
            .err()
            .map(|e| db_conn::redact_urls_in(&format!("{e:#}")));
        if self.json {
            let mut doc = Map::new();
            doc.insert("command".into(), json!(self.command));
            doc.insert("ok".into(), json!(error.is_none()));
            doc.insert("error".into(), json!(error));
            doc.insert("steps".into(), Value::Array(self.steps));
            doc.extend(self.data);
            let _ = writeln!(std::io::stdout(), "{}", Value::Object(doc));
        }
        if self.github {
            if let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") {
                let mut text = format!(
                    "### cargo xtask {}: {}\n\n| | step | time |\n|---|---|---|\n",
                    self.command,
                    if error.is_none() { "ok" } else { "FAILED" }
                );
                for line in &self.summary {
                    text.push_str(line);
                    text.push('\n');
                }
                if let Some(e) = &error {
                    text.push_str(&format!("\n**Error:** {e}\n"));
                }
                let appended = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(format!("{text}\n").as_bytes()));
                if let Err(e) = appended {
                    eprintln!("warning: cannot append to GITHUB_STEP_SUMMARY {path}: {e}");
                }
            }
        }
    }
}

fn human(d: Duration) -> String {
    if d.as_secs() >= 60 {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    } else if d.as_millis() >= 1000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}
