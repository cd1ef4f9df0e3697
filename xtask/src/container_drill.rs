//! `cargo xtask container-drill`: builds the runtime image from the repository's Dockerfile on
//! a Debian bookworm root file system made by debootstrap (no base image is pulled), starts it
//! with a volume on /app/data, and checks what a Railway deploy relies on: `/health` answers,
//! the SQLite file lands on the volume, it runs as uid 10001, and a new container on the same
//! volume (a redeploy) keeps every row. Needs root, podman and debootstrap (installed with
//! apt-get when missing) and the Debian mirror.
//!
//! The Dockerfile's build stage needs `rust:1-bookworm`, which cannot be pulled here, so the
//! drill builds the release binary with cargo on this (bookworm) machine and builds the
//! runtime stage verbatim except two lines: its `FROM` names the debootstrapped image, and
//! `COPY --from=builder` copies that binary.
//!
//! Two things of some sandboxes are worked around, and said when they are: podman's default
//! rlimits exceed the hard limits and raising them needs CAP_SYS_RESOURCE (so `--ulimit` asks
//! for less), and crun refuses a cgroup v2 mount with controllers beside cgroup v1 ("hybrid"),
//! so the drill re-runs itself in a private mount namespace without that mount.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::Ctx;

const INSIDE_NAMESPACE: &str = "PF_CONTAINER_DRILL_NAMESPACE";
const HYBRID_CGROUP2: &str = "/sys/fs/cgroup/unified";
const BASE_IMAGE: &str = "localhost/pf-drill-base:bookworm";
const IMAGE: &str = "localhost/personalfinance:drill";
const VOLUME: &str = "pf-drill-data";
const CONTAINER: &str = "pf-drill";
const ROWS: usize = 25;

#[derive(clap::Args)]
pub struct ContainerDrill {
    /// The backend binary to put in the image [default: `cargo build --release -p backend --locked`]
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// Debian mirror for debootstrap and for the image's apt-get
    #[arg(long, default_value = "http://deb.debian.org/debian")]
    pub mirror: String,
    /// Build the root file system again even if target/container-drill/rootfs is complete
    #[arg(long)]
    pub fresh_rootfs: bool,
    /// How long to wait for /health, in seconds
    #[arg(long, default_value_t = 120)]
    pub wait: u64,
}

