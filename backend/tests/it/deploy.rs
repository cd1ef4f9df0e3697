//! The deployment files checked against the workspace, without a Docker engine or a Railway
//! account: the Dockerfile builds the `backend` package's `backend` binary and runs it as a
//! non-root user on the data folder the guard and README name; `.dockerignore` admits exactly
//! what the build needs; the dependency stage's stub workspace loads; the binary links only
//! what the runtime image installs; railway.toml uses only keys Railway reads, its commands
//! exist in the binary, and `.railway/railway.ts` says the same.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::StatusCode;
use db_conn::{DatabaseTarget, DEFAULT_SQLITE_PATH};
use serde_json::Value;

use crate::support::{TestApp, TestDb};

/// Every key Railway's config-as-code reads (docs: config-as-code reference).
const DOCUMENTED_BUILD_KEYS: &[&str] =
    &["builder", "dockerfilePath", "buildCommand", "watchPatterns"];
const DOCUMENTED_DEPLOY_KEYS: &[&str] = &[
    "startCommand",
    "preDeployCommand",
    "healthcheckPath",
    "healthcheckTimeout",
    "restartPolicyType",
    "restartPolicyMaxRetries",
    "cronSchedule",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn toml_file(rel: &str) -> toml::Table {
    read(rel)
        .parse()
        .unwrap_or_else(|e| panic!("{rel} is not TOML: {e}"))
}

/// One Dockerfile instruction, continuation lines joined, comments dropped.
#[derive(Debug, Clone)]
struct Instr {
    op: String,
    args: String,
}

/// The Dockerfile's stages, each a list of instructions (the `FROM` first).
fn stages() -> Vec<Vec<Instr>> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim());
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Vec<Instr>> = Vec::new();
    for text in logical.into_iter().filter(|l| !l.trim().is_empty()) {
        let (op, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        let instr = Instr {
            op: op.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        };
        if instr.op == "FROM" {
            stages.push(vec![instr]);
        } else {
            stages
                .last_mut()
                .expect("instructions before FROM")
                .push(instr);
        }
    }
    stages
}

fn args_of<'a>(stage: &'a [Instr], op: &str) -> Vec<&'a str> {
    stage
        .iter()
        .filter(|i| i.op == op)
        .map(|i| i.args.as_str())
        .collect()
}

