//! Pause points for the kill tests: a test stops a backup, restore or consolidation at a
//! chosen moment, SIGKILLs it, and checks that nothing was lost — without sleeping.
//!
//! Compiled in only with the `fault-injection` feature, which the test suites turn on through
//! their dev-dependencies; in a release build [`pause`] is empty and no point's name exists in
//! the binary. With the feature, `PF_TEST_PAUSE_AT=<name>` and `PF_TEST_PAUSE_FILE=<path>`
//! make the process reaching that point create `<path>.reached` and wait until `<path>` exists.

/// Where a process can be stopped. Names (with the feature) are the variants in kebab case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// Snapshot and manifest written in the temporary folder, before the rename.
    BackupAfterSnapshot,
    /// An encrypted snapshot part written: plaintext is flowing through the encryption.
    BackupWhileEncrypting,
    /// SQLite: the verified copy is beside the database, before the rename.
    RestoreBeforeSwap,
    /// Inside the restore transaction, everything replaced, not committed.
    RestoreBeforeCommit,
    /// Consolidation: the migration files are backed up.
    AfterFilesBackup,
    /// Consolidation: the baseline is written in a scratch folder.
    AfterSquash,
    /// Consolidation: proven, before the trees are exchanged.
    BeforeExchange,
    /// Consolidation: the trees are exchanged, the database not yet stamped.
    AfterExchange,
    /// Consolidation: the database is stamped at the baseline.
    AfterStamp,
}

/// Stops here when a test asked for this point; does nothing otherwise.
#[inline]
pub fn pause(point: FaultPoint) {
    #[cfg(feature = "fault-injection")]
    armed::pause(point);
    #[cfg(not(feature = "fault-injection"))]
    let _ = point;
}

#[cfg(feature = "fault-injection")]
mod armed {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::FaultPoint;

    const AT_VAR: &str = "PF_TEST_PAUSE_AT";
    const FILE_VAR: &str = "PF_TEST_PAUSE_FILE";

    fn name(point: FaultPoint) -> &'static str {
        match point {
            FaultPoint::BackupAfterSnapshot => "backup-after-snapshot",
            FaultPoint::BackupWhileEncrypting => "backup-while-encrypting",
            FaultPoint::RestoreBeforeSwap => "restore-before-swap",
            FaultPoint::RestoreBeforeCommit => "restore-before-commit",
            FaultPoint::AfterFilesBackup => "after-files-backup",
            FaultPoint::AfterSquash => "after-squash",
            FaultPoint::BeforeExchange => "before-exchange",
            FaultPoint::AfterExchange => "after-exchange",
            FaultPoint::AfterStamp => "after-stamp",
        }
    }

    pub(super) fn pause(point: FaultPoint) {
        if std::env::var(AT_VAR).ok().as_deref() != Some(name(point)) {
            return;
        }
        let Some(file) = std::env::var_os(FILE_VAR).map(PathBuf::from) else {
            return;
        };
        let mut reached = file.clone().into_os_string();
        reached.push(".reached");
        let _ = std::fs::write(&reached, name(point));
        // The test creates the file once it has read `.reached`; then it kills us.
        while !file.exists() {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