impl ContainerDrill {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        if !is_root() {
            bail!(
                "the container drill needs root (debootstrap and rootful podman): run it with sudo"
            );
        }
        if hybrid_cgroups() && std::env::var_os(INSIDE_NAMESPACE).is_none() {
            return self.rerun_in_private_mount_namespace(sh);
        }
        if std::env::var_os(INSIDE_NAMESPACE).is_some() && hybrid_cgroups() {
            cmd!(sh, "umount {HYBRID_CGROUP2}").run()?;
            ctx.report.say(&format!("cgroups: crun refuses hybrid v1+v2 with v2 controllers ({HYBRID_CGROUP2}); unmounted in this private mount namespace only"));
        }
        let work = crate::project_root().join("target/container-drill");
        std::fs::create_dir_all(&work)?;
        ctx.report
            .step("install podman and debootstrap if missing", |_| {
                install_tools(sh)
            })?;
        let rootfs = ctx
            .report
            .step("Debian bookworm root file system (debootstrap)", |_| {
                self.rootfs(sh, &work)
            })?;
        let binary = ctx.report.step("the release binary", |_| self.binary(sh))?;
        ctx.report.step(
            "base image from the root file system (podman import)",
            |_| import_base(sh, &rootfs),
        )?;
        ctx.report
            .step("runtime image from the Dockerfile (podman build)", |_| {
                build_image(sh, &work, &binary)
            })?;
        let outcome = self.exercise(sh, ctx);
        remove_container_and_volume(sh);
        outcome
    }

    fn rerun_in_private_mount_namespace(&self, sh: &Shell) -> anyhow::Result<()> {
        let exe = std::env::current_exe().context("cannot find the xtask binary")?;
        let args: Vec<String> = std::env::args().skip(1).collect();
        eprintln!("cgroup v2 controllers beside cgroup v1 (crun refuses that): re-running in a private mount namespace");
        let _env = sh.push_env(INSIDE_NAMESPACE, "1");
        cmd!(
            sh,
            "unshare --mount --propagation private -- {exe} {args...}"
        )
        .run()
        .context("the drill failed inside its mount namespace (see above)")
    }

    fn rootfs(&self, sh: &Shell, work: &Path) -> anyhow::Result<PathBuf> {
        let rootfs = work.join("rootfs");
        let complete = work.join("rootfs.complete");
        if complete.exists() && !self.fresh_rootfs {
            return Ok(rootfs);
        }
        let _ = std::fs::remove_file(&complete);
        if rootfs.exists() {
            std::fs::remove_dir_all(&rootfs)?;
        }
        let mirror = &self.mirror;
        cmd!(
            sh,
            "debootstrap --variant=minbase bookworm {rootfs} {mirror}"
        )
        .quiet()
        .ignore_stdout()
        .run()
        .with_context(|| {
            format!("debootstrap failed: check that {mirror} is reachable, or pass --mirror")
        })?;
        std::fs::write(&complete, b"")?;
        Ok(rootfs)
    }

    fn binary(&self, sh: &Shell) -> anyhow::Result<PathBuf> {
        if let Some(path) = &self.binary {
            if !path.is_file() {
                bail!("--binary {}: no such file", path.display());
            }
            return Ok(path.clone());
        }
        cmd!(sh, "cargo build --release -p backend --locked").run()?;
        Ok(crate::project_root().join("target/release/backend"))
    }

    fn exercise(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        remove_container_and_volume(sh);
        cmd!(sh, "podman volume create {VOLUME}")
            .quiet()
            .ignore_stdout()
            .run()?;
        let token = random_token()?;
        let port = free_port()?;
        let api = Api::new(port, token.clone(), Duration::from_secs(self.wait));
        ctx.report
            .step("start the container; /health answers", |_| {
                start_container(sh, port, &token)?;
                api.wait_healthy(sh)
            })?;
        ctx.report.step("runs as uid 10001", |r| {
            let uid = container_uid(sh)?;
            r.say(&format!("    the server process runs as uid {uid}"));
            if uid != 10001 {
                bail!("the server runs as uid {uid}, not the image's user 10001");
            }
            Ok(())
        })?;
        let before = ctx
            .report
            .step(&format!("write {ROWS} rows through the API"), |_| {
                api.write_rows()?;
                api.data_health()
            })?;
        ctx.report.step("the SQLite file is on the volume", |r| {
            let format = "{{.Mountpoint}}";
            let mountpoint = cmd!(sh, "podman volume inspect --format {format} {VOLUME}").read()?;
            let db = Path::new(mountpoint.trim()).join("personalfinance.db");
            let meta = std::fs::metadata(&db)
                .with_context(|| format!("no database on the volume ({})", db.display()))?;
            r.say(&format!(
                "    {} ({} bytes, owner uid {})",
                db.display(),
                meta.len(),
                std::os::unix::fs::MetadataExt::uid(&meta)
            ));
            Ok(())
        })?;
        ctx.report
            .step("a new container on the same volume keeps every row", |r| {
                cmd!(sh, "podman stop --time 30 {CONTAINER}")
                    .quiet()
                    .ignore_stdout()
                    .run()?;
                cmd!(sh, "podman rm {CONTAINER}")
                    .quiet()
                    .ignore_stdout()
                    .run()?;
                start_container(sh, port, &token)?;
                api.wait_healthy(sh)?;
                let after = api.data_health()?;
                compare(&before, &after)?;
                r.say(&format!(
                    "    {} rows before and after, instance changed",
                    after["total_rows"]
                ));
                Ok(())
            })?;
        ctx.report.set("rows", before["total_rows"].clone());
        Ok(())
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(str::to_owned))
        .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"))
}

/// cgroup v2 mounted beside v1 with controllers in it: crun's "hybrid mode not supported".
fn hybrid_cgroups() -> bool {
    std::fs::read_to_string(Path::new(HYBRID_CGROUP2).join("cgroup.controllers"))
        .is_ok_and(|c| !c.trim().is_empty())
}

