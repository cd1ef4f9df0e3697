//! `pg_dump` and `pg_restore` through pipes, so a snapshot can be encrypted on its way out and
//! decrypted on its way in without a plaintext file: `pg_dump -Fc` to a writer; `pg_restore`
//! reading the dump from its stdin into a scratch database, or turning it into SQL that goes
//! straight to `psql` inside the restore transaction.
//!
//! These are std::process pipes rather than xshell: xshell runs a program to completion, and
//! here the bytes must flow while it runs. No shell is involved; the password travels in
//! `PGPASSWORD`, never on a command line.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use crate::snapshot_postgres::{split_url, url_of, PgUrl, CLEAR_PUBLIC};
use crate::{fault, BackupError};
use db_conn::{redact_secrets_in, DatabaseTarget};

const LOADED_MARK: &str = "pf-restore-loaded";

/// Why copying into a pipe stopped: the source failed (a damaged snapshot), or the program
/// stopped reading (its own stderr says why).
enum CopyError {
    Source(std::io::Error),
    Sink,
}

fn copy(from: &mut dyn Read, to: &mut dyn Write) -> Result<(), CopyError> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return to.flush().map_err(|_| CopyError::Sink),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Source(e)),
        };
        to.write_all(&buf[..n]).map_err(|_| CopyError::Sink)?;
    }
}

fn spawn(program: &'static str, args: &[String], url: &PgUrl) -> Result<Child, BackupError> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = &url.password {
        command.env("PGPASSWORD", p);
    }
    command.spawn().map_err(|e| BackupError::Tool {
        tool: program,
        message: format!("cannot run it: {e}; install the PostgreSQL client tools"),
    })
}

fn drain(stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stream).read_to_string(&mut text);
        text
    })
}

fn failed(tool: &'static str, stderr: &str, target: &DatabaseTarget) -> BackupError {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("error") || l.contains("ERROR") || l.contains("FATAL"))
        .collect();
    let text = if errors.is_empty() {
        stderr.trim().to_owned()
    } else {
        errors.join(" ")
    };
    BackupError::Tool {
        tool,
        message: redact_secrets_in(&text, target),
    }
}

/// `pg_dump -Fc` of `target` (at the exported snapshot when given) into `out`.
pub fn dump_to(
    target: &DatabaseTarget,
    snapshot: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), BackupError> {
    let url = split_url(url_of(target)?);
    let mut args = vec!["--format=custom".to_owned(), "--no-password".to_owned()];
    if let Some(id) = snapshot {
        args.push(format!("--snapshot={id}"));
    }
    args.push(format!("--dbname={}", url.without_password));
    let mut child = spawn("pg_dump", &args, &url)?;
    drop(child.stdin.take());
    let errors = drain(child.stderr.take().expect("piped"));
    let mut stdout = child.stdout.take().expect("piped");
    let copied = copy(&mut stdout, out);
    if copied.is_err() {
        let _ = child.kill();
    }
    drop(stdout);
    let status = child.wait();
    let stderr = errors.join().unwrap_or_default();
    match (copied, status) {
        (Err(CopyError::Sink), _) => Err(BackupError::Refused(
            "cannot write the snapshot (is the disk full?): the backup was not taken".into(),
        )),
        (_, Ok(s)) if s.success() => Ok(()),
        _ => Err(failed("pg_dump", &stderr, target)),
    }
}

/// Feeds `source` to `child`'s stdin on a thread; the result says whether the source read
/// whole (a program that stopped reading is not the source's fault).
fn feed(
    child: &mut Child,
    mut source: Box<dyn Read + Send>,
) -> JoinHandle<Result<(), std::io::Error>> {
    let mut stdin = child.stdin.take().expect("piped");
    std::thread::spawn(move || match copy(&mut source, &mut stdin) {
        Err(CopyError::Source(e)) => Err(e),
        Ok(()) | Err(CopyError::Sink) => Ok(()),
    })
}

