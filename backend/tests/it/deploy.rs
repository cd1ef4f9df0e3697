//! The deployment files checked against the workspace, without a Docker engine or a Railway
//! account: the Dockerfile builds the `backend` package's `backend` binary and runs it as a
//! non-root user on the data folder the guard and README name; `.dockerignore` admits exactly
//! what the build needs; the dependency stage's stub workspace loads; the binary links only
//! what the runtime image installs; `.railway/railway.ts`, the only Railway configuration,
//! uses only what the IaC reference documents, its start command migrates before serving, and
//! the deploy workflow checks it against Railway (`config plan`) before `railway up`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::StatusCode;
use db_conn::{DatabaseTarget, DEFAULT_SQLITE_PATH};
use serde_json::Value;

use crate::railway_ts::{self, RailwayTs, Value as Ts};
use crate::support::{TestApp, TestDb};

/// What the IaC reference (docs.railway.com/infrastructure-as-code/reference) documents: the
/// `railway/iac` exports, a service's fields, a volume's fields, a project's fields.
const DOCUMENTED_EXPORTS: &[&str] = &[
    "defineRailway",
    "project",
    "service",
    "github",
    "image",
    "preserve",
    "postgres",
    "redis",
    "mysql",
    "mongo",
    "volume",
    "bucket",
    "group",
];
const DOCUMENTED_SERVICE_FIELDS: &[&str] = &[
    "source",
    "build",
    "start",
    "healthcheck",
    "healthcheckTimeout",
    "replicas",
    "env",
    "volumeMounts",
    "domains",
];
const DOCUMENTED_VOLUME_FIELDS: &[&str] = &["region", "sizeMB"];
const DOCUMENTED_PROJECT_FIELDS: &[&str] = &["resources"];

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

fn words(command: &str) -> Vec<&str> {
    command.split_whitespace().collect()
}

fn railway_ts() -> RailwayTs {
    railway_ts::read(
        &read(".railway/railway.ts"),
        &["service", "volume", "project"],
    )
}

/// The backend service's config object in railway.ts.
fn backend_service(ts: &RailwayTs) -> Ts {
    let args = ts.only("service");
    assert_eq!(
        args[0],
        Ts::Str("backend".into()),
        "the service is `backend`"
    );
    args[1].clone()
}

fn str_field<'a>(config: &'a Ts, key: &str) -> &'a str {
    match config.get(key) {
        Some(Ts::Str(s)) => s,
        other => panic!("railway.ts: `{key}` must be a string, is {other:?}"),
    }
}

/// railway.ts is the only Railway configuration and uses only what the IaC reference
/// documents; it declares the volume at the data folder, the variables and the secrets.
#[test]
fn railway_ts_uses_only_documented_fields() {
    let ts = railway_ts();
    assert_eq!(ts.imports.len(), 1, "{:?}", ts.imports);
    let (module, names) = &ts.imports[0];
    assert_eq!(module, "railway/iac");
    for name in names {
        assert!(
            DOCUMENTED_EXPORTS.contains(&name.as_str()),
            "railway.ts imports `{name}`, which the IaC reference does not document"
        );
    }
    let service = backend_service(&ts);
    for key in service.keys() {
        assert!(
            DOCUMENTED_SERVICE_FIELDS.contains(&key),
            "railway.ts: service field `{key}` is not in the IaC reference"
        );
    }
    // No source: deploys come from the workflow's `railway up`, after its backup.
    assert!(service.get("source").is_none());
    assert_eq!(str_field(&service, "healthcheck"), "/health");
    assert!(matches!(service.get("healthcheckTimeout"), Some(Ts::Num(n)) if *n > 0.0));
    // A service with a volume runs one replica.
    assert_eq!(service.get("replicas"), Some(&Ts::Num(1.0)));

    let volume = ts.only("volume");
    let Ts::Str(volume_name) = &volume[0] else {
        panic!("volume(name)")
    };
    assert_eq!(volume_name, "personalfinance-data");
    if let Some(config) = volume.get(1) {
        for key in config.keys() {
            assert!(
                DOCUMENTED_VOLUME_FIELDS.contains(&key),
                "volume field `{key}`"
            );
        }
    }
    let mounts = service.get("volumeMounts").expect("volumeMounts");
    assert_eq!(mounts.keys(), ["/app/data"], "the Dockerfile's data folder");
    assert_eq!(mounts.get("/app/data"), Some(&Ts::Name("data".into())));

    let env = service.get("env").expect("env");
    assert_eq!(
        str_field(env, "DATABASE_PATH"),
        "/app/data/personalfinance.db"
    );
    assert_eq!(str_field(env, "RAILWAY_RUN_UID"), "0");
    for secret in ["API_TOKEN", "ADMIN_TOKEN"] {
        assert_eq!(
            env.get(secret),
            Some(&Ts::Call("preserve".into(), vec![])),
            "{secret} is kept from Railway, never written here"
        );
    }

    let project = ts.only("project");
    assert_eq!(project[0], Ts::Str("personalfinance".into()));
    for key in project[1].keys() {
        assert!(
            DOCUMENTED_PROJECT_FIELDS.contains(&key),
            "project field `{key}`"
        );
    }
    // Omitting a resource deletes it: the volume must be listed, or apply deletes the data.
    assert_eq!(
        project[1].get("resources"),
        Some(&Ts::Array(vec![
            Ts::Name("backend".into()),
            Ts::Name("data".into())
        ]))
    );
    // No builder field exists: Railway uses the `Dockerfile` at the root of the upload.
    assert!(repo().join("Dockerfile").is_file());
}

