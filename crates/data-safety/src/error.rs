//! Every way a backup operation can fail, each message saying what to do about it.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] db_conn::DbError),
    #[error("database error while {context}: {source}")]
    Query {
        context: String,
        source: diesel::result::Error,
    },
    #[error(transparent)]
    Migration(#[from] migration_engine::MigrateError),
    #[error("`{tool}` is not installed or not on PATH ({reason}): install the PostgreSQL client tools of the server's major version (Debian/Ubuntu: apt-get install postgresql-client-{server_major}) and put them first on PATH")]
    ToolMissing {
        tool: &'static str,
        reason: String,
        server_major: u32,
    },
    #[error("`{tool}` is version {tool_major} but the server runs PostgreSQL {server_major}: an older {tool} cannot dump a newer server completely; install the version-{server_major} client tools (Debian/Ubuntu: apt-get install postgresql-client-{server_major}) and put them first on PATH")]
    ToolTooOld {
        tool: &'static str,
        tool_major: u32,
        server_major: u32,
    },
    #[error("{tool} failed: {message}")]
    Tool { tool: &'static str, message: String },
    #[error("no backup `{reference}` in {dir}: `backup list` shows the ids, or give the path of a backup folder")]
    NotFound { reference: String, dir: String },
    #[error("{path} is not a usable backup: {reason}; use another backup (`backup list`)")]
    BadManifest { path: String, reason: String },
    #[error(
        "backup {id} is damaged: {what}; do not restore it, use another backup (`backup list`)"
    )]
    Damaged { id: String, what: String },
    #[error("backup {id} does not verify: {}; do not restore it, use another backup (`backup list`)", .differences.join("; "))]
    Mismatch {
        id: String,
        differences: Vec<String>,
    },
    #[error("backup {id} was taken at migration(s) {} that this code does not know (its newest migration is {head}): restore it with the release that has those migrations, or deploy that release first", .unknown.join(", "))]
    NewerThanCode {
        id: String,
        unknown: Vec<String>,
        head: String,
    },
    #[error("backup {id} is a PostgreSQL dump: verifying or restoring it needs a PostgreSQL server for the scratch database; pass --database-url postgres://...")]
    NeedsPostgres { id: String },
    #[error("backup {id} is a {backup} backup and the database is {target}: a snapshot restores only into its own backend; move data between backends with `export` and `import` (or `transfer`)")]
    BackendMismatch {
        id: String,
        backup: &'static str,
        target: &'static str,
    },
    #[error("the {what} database has pending migrations ({}): apply them first (`backend migrate` or `cargo xtask apply`)", .pending.join(", "))]
    Pending {
        what: &'static str,
        pending: Vec<String>,
    },
    #[error("the export in {dir} was taken at migration {export_head} and the database is at {target_head}: migrate the database to the export's version (`cargo xtask apply --to {export_head}`) or export again from a database at {target_head}")]
    VersionMismatch {
        dir: String,
        export_head: String,
        target_head: String,
    },
    #[error("the database is not empty: {table} has {rows} row(s); import into a freshly migrated database (e.g. a new PostgreSQL database, or a new SQLite file), or restore a backup instead")]
    NotEmpty { table: String, rows: i64 },
    #[error("{path} line {line}: {reason}; the export is damaged or was edited: export again")]
    BadExport {
        path: String,
        line: u64,
        reason: String,
    },
    #[error("backup {id} is encrypted: pass --identity FILE (or set BACKUP_IDENTITY) naming the age identity file whose public key it was encrypted to")]
    NeedsIdentity { id: String },
    #[error("backup {id} is encrypted to {recipients}, and no key in {file} opens it: pass the identity file of one of those public keys; nothing was changed")]
    WrongKey {
        id: String,
        file: String,
        recipients: String,
    },
    #[error("{0}")]
    Refused(String),
}

impl BackupError {
    /// The path is written only when there is an error: callers build this on every write.
    pub fn io<'a>(
        action: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(std::io::Error) -> Self + 'a {
        move |source| Self::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }

    pub fn query(context: impl Into<String>) -> impl FnOnce(diesel::result::Error) -> Self {
        let context = context.into();
        move |source| Self::Query { context, source }
    }
}
