//! One run: the transaction around a source's writer, and the run's record (`import_runs`,
//! and `ibkr_sync_logs` for IBKR) written whatever the outcome.

use std::io::{BufRead, Read};

use diesel::Connection;
use sha2::{Digest, Sha256};

use db_conn::DbConnection;
use pf_data::models::{IbkrSyncLog, ImportRun, NewIbkrSyncLog, NewImportRun};
use pf_data::resource::Resource;

use crate::write::{now, Tally};
use crate::{ImportError, ImportReport, Source};

/// How a run ended, as `import_runs.status` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Ok,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
        }
    }
}

/// Whether a run read a file or a provider's API (`import_runs.source` and
/// `ibkr_sync_logs.sync_type` tell them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunKind {
    File,
    Sync,
}

/// What a run is about, before it starts.
pub(crate) struct RunSpec {
    pub(crate) source: Source,
    pub(crate) kind: RunKind,
}

impl RunSpec {
    fn label(&self) -> String {
        match self.kind {
            RunKind::File => self.source.name().to_owned(),
            RunKind::Sync => format!("{}-sync", self.source.name()),
        }
    }
}

/// What a writer hands back besides its counts.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// The first IBKR account the run touched (for `ibkr_sync_logs`).
    pub(crate) ibkr_account: Option<i64>,
}

/// Feeds every byte the parser consumes into a SHA-256, so streaming needs no second pass.
pub(crate) struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: BufRead> Read for Hashing<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Hashing<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // The bytes being consumed are still buffered: fill_buf returns them without reading.
        if let Ok(buffered) = self.inner.fill_buf() {
            self.hash.update(&buffered[..amount.min(buffered.len())]);
        }
        self.inner.consume(amount);
    }
}

fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs [`crate::import`]: IBKR streams through the hasher, the others are small and read whole.
pub(crate) fn record<R: BufRead>(
    conn: &mut DbConnection,
    source: Source,
    input: R,
) -> Result<ImportReport, ImportError> {
    let spec = RunSpec {
        source,
        kind: RunKind::File,
    };
    record_spec(conn, &spec, input)
}

/// [`record`] for a run of any kind (a sync's downloaded statement is imported as a file is).
pub(crate) fn record_spec<R: BufRead>(
    conn: &mut DbConnection,
    spec: &RunSpec,
    input: R,
) -> Result<ImportReport, ImportError> {
    let source = spec.source;
    let started = now();
    let mut reader = Hashing {
        inner: input,
        hash: Sha256::new(),
    };
    let outcome = match source {
        Source::Ibkr => in_transaction(conn, |conn, tally| {
            crate::ibkr::write(conn, tally, &mut reader)
        }),
        _ => {
            let mut bytes = Vec::new();
            match reader.read_to_end(&mut bytes) {
                Ok(_) => {
                    in_transaction(conn, |conn, tally| write_small(conn, tally, source, &bytes))
                }
                Err(e) => Err(ImportError::Read(e)),
            }
        }
    };
    let sha = hex(reader.hash.finalize());
    finish(conn, spec, Some(sha), started, outcome)
}

fn write_small(
    conn: &mut DbConnection,
    tally: &mut Tally,
    source: Source,
    bytes: &[u8],
) -> Result<Written, ImportError> {
    match source {
        Source::Wise => crate::wise::write_csv(conn, tally, bytes),
        Source::Okx => crate::okx::write_file(conn, tally, bytes),
        Source::Evm => crate::evm::write_file(conn, tally, bytes),
        Source::Ibkr => crate::ibkr::write(conn, tally, bytes),
    }
}

/// The writer inside one transaction (rolled back on any error, counts included).
pub(crate) fn in_transaction<F>(
    conn: &mut DbConnection,
    work: F,
) -> Result<(Tally, Written), ImportError>
where
    F: FnOnce(&mut DbConnection, &mut Tally) -> Result<Written, ImportError>,
{
    conn.transaction(|conn| {
        let mut tally = Tally::default();
        let written = work(conn, &mut tally)?;
        Ok((tally, written))
    })
}

/// Records the run (its own small transaction, after the work committed or rolled back) and
/// builds the report.
pub(crate) fn finish(
    conn: &mut DbConnection,
    spec: &RunSpec,
    sha: Option<String>,
    started: chrono::NaiveDateTime,
    outcome: Result<(Tally, Written), ImportError>,
) -> Result<ImportReport, ImportError> {
    let (tally, written, error) = match outcome {
        Ok((tally, written)) => (tally, written, None),
        Err(e) => (Tally::default(), Written::default(), Some(e)),
    };
    let total = tally.total();
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    let status = if error.is_some() {
        RunStatus::Failed
    } else {
        RunStatus::Ok
    };
    let finished = now();
    let run = NewImportRun {
        source: spec.label(),
        file_sha256: sha.clone(),
        started_at: started,
        finished_at: Some(finished),
        status: status.as_str().to_owned(),
        added: count(total.added),
        updated: count(total.updated),
        skipped: count(total.skipped),
        error: error.as_ref().map(ImportError::one_line),
    };
    let run_id = conn.transaction(|conn| {
        if spec.source == Source::Ibkr {
            let log = NewIbkrSyncLog {
                ibkr_account_id: written.ibkr_account,
                sync_type: match spec.kind {
                    RunKind::File => "statement_import".to_owned(),
                    RunKind::Sync => "flex_sync".to_owned(),
                },
                status: status.as_str().to_owned(),
                records_synced: count(total.added + total.updated + total.skipped),
                error_message: run.error.clone(),
                started_at: started,
                finished_at: Some(finished),
            };
            IbkrSyncLog::create(conn, &log)?;
        }
        ImportRun::create(conn, &run).map(|r| r.id)
    })?;
    if let Some(error) = error {
        tracing::warn!(source = %spec.label(), run_id, %error, "import refused");
        return Err(error);
    }
    tracing::info!(source = %spec.label(), run_id, added = total.added, updated = total.updated, skipped = total.skipped, "import done");
    Ok(ImportReport {
        source: spec.source.name().to_owned(),
        added: total.added,
        updated: total.updated,
        skipped: total.skipped,
        per_table: tally.per_table,
        run_id,
        file_sha256: sha.unwrap_or_default(),
    })
}

/// The newest `limit` runs, newest first.
pub fn latest_runs(conn: &mut DbConnection, limit: i64) -> diesel::QueryResult<Vec<ImportRun>> {
    use diesel::prelude::*;
    use pf_data::schema::import_runs::dsl as t;
    t::import_runs
        .select(ImportRun::as_select())
        .order((t::started_at.desc(), t::id.desc()))
        .limit(limit)
        .load(conn)
}