fn install_tools(sh: &Shell) -> anyhow::Result<()> {
    let missing: Vec<&str> = ["podman", "debootstrap"]
        .into_iter()
        .filter(|tool| {
            cmd!(sh, "which {tool}")
                .quiet()
                .ignore_stdout()
                .run()
                .is_err()
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let _env = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update").quiet().ignore_stdout().run()?;
    cmd!(
        sh,
        "apt-get install -y --no-install-recommends {missing...} uidmap"
    )
    .quiet()
    .ignore_stdout()
    .run()
    .context("cannot install podman/debootstrap with apt-get: install them by hand")
}

/// Limits podman asks crun for: its defaults exceed the hard limits, and raising a limit
/// needs CAP_SYS_RESOURCE ("crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted").
fn ulimits() -> [String; 4] {
    [
        "--ulimit".into(),
        "nofile=4096:4096".into(),
        "--ulimit".into(),
        "nproc=4096:4096".into(),
    ]
}

fn import_base(sh: &Shell, rootfs: &Path) -> anyhow::Result<()> {
    let tar = rootfs.with_extension("tar");
    cmd!(sh, "tar -C {rootfs} -cf {tar} .").quiet().run()?;
    cmd!(sh, "podman import {tar} {BASE_IMAGE}")
        .quiet()
        .ignore_stdout()
        .run()?;
    std::fs::remove_file(&tar)?;
    Ok(())
}

/// The Dockerfile's runtime stage with its FROM on the debootstrapped image and the binary
/// copied from the build context instead of the build stage; every other line verbatim.
fn runtime_containerfile(dockerfile: &str) -> anyhow::Result<String> {
    let start = dockerfile
        .rfind("\nFROM ")
        .context("the Dockerfile has no second (runtime) stage")?;
    let stage = &dockerfile[start + 1..];
    let (from, rest) = stage.split_once('\n').context("empty runtime stage")?;
    let name = from.split_whitespace().last().unwrap_or("runtime");
    let copy = "COPY --from=builder /usr/local/bin/backend /usr/local/bin/backend";
    if !rest.contains(copy) {
        bail!("the runtime stage no longer has `{copy}`: update the container drill");
    }
    let rest = rest.replace(copy, "COPY backend /usr/local/bin/backend");
    Ok(format!("FROM {BASE_IMAGE} AS {name}\n{rest}"))
}

fn build_image(sh: &Shell, work: &Path, binary: &Path) -> anyhow::Result<()> {
    let context = work.join("context");
    if context.exists() {
        std::fs::remove_dir_all(&context)?;
    }
    std::fs::create_dir_all(&context)?;
    let dockerfile = std::fs::read_to_string(crate::project_root().join("Dockerfile"))?;
    std::fs::write(
        context.join("Containerfile"),
        runtime_containerfile(&dockerfile)?,
    )?;
    std::fs::copy(binary, context.join("backend"))?;
    let file = context.join("Containerfile");
    let limits = ulimits();
    cmd!(
        sh,
        "podman build --pull=never --network host {limits...} -t {IMAGE} -f {file} {context}"
    )
    .quiet()
    .ignore_stdout()
    .run()
    .context("podman build failed (see above)")
}

fn start_container(sh: &Shell, port: u16, token: &str) -> anyhow::Result<()> {
    let limits = ulimits();
    let publish = format!("127.0.0.1:{port}:8000");
    let mount = format!("{VOLUME}:/app/data");
    let _env = sh.push_env("API_TOKEN", token);
    // As on Railway: its variables set and the volume at /app/data, so the guard checks it.
    cmd!(sh, "podman run -d --name {CONTAINER} {limits...} -p {publish} -v {mount} -e API_TOKEN -e RAILWAY_ENVIRONMENT=drill -e RAILWAY_VOLUME_MOUNT_PATH=/app/data {IMAGE}")
        .quiet()
        .ignore_stdout()
        .run()
        .context("podman run failed (see above)")
}

fn container_uid(sh: &Shell) -> anyhow::Result<u32> {
    let format = "{{.State.Pid}}";
    let pid = cmd!(sh, "podman inspect --format {format} {CONTAINER}").read()?;
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim()))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .context("no Uid line")?;
    Ok(line.split_whitespace().nth(1).context("no uid")?.parse()?)
}

fn compare(before: &serde_json::Value, after: &serde_json::Value) -> anyhow::Result<()> {
    if before["tables"] != after["tables"] {
        bail!(
            "row counts changed across the redeploy: before {} after {}",
            before["tables"],
            after["tables"]
        );
    }
    if before["instance"] == after["instance"] {
        bail!("the same instance answered: the container was not replaced");
    }
    if after["storage"]["persistent"] != serde_json::Value::Bool(true) {
        bail!("/health/data says the storage is not persistent");
    }
    Ok(())
}