/// `ENV A=1 B=2` pairs of a stage.
fn env_of(stage: &[Instr]) -> Vec<(String, String)> {
    args_of(stage, "ENV")
        .iter()
        .flat_map(|a| a.split_whitespace())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .arg("--help")
        .output()
        .expect("run backend --help");
    assert!(
        out.status.success(),
        "`backend {}` is not a command of the binary: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The port `backend serve` listens on when PORT is not set, read from its own --help.
fn default_port() -> u16 {
    let text = help(&["serve"]);
    let line = text
        .lines()
        .find(|l| l.contains("--port"))
        .expect("serve --help documents --port");
    let default = line
        .split("[default: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("--port has a default");
    default.parse().expect("numeric default port")
}

#[test]
fn dockerfile_builds_and_runs_the_workspace_binary() {
    let stages = stages();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    let (build, runtime) = (&stages[0], &stages[1]);

    // The package and binary the Dockerfile names are the workspace's.
    let root = toml_file("Cargo.toml");
    let members: Vec<&str> = root["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert!(members.contains(&"backend"), "{members:?}");
    let manifest = toml_file("backend/Cargo.toml");
    assert_eq!(manifest["package"]["name"].as_str(), Some("backend"));
    let bins: Vec<&str> = manifest["bin"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(bins, ["backend"]);
    let binary = Path::new(env!("CARGO_BIN_EXE_backend"))
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(binary, "backend");

    // Build stage: Debian bookworm, the current stable Rust 1.x (>= rust-version), the release
    // build of exactly that package, locked, and the binary at a fixed path.
    let from = &build[0].args;
    assert!(
        from.starts_with("rust:1-bookworm") && from.ends_with("AS builder"),
        "{from}"
    );
    let runs = args_of(build, "RUN").join("\n");
    assert!(
        runs.contains("cargo build --release -p backend --locked"),
        "{runs}"
    );
    assert!(
        runs.contains("install -m 0755 target/release/backend /usr/local/bin/backend"),
        "{runs}"
    );

    // Runtime stage: the same Debian release (glibc), libpq and CA certificates, the binary
    // copied from the build stage, a non-root user, the data folder, PORT and CMD.
    assert_eq!(runtime[0].args, "debian:bookworm-slim AS runtime");
    let runs = args_of(runtime, "RUN").join("\n");
    for package in ["ca-certificates", "libpq5", "postgresql-client"] {
        assert!(runs.contains(package), "runtime installs {package}: {runs}");
    }
    assert!(args_of(runtime, "COPY")
        .contains(&"--from=builder /usr/local/bin/backend /usr/local/bin/backend"));
    let user = args_of(runtime, "USER");
    assert_eq!(user.len(), 1);
    let name = user[0].split(':').next().unwrap();
    assert!(name != "root" && name != "0", "runs as {name}");
    assert!(runs.contains(&format!("useradd --system --uid 10001 --gid {name}")));

    let workdir = args_of(runtime, "WORKDIR");
    assert_eq!(workdir, ["/app"]);
    let env = env_of(runtime);
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("runtime ENV {k} missing: {env:?}"))
    };
    let database_path = PathBuf::from(get("DATABASE_PATH"));
    // The explicit path is where the built-in default lands under WORKDIR: same file either way.
    assert_eq!(
        database_path,
        Path::new(workdir[0]).join(DEFAULT_SQLITE_PATH)
    );
    let data_folder = database_path.parent().unwrap().to_str().unwrap();
    assert_eq!(data_folder, "/app/data");
    assert!(runs.contains(&format!("mkdir -p {data_folder}")), "{runs}");
    assert!(
        runs.contains(&format!("chown {name}:{name} {data_folder}")),
        "the data folder belongs to the runtime user: {runs}"
    );

    let port = default_port();
    assert_eq!(args_of(runtime, "EXPOSE"), [port.to_string().as_str()]);
    assert_eq!(get("PORT"), port.to_string());
    let cmd: Vec<String> =
        serde_json::from_str(args_of(runtime, "CMD")[0]).expect("CMD in exec (JSON) form");
    assert_eq!(cmd, ["backend", "serve"]);
    help(&cmd[1..].iter().map(String::as_str).collect::<Vec<_>>());

    // What the guard does with exactly that path: refuses it on Railway without a volume,
    // accepts it with the volume mounted at the data folder (README and railway.ts say so).
    let target = DatabaseTarget::resolve_with(None, |k| {
        (k == "DATABASE_PATH").then(|| database_path.display().to_string())
    })
    .unwrap();
    let on_volume = |k: &str| match k {
        "RAILWAY_ENVIRONMENT" => Some("production".to_owned()),
        "RAILWAY_VOLUME_MOUNT_PATH" => Some(data_folder.to_owned()),
        _ => None,
    };
    backend::guard::check_with(&target, on_volume).unwrap();
    assert!(backend::storage::describe_with(&target, on_volume).persistent);
    let no_volume = |k: &str| (k == "RAILWAY_ENVIRONMENT").then(|| "production".to_owned());
    assert!(backend::guard::check_with(&target, no_volume).is_err());
    assert!(read("README.md").contains(&format!("mount it at `{data_folder}`")));
    assert!(read(".railway/railway.ts").contains(&format!("\"{data_folder}\": data")));
    assert!(read(".railway/railway.ts")
        .contains(&format!("DATABASE_PATH: \"{}\"", database_path.display())));
}

#[test]
fn dockerignore_admits_exactly_what_the_build_needs() {
    let lines: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines[0], "*",
        "an allowlist: everything out, then what is needed"
    );
    let admitted: BTreeSet<&str> = lines.iter().filter_map(|l| l.strip_prefix('!')).collect();
    // The build stage copies the manifests and then the sources; pf-data's build.rs embeds
    // ../../migrations.
    let mut needed: BTreeSet<&str> = BTreeSet::from(["migrations"]);
    let stages = stages();
    for copy in args_of(&stages[0], "COPY") {
        let parts: Vec<&str> = copy.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            if *source != "." {
                needed.insert(source.split('/').next().unwrap());
            }
        }
    }
    assert!(read("crates/pf-data/build.rs").contains("../../migrations"));
    assert_eq!(
        admitted,
        [
            "Cargo.lock",
            "Cargo.toml",
            "backend",
            "crates",
            "migrations",
            "xtask"
        ]
        .into_iter()
        .collect(),
    );
    assert!(needed.is_subset(&admitted), "{needed:?} vs {admitted:?}");
    for never in ["**/data", "**/*.db", "**/target"] {
        assert!(lines.iter().any(|l| l == never), "{never} must stay out");
    }
    for kept in &admitted {
        assert!(repo().join(kept).exists(), "{kept} does not exist");
    }
}

/// Replays the build stage's dependency layer in a temporary folder (the COPY lines before
/// `COPY . .` and the stub RUN), then asks cargo to load that workspace: a manifest change
/// that the stubs no longer satisfy fails here, not on Railway. `--no-deps` reads only the
/// workspace's own manifests, so it needs no cargo cache and no download (an empty
/// `CARGO_HOME` works); the lock itself is proven by every `--locked` build.
#[test]
fn dependency_stage_stubs_form_a_loadable_workspace() {
    let stages = stages();
    let build = &stages[0];
    let dir = tempfile::tempdir().unwrap();
    let mut replayed = 0;
    for instr in build.iter().skip(1) {
        match instr.op.as_str() {
            "COPY" if instr.args == ". ." => break,
            "COPY" => {
                let parts: Vec<&str> = instr.args.split_whitespace().collect();
                let dest = parts[parts.len() - 1];
                for source in &parts[..parts.len() - 1] {
                    let target = if dest.ends_with('/') {
                        dir.path().join(dest).join(source)
                    } else {
                        dir.path().join(dest)
                    };
                    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                    std::fs::copy(repo().join(source), &target)
                        .unwrap_or_else(|e| panic!("COPY {source}: {e}"));
                }
            }
            "RUN" if instr.args.contains("mkdir -p") => {
                let ok = Command::new("sh")
                    .arg("-c")
                    .arg(&instr.args)
                    .current_dir(dir.path())
                    .status()
                    .expect("sh");
                assert!(ok.success(), "stub RUN failed: {}", instr.args);
                replayed += 1;
            }
            _ => {}
        }
    }
    assert_eq!(replayed, 1, "one stub RUN before `COPY . .`");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "the stubbed workspace does not load: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every member of the real workspace is in the stub one, so the dependency layer builds
    // every dependency the real build needs.
    let names = |meta: &Value| -> BTreeSet<String> {
        meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let real = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(repo())
        .output()
        .expect("cargo metadata");
    let real: Value = serde_json::from_slice(&real.stdout).unwrap();
    assert_eq!(
        names(&meta),
        names(&real),
        "stub workspace vs real workspace"
    );
    // Stub artefacts of every library the image builds are cleaned, or a source file older
    // than its stub (COPY keeps mtimes) would leave the stub's empty library in the binary.
    let runs = args_of(build, "RUN").join("\n");
    for name in names(&real) {
        if name != "xtask" && name != "test-kit" {
            assert!(
                runs.contains(&format!("-p {name} ")) || runs.contains(&format!("-p {name}\n")),
                "the dependency stage does not clean {name}: {runs}"
            );
        }
    }
}

/// The shared libraries the binary needs, beyond glibc's, are installed by the runtime stage.
/// (This machine is Debian bookworm, like both stages, so its linkage is the image's.)
#[test]
fn binary_links_only_what_the_runtime_installs() {
    let out = match Command::new("readelf")
        .args(["-d", env!("CARGO_BIN_EXE_backend")])
        .output()
    {
        Ok(out) if out.status.success() => out,
        _ => {
            test_kit::skip_check(
                "REQUIRE_TOOLS",
                "readelf (binutils) is not installed: the runtime libraries are not checked",
            );
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let needed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next())
        .collect();
    assert!(!needed.is_empty(), "{text}");
    let glibc = [
        "libc.so.6",
        "libm.so.6",
        "libgcc_s.so.1",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
    ];
    let runtime_runs = args_of(&stages()[1], "RUN").join("\n");
    for lib in needed {
        if glibc.contains(&lib) || lib.starts_with("ld-linux") {
            continue;
        }
        let package = match lib {
            "libpq.so.5" => "libpq5",
            other => panic!("the binary needs {other}: install its package in the runtime stage and list it here"),
        };
        assert!(runtime_runs.contains(package), "{lib} needs {package}");
    }
}

#[test]
fn railway_toml_uses_only_documented_keys() {
    let config = toml_file("railway.toml");
    for (section, value) in &config {
        let keys = match section.as_str() {
            "build" => DOCUMENTED_BUILD_KEYS,
            "deploy" => DOCUMENTED_DEPLOY_KEYS,
            other => panic!("railway.toml: [{other}] is not a section Railway reads"),
        };
        for key in value.as_table().expect("a table").keys() {
            assert!(
                keys.contains(&key.as_str()),
                "railway.toml: [{section}] {key} is not a key Railway reads"
            );
        }
    }
    let build = config["build"].as_table().unwrap();
    let deploy = config["deploy"].as_table().unwrap();
    assert_eq!(build["builder"].as_str(), Some("DOCKERFILE"));
    let dockerfile = build["dockerfilePath"].as_str().unwrap();
    assert!(repo().join(dockerfile).is_file(), "{dockerfile}");
    assert_eq!(deploy["healthcheckPath"].as_str(), Some("/health"));
    assert!(deploy["healthcheckTimeout"].as_integer().unwrap() > 0);
    assert!(
        ["ON_FAILURE", "ALWAYS", "NEVER"].contains(&deploy["restartPolicyType"].as_str().unwrap())
    );
    assert!(deploy["restartPolicyMaxRetries"].as_integer().unwrap() > 0);
    assert!(deploy["preDeployCommand"]
        .as_array()
        .expect("preDeployCommand is an array")
        .iter()
        .all(|c| c.is_str()));
}

fn words(command: &str) -> Vec<&str> {
    command.split_whitespace().collect()
}

/// startCommand and preDeployCommand are commands of the binary the image ships; the
/// pre-deploy command (no volume there) leaves SQLite alone and migrates PostgreSQL.
#[test]
fn railway_commands_are_commands_of_the_binary() {
    let config = toml_file("railway.toml");
    let deploy = config["deploy"].as_table().unwrap();
    let start = words(deploy["startCommand"].as_str().unwrap());
    assert_eq!(start[0], "backend");
    help(&start[1..]);
    let pre: Vec<&str> = deploy["preDeployCommand"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(pre.len(), 1);
    let pre = words(pre[0]);
    assert_eq!(pre[0], "backend");
    help(&pre[1..]);

    let run = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
        cmd.args(&pre[1..])
            .env_remove("DATABASE_URL")
            .env_remove("DATABASE_PATH");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run the pre-deploy command")
    };
    // SQLite, on Railway, without the volume (as in the pre-deploy container): nothing done.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data").join("personalfinance.db");
    let out = run(&[
        ("DATABASE_PATH", db.to_str().unwrap()),
        ("RAILWAY_ENVIRONMENT", "production"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("skipped"));
    assert!(
        !db.exists() && !db.parent().unwrap().exists(),
        "nothing created"
    );
    // PostgreSQL: migrated.
    if let Some(pg) = TestDb::postgres("railway_commands_are_commands_of_the_binary") {
        let url = crate::binary::database_url(&pg);
        let out = run(&[("DATABASE_URL", url.as_str())]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut conn = pg.connect();
        let status = pf_data::migrations::status(&mut conn).unwrap();
        assert!(status.pending.is_empty() && !status.applied.is_empty());
    }
}

#[tokio::test]
async fn healthcheck_path_answers_without_a_token() {
    let config = toml_file("railway.toml");
    let path = config["deploy"]["healthcheckPath"]
        .as_str()
        .unwrap()
        .to_owned();
    let app = TestApp::new(TestDb::sqlite());
    let (status, body) = app.call_raw("GET", &path, None, None, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Every setting of railway.toml appears in .railway/railway.ts with the same value, so the
/// switch to infrastructure-as-code changes nothing.
#[test]
fn railway_ts_mirrors_railway_toml() {
    let ts: String = read(".railway/railway.ts")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let config = toml_file("railway.toml");
    for (section, table) in &config {
        assert!(
            ts.contains(&format!("{section}: {{")),
            "railway.ts has no `{section}`"
        );
        for (key, value) in table.as_table().unwrap() {
            let json = serde_json::to_string(value).unwrap().replace(",", ", ");
            let expected = format!("{key}: {json}");
            assert!(ts.contains(&expected), "railway.ts lacks `{expected}`");
        }
    }
    assert!(ts.contains("from \"railway/iac\""));
    assert!(ts.contains("volumeMounts: {"));
}
