//! Statement imports and provider syncs: one row per run, whatever its outcome.

use chrono::NaiveDateTime;

use crate::resource::resource;

resource! {
    /// One import or sync run: what it read, what it changed, or why it was refused.
    ImportRun, NewImportRun => import_runs,
    time: started_at: NaiveDateTime,
    fields {
        source: String,
        file_sha256: Option<String>,
        started_at: NaiveDateTime,
        finished_at: Option<NaiveDateTime>,
        status: String,
        added: i32,
        updated: i32,
        skipped: i32,
        error: Option<String>,
    }
}