/// No config-as-code file is left: Railway no longer reads them, `railway config plan`
/// refuses a service still managed by one, and `railway config migrate` would pick any up.
#[test]
fn railway_ts_is_the_only_railway_configuration() {
    let mut found = Vec::new();
    let mut stack = vec![repo()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let name = entry.file_name();
            let name = name.to_str().unwrap();
            if entry.file_type().unwrap().is_dir() {
                if !matches!(name, ".git" | "target" | "node_modules") {
                    stack.push(entry.path());
                }
            } else if matches!(name, "railway.toml" | "railway.json") {
                found.push(entry.path());
            }
        }
    }
    assert!(found.is_empty(), "config-as-code files left: {found:?}");
    let readme = read("README.md");
    assert!(readme.contains("`.railway/railway.ts` is the only Railway configuration"));
}

/// The start command is the binary's `serve`, the Dockerfile's CMD too, and it migrates
/// before it listens: on SQLite on the volume, and on PostgreSQL (where the pre-deploy step
/// used to do it). Without the volume on Railway it refuses and creates nothing.
#[test]
fn railway_start_command_migrates_before_serving() {
    let service = backend_service(&railway_ts());
    let start = words(str_field(&service, "start"));
    assert_eq!(start, ["backend", "serve"]);
    help(&start[1..]);
    let stages = stages();
    let cmd = args_of(&stages[1], "CMD");
    assert_eq!(cmd, [r#"["backend", "serve"]"#], "CMD and start agree");

    let migrated_once_listening = |database: &str, env: &[(&str, &str)]| {
        let server =
            crate::binary::start_command(crate::binary::serve_command(Some(database), env));
        let target = DatabaseTarget::resolve(Some(database)).unwrap();
        let mut conn = db_conn::establish(&target).unwrap();
        let status = pf_data::migrations::status(&mut conn).unwrap();
        assert!(
            status.pending.is_empty() && !status.applied.is_empty(),
            "{database}"
        );
        let (code, body) = crate::binary::http(&server.addr, "GET", "/health", None);
        assert_eq!(code, 200, "{body}");
    };
    let dir = tempfile::tempdir().unwrap();
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    let db = volume.join("personalfinance.db");
    migrated_once_listening(
        db.to_str().unwrap(),
        &[
            ("RAILWAY_ENVIRONMENT", "production"),
            ("RAILWAY_VOLUME_MOUNT_PATH", volume.to_str().unwrap()),
        ],
    );
    if let Some(pg) = TestDb::postgres("railway_start_command_migrates_before_serving") {
        migrated_once_listening(&crate::binary::database_url(&pg), &[]);
    }

    let ephemeral = dir.path().join("ephemeral").join("personalfinance.db");
    let (status, stderr) = crate::binary::run_to_exit(crate::binary::serve_command(
        Some(ephemeral.to_str().unwrap()),
        &[("RAILWAY_ENVIRONMENT", "production")],
    ));
    assert!(!status.success(), "{stderr}");
    assert!(!ephemeral.exists(), "nothing created off the volume");
}

#[tokio::test]
async fn healthcheck_path_answers_without_a_token() {
    let service = backend_service(&railway_ts());
    let path = str_field(&service, "healthcheck").to_owned();
    let app = TestApp::new(TestDb::sqlite());
    let (status, body) = app.call_raw("GET", &path, None, None, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The deploy workflow checks the live Railway environment against railway.ts
/// (`railway config plan --detailed-exit-code`, the SDK installed first) before `railway up`,
/// stops on pending changes (exit 2), and uses one pinned CLI new enough for IaC.
#[test]
fn deploy_workflow_plans_before_railway_up() {
    let workflow = read(".github/workflows/deploy.yml");
    let position = |needle: &str| {
        workflow
            .find(needle)
            .unwrap_or_else(|| panic!("deploy.yml lacks `{needle}`"))
    };
    let sdk = position("npm install --no-save --no-audit --no-fund railway@");
    let plan = position("config plan --detailed-exit-code");
    let up = position(" up --ci --service");
    assert!(sdk < plan && plan < up, "SDK install, then plan, then up");
    assert!(
        workflow[plan..up].contains("\"$status\" -eq 2"),
        "exit 2 stops the deploy"
    );
    let ts = read(".railway/railway.ts");
    let sdk_version = workflow[sdk..]
        .split('@')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(
        ts.contains(&format!("railway@{sdk_version}")),
        "railway.ts names the SDK version the workflow installs ({sdk_version})"
    );
    let cli_versions: BTreeSet<&str> = workflow
        .match_indices("@railway/cli@")
        .map(|(i, m)| workflow[i + m.len()..].split_whitespace().next().unwrap())
        .collect();
    assert_eq!(cli_versions.len(), 1, "one pinned CLI: {cli_versions:?}");
    let version: Vec<u32> = cli_versions
        .first()
        .unwrap()
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(
        version >= vec![5, 42, 1],
        "railway/iac needs CLI 5.42.1+: {version:?}"
    );
}

/// The workflow's steps as text, split at the step indentation.
fn workflow_steps(workflow: &str) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    let mut in_steps = false;
    for line in workflow.lines() {
        if line.trim_end() == "    steps:" {
            in_steps = true;
            continue;
        }
        if !in_steps {
            continue;
        }
        if line.starts_with("      - ") {
            steps.push(String::new());
        }
        if let Some(step) = steps.last_mut() {
            step.push_str(line);
            step.push('\n');
        }
    }
    steps
}

/// Every artifact upload of the deploy workflow is of a folder that `backup check-encrypted`
/// passed in an earlier step under the same condition, and the backup is taken encrypted.
#[test]
fn deploy_workflow_uploads_only_encrypted_backups() {
    let workflow = read(".github/workflows/deploy.yml");
    let steps = workflow_steps(&workflow);
    let condition = |step: &str| {
        step.lines()
            .find_map(|l| l.trim().strip_prefix("if: ").map(str::to_owned))
    };
    let uploads: Vec<usize> = (0..steps.len())
        .filter(|i| steps[*i].contains("actions/upload-artifact@"))
        .collect();
    assert!(!uploads.is_empty(), "the workflow keeps the backup");
    for i in uploads {
        let path = steps[i]
            .lines()
            .find_map(|l| l.trim().strip_prefix("path: "))
            .expect("an upload names its path")
            .trim_end_matches('/');
        let checked = steps[..i].iter().any(|s| {
            s.contains(&format!(
                "cargo xtask backup check-encrypted --backups-dir {path}\n"
            )) && condition(s) == condition(&steps[i])
        });
        assert!(
            checked,
            "upload of {path} without `backup check-encrypted` first"
        );
    }
    let pre_deploy = steps
        .iter()
        .find(|s| s.contains("cargo xtask pre-deploy --remote"))
        .expect("a pre-deploy backup");
    assert!(
        pre_deploy.contains("--encrypt-to \"$BACKUP_RECIPIENTS\"")
            && pre_deploy.contains("--identity"),
        "the download is encrypted as it is written: {pre_deploy}"
    );
}
