//! The `backend` binary as a platform runs it: refuses to start without a token, serves on
//! $PORT, and drains and exits cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{TestDb, TOKEN};

const DEADLINE: Duration = Duration::from_secs(60);

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub log: mpsc::Receiver<String>,
}

impl Drop for Server {
    // A failed assertion must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Variables of the developer's shell that would change what a test's backend does.
const ISOLATED_ENV: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_PATH",
    "RAILWAY_ENVIRONMENT",
    "RAILWAY_ENVIRONMENT_NAME",
    "RAILWAY_PROJECT_ID",
    "RAILWAY_VOLUME_MOUNT_PATH",
    "RAILWAY_DEPLOYMENT_ID",
    "PF_ACCEPT_EMPTY_DATABASE",
];

/// `backend serve` on an ephemeral loopback port with the test token, on `database_url` (or,
/// when None, whatever `extra_env` says, e.g. DATABASE_PATH).
pub fn serve_command(database_url: Option<&str>, extra_env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
    cmd.arg("serve");
    for var in ISOLATED_ENV {
        cmd.env_remove(var);
    }
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env("API_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd
}

/// Starts `backend serve` on an ephemeral port and waits (polling, with a deadline) until it
/// says where it listens.
pub fn start(db: &TestDb, extra_env: &[(&str, &str)]) -> Server {
    start_command(serve_command(Some(&database_url(db)), extra_env))
}

/// Spawns `cmd` (a [`serve_command`]) and waits until it listens.
#[allow(clippy::zombie_processes)] // the returned Server's Drop reaps the child
pub fn start_command(mut cmd: Command) -> Server {
    let mut child = cmd.spawn().expect("spawn backend");
    let (tx, log) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let Ok(line) = log.recv_timeout(DEADLINE.saturating_sub(started.elapsed())) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("backend did not report listening within {DEADLINE:?}; it said: {seen:?}");
        };
        seen.push(line.clone());
        if let Some(addr) = line.split("local=").nth(1) {
            let addr = addr.split_whitespace().next().expect("address").to_owned();
            return Server { child, addr, log };
        }
    }
}

pub fn database_url(db: &TestDb) -> String {
    match &db.target {
        db_conn::DatabaseTarget::Postgres { url } => url.clone(),
        db_conn::DatabaseTarget::Sqlite { path } => path.display().to_string(),
    }
}

/// A minimal HTTP/1.1 exchange over loopback: returns status and body.
pub fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// Runs `cmd` (a [`serve_command`] expected to refuse) to its exit, polling with a deadline;
/// returns the exit status and everything it wrote on stderr.
pub fn run_to_exit(mut cmd: Command) -> (std::process::ExitStatus, String) {
    let mut child = cmd.spawn().expect("spawn backend");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "backend was expected to exit but ran for {DEADLINE:?}: {}",
                reader.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, reader.join().unwrap_or_default())
}

/// Waits for exit, polling with a deadline.
pub fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "backend did not exit within {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn refuses_to_start_without_a_token() {
    let db = TestDb::sqlite();
    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .arg("serve")
        .env("DATABASE_URL", database_url(&db))
        .env_remove("API_TOKEN")
        .output()
        .expect("run backend");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("API_TOKEN is not set") && stderr.contains("--dev"),
        "{stderr}"
    );
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one line saying what to do: {stderr}"
    );
}

#[test]
fn serves_and_shuts_down_cleanly_on_sigterm() {
    for db in TestDb::each("serves_and_shuts_down_cleanly_on_sigterm") {
        let mut server = start(&db, &[]);
        let (status, body) = http(&server.addr, "GET", "/health", None);
        assert_eq!(status, 200, "{body}");
        let row = r#"{"config_key":"drill","config_value":"1","description":null}"#;
        assert_eq!(
            http(&server.addr, "POST", "/api/v1/system_config", Some(row)).0,
            201
        );
        signal(&server.child, "TERM");
        let status = wait_exit(&mut server.child);
        assert!(
            status.success(),
            "{}: exit {status:?} after SIGTERM",
            db.name()
        );
        let log: Vec<String> = server.log.try_iter().collect();
        assert!(
            log.iter().any(|l| l.contains("shut down cleanly")),
            "{log:?}"
        );
        let mut conn = db.connect();
        assert_eq!(
            pf_data::counts::count_all(&mut conn).unwrap()["system_config"],
            4
        );
    }
}

#[test]
fn dev_mode_without_a_token_says_so_loudly() {
    let db = TestDb::sqlite();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
    let mut child = cmd
        .args(["serve", "--dev"])
        .env("DATABASE_URL", database_url(&db))
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env_remove("API_TOKEN")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    let started = Instant::now();
    while !seen.contains("AUTHENTICATION IS DISABLED") {
        assert!(started.elapsed() < DEADLINE, "no warning: {seen}");
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read") == 0 {
            break;
        }
        seen.push_str(&line);
    }
    signal(&child, "TERM");
    wait_exit(&mut child);
    assert!(seen.contains("AUTHENTICATION IS DISABLED"), "{seen}");
}