/// `pg_restore` of the dump `source` into the (empty) database `target`, stopping at the
/// first error; `unreadable` names a source that failed mid-way.
pub fn restore_into(
    target: &DatabaseTarget,
    source: Box<dyn Read + Send>,
    unreadable: impl FnOnce(std::io::Error) -> BackupError,
) -> Result<(), BackupError> {
    let url = split_url(url_of(target)?);
    let args = vec![
        "--exit-on-error".to_owned(),
        "--no-owner".to_owned(),
        "--no-privileges".to_owned(),
        "--no-password".to_owned(),
        format!("--dbname={}", url.without_password),
    ];
    let mut child = spawn("pg_restore", &args, &url)?;
    let fed = feed(&mut child, source);
    let out = child.wait_with_output().map_err(|e| BackupError::Tool {
        tool: "pg_restore",
        message: e.to_string(),
    })?;
    if let Ok(Err(e)) = fed.join() {
        return Err(unreadable(e));
    }
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(
            "pg_restore",
            &String::from_utf8_lossy(&out.stderr),
            target,
        ))
    }
}

/// Replaces the content of `target` by the dump `source` in ONE transaction: `pg_restore`
/// turns the dump into SQL, which goes to `psql` after `BEGIN` and the clearing of the schema;
/// `COMMIT` is sent only when everything ran and the source read whole. If this process dies
/// before that, psql sees the end of its input and exits, and the server rolls the
/// transaction back: the old content stays, whole. Other sessions wait on the locks and then
/// see the new content.
pub fn restore_in_transaction(
    target: &DatabaseTarget,
    source: Box<dyn Read + Send>,
    unreadable: impl FnOnce(std::io::Error) -> BackupError,
) -> Result<(), BackupError> {
    let url = split_url(url_of(target)?);
    let args = ["--no-owner", "--no-privileges", "--file=-"].map(String::from);
    let mut restore = spawn("pg_restore", &args, &url)?;
    let fed = feed(&mut restore, source);
    let restore_errors = drain(restore.stderr.take().expect("piped"));
    let mut sql = restore.stdout.take().expect("piped");
    let psql_args = [
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "--no-password",
        "-o",
        "/dev/null",
    ]
    .map(String::from)
    .into_iter()
    .chain([format!("--dbname={}", url.without_password)])
    .collect::<Vec<_>>();
    let mut psql = match spawn("psql", &psql_args, &url) {
        Ok(child) => child,
        Err(e) => {
            let _ = restore.kill();
            return Err(e);
        }
    };
    let psql_errors = drain(psql.stderr.take().expect("piped"));
    let mut stdin = psql.stdin.take().expect("piped");
    let sent = stdin
        .write_all(b"BEGIN;\n")
        .and_then(|()| stdin.write_all(CLEAR_PUBLIC.as_bytes()))
        .is_ok()
        && copy(&mut sql, &mut stdin).is_ok();
    // pg_restore stops (EPIPE) if psql stopped reading.
    drop(sql);
    let source_error = fed.join().ok().and_then(Result::err);
    let restored = restore.wait().is_ok_and(|s| s.success());
    let loaded = sent
        && source_error.is_none()
        && restored
        && stdin
            .write_all(format!("\n\\echo {LOADED_MARK}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .is_ok()
        && wait_until_loaded(psql.stdout.take().expect("piped"));
    if loaded {
        fault::pause(fault::FaultPoint::RestoreBeforeCommit);
        let _ = stdin.write_all(b"COMMIT;\n");
    }
    drop(stdin);
    let status = psql.wait();
    let psql_stderr = psql_errors.join().unwrap_or_default();
    let restore_stderr = restore_errors.join().unwrap_or_default();
    if loaded && status.is_ok_and(|s| s.success()) {
        return Ok(());
    }
    if let Some(e) = source_error {
        return Err(unreadable(e));
    }
    let culprit = if restored {
        failed("psql", &psql_stderr, target)
    } else {
        failed("pg_restore", &restore_stderr, target)
    };
    Err(BackupError::Tool {
        tool: "psql",
        message: format!(
            "the restore transaction was rolled back, the database is unchanged: {culprit}"
        ),
    })
}

/// True once psql echoed the mark; false when it stopped before (on an error).
fn wait_until_loaded(stdout: impl Read) -> bool {
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.trim() == LOADED_MARK)
}
