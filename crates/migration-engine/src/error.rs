//! Every way migrating can fail, each saying what to do next.

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{folder} has no up.sql: diesel refuses such a folder; add the file or remove the folder"
    )]
    MissingUpSql { folder: String },
    #[error("no migration matches `{given}`: run `cargo xtask history` to see the versions")]
    NoSuchVersion { given: String },
    #[error("migration {folder} was edited after it was applied: the database recorded checksum {recorded}, {path} now has {current}. Restore the file as it was applied (e.g. `git checkout -- {path}`) and put the change in a new migration (`cargo xtask create`)")]
    Edited {
        folder: String,
        path: String,
        recorded: String,
        current: String,
    },
    #[error("the database has applied migration(s) {versions} that this code does not have: deploy the code that has them, or if they are truly gone remove their rows with `cargo xtask stamp head --prune`")]
    Unknown { versions: String },
    #[error("pending migration(s) {folders} are older than the newest applied one ({newest}); diesel would run them silently out of order. Give them newer versions (recreate with `cargo xtask create`) or apply them deliberately with `cargo xtask apply --allow-out-of-order`")]
    OutOfOrder { folders: String, newest: String },
    #[error("another migrator holds the migration lock ({holder}) and kept it past the {seconds}s deadline: wait for it to finish, or stop it and retry (a killed holder releases the lock)")]
    LockTimeout { holder: String, seconds: u64 },
    #[error("migration {folder} failed and was rolled back: {message}. Migrations before it stay applied; fix the SQL and apply again")]
    Failed { folder: String, message: String },
    #[error("migration {folder} has no down.sql, so it cannot be reverted: write one, or restore a backup instead")]
    NoDown { folder: String },
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    BehindBaseline(String),
    #[error("cannot build a scratch database: {0}")]
    Scratch(String),
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}