fn random_token() -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

struct Api {
    base: String,
    token: String,
    wait: Duration,
    agent: ureq::Agent,
}

impl Api {
    fn new(port: u16, token: String, wait: Duration) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build(),
        );
        Self {
            base: format!("http://127.0.0.1:{port}"),
            token,
            wait,
            agent,
        }
    }

    /// Polls /health until 200, with a deadline; on failure shows the container's log.
    fn wait_healthy(&self, sh: &Shell) -> anyhow::Result<()> {
        let deadline = Instant::now() + self.wait;
        let mut last = String::new();
        while Instant::now() < deadline {
            match self.agent.get(&format!("{}/health", self.base)).call() {
                Ok(r) if r.status() == 200 => return Ok(()),
                Ok(r) => last = format!("HTTP {}", r.status()),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = cmd!(sh, "podman logs --tail 20 {CONTAINER}")
            .ignore_status()
            .read_stderr()
            .unwrap_or_default();
        bail!(
            "/health did not answer within {:?} (last: {last}); container log:\n{log}",
            self.wait
        )
    }

    fn write_rows(&self) -> anyhow::Result<()> {
        for i in 0..ROWS {
            let body = serde_json::json!({
                "currency": format!("DRILL{i}"), "available": "1.5", "frozen": "0", "total": "1.5",
                "usd_value": "1.5", "update_time": "2026-01-31T00:00:00", "sync_cursor": null, "last_synced_at": null
            })
            .to_string();
            let mut response = self
                .agent
                .post(&format!("{}/api/v1/okx_balances", self.base))
                .header("Authorization", &format!("Bearer {}", self.token))
                .header("Content-Type", "application/json")
                .send(&body)?;
            if response.status() != 201 {
                bail!(
                    "POST /api/v1/okx_balances: HTTP {}: {}",
                    response.status(),
                    response.body_mut().read_to_string()?
                );
            }
        }
        Ok(())
    }

    fn data_health(&self) -> anyhow::Result<serde_json::Value> {
        let mut response = self
            .agent
            .get(&format!("{}/health/data", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()?;
        if response.status() != 200 {
            bail!("/health/data: HTTP {}", response.status());
        }
        Ok(serde_json::from_str(
            &response.body_mut().read_to_string()?,
        )?)
    }
}

/// Removes what an earlier or this drill left (best effort: they may not exist).
fn remove_container_and_volume(sh: &Shell) {
    let _ = cmd!(sh, "podman rm -f {CONTAINER}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run();
    let _ = cmd!(sh, "podman volume rm -f {VOLUME}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The image the drill builds is the Dockerfile's runtime stage: only FROM and the
    /// binary's COPY differ, every other line is the Dockerfile's own.
    #[test]
    fn containerfile_is_the_runtime_stage_with_two_lines_changed() {
        let dockerfile = std::fs::read_to_string(crate::project_root().join("Dockerfile")).unwrap();
        let built = runtime_containerfile(&dockerfile).unwrap();
        let mut lines = built.lines();
        assert_eq!(
            lines.next(),
            Some("FROM localhost/pf-drill-base:bookworm AS runtime")
        );
        let runtime = &dockerfile[dockerfile
            .rfind("\nFROM debian:bookworm-slim AS runtime\n")
            .unwrap()..];
        let expected: Vec<&str> = runtime.lines().skip(2).collect();
        let got: Vec<&str> = lines.collect();
        assert_eq!(got.len(), expected.len());
        let changed: Vec<(&str, &str)> = expected
            .iter()
            .zip(&got)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (*a, *b))
            .collect();
        assert_eq!(
            changed,
            [(
                "COPY --from=builder /usr/local/bin/backend /usr/local/bin/backend",
                "COPY backend /usr/local/bin/backend"
            )]
        );
        for kept in [
            "USER app:app",
            "CMD [\"backend\", \"serve\"]",
            "--uid 10001",
        ] {
            assert!(built.contains(kept), "{kept}");
        }
        let without_copy = dockerfile.replace("COPY --from=builder", "COPY --from=elsewhere");
        assert!(runtime_containerfile(&without_copy).is_err());
    }
}
