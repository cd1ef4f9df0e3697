//! TEST-ONLY pause points, so a test can SIGKILL a backup or restore at a chosen moment
//! without sleeping. With `PF_TEST_PAUSE_AT=<point>` and `PF_TEST_PAUSE_FILE=<path>` set, the
//! process reaching `<point>` creates `<path>.reached` and waits until `<path>` exists. Unset
//! (always, outside tests) this does nothing. Points: `backup-after-snapshot` (snapshot and
//! manifest written in the temporary folder, before the rename), `restore-before-swap`
//! (SQLite: the verified copy is beside the database, before the rename),
//! `restore-before-commit` (inside the restore transaction, everything replaced, not committed).

use std::path::PathBuf;
use std::time::Duration;

pub const AT_VAR: &str = "PF_TEST_PAUSE_AT";
pub const FILE_VAR: &str = "PF_TEST_PAUSE_FILE";

pub fn pause(point: &str) {
    if std::env::var(AT_VAR).ok().as_deref() != Some(point) {
        return;
    }
    let Some(file) = std::env::var_os(FILE_VAR).map(PathBuf::from) else {
        return;
    };
    let mut reached = file.clone().into_os_string();
    reached.push(".reached");
    let _ = std::fs::write(&reached, point);
    while !file.exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
}
