//! The client side of the service's admin endpoints: download a backup archive
//! (`GET /api/v1/admin/backup`) and upload one (`POST /api/v1/admin/restore`), authorized by
//! `ADMIN_TOKEN` from the environment (never a command-line argument, so it never shows in a
//! process list or a CI log).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use data_safety::encryption::Recipients;
use data_safety::{archive, store, Keys, Manifest};

/// `ADMIN_TOKEN`, or a one-line error saying where to put it.
pub fn admin_token() -> anyhow::Result<String> {
    match std::env::var("ADMIN_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(t),
        _ => bail!("ADMIN_TOKEN is not set: export the service's ADMIN_TOKEN (in GitHub Actions: a secret passed as env) to use --remote"),
    }
}

/// `https://host` or `https://host/api/v1/admin/backup` -> the endpoint URL.
pub fn endpoint(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/api/v1/admin/backup").unwrap_or(base);
    let base = base.strip_suffix("/api/v1/admin/restore").unwrap_or(base);
    format!("{base}{path}")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .build()
        .into()
}

/// The service's JSON error message, or the status when it sent none.
fn refusal(what: &str, url: &str, mut response: ureq::http::Response<ureq::Body>) -> anyhow::Error {
    let status = response.status();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(300).collect());
    let hint = match status.as_u16() {
        401 => ": check that ADMIN_TOKEN is the service's ADMIN_TOKEN",
        404 => ": is this the service's URL, and does its release have the admin endpoints?",
        _ => "",
    };
    anyhow::anyhow!(
        "{what} {url} answered {status}: {message}{hint}",
        url = db_conn::redact_url(url)
    )
}

/// Downloads the service's backup into `root` (a temporary folder until complete); returns
/// the folder and its manifest. Not yet verified.
/// With `seal`, the snapshot is encrypted as it is written (see `archive::unpack_sealed`).
pub fn download(
    base: &str,
    root: &Path,
    seal: Option<&Recipients>,
) -> anyhow::Result<(PathBuf, Manifest)> {
    let token = admin_token()?;
    let url = endpoint(base, "/api/v1/admin/backup");
    let response = agent()
        .get(&url)
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .with_context(|| format!("cannot reach {}", db_conn::redact_url(&url)))?;
    if response.status().as_u16() != 200 {
        return Err(refusal("GET", &url, response));
    }
    store::create_private_dir(root)?;
    store::remove_stale(root);
    let temp = root.join(format!(
        "{}remote-{}",
        store::TEMP_PREFIX,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&temp);
    let mut reader = response.into_body().into_reader();
    let unpacked = match seal {
        Some(recipients) => archive::unpack_sealed(&mut reader, &temp, recipients),
        None => archive::unpack(&mut reader, &temp).and_then(|_| Manifest::read(&temp)),
    };
    match unpacked {
        Ok(manifest) => Ok((temp, manifest)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&temp);
            Err(anyhow::Error::from(e).context("the downloaded backup is incomplete"))
        }
    }
}

/// Moves a verified download to its final name under `root`.
pub fn publish(temp: &Path, root: &Path, manifest: &Manifest) -> anyhow::Result<PathBuf> {
    let mut id = manifest.id.clone();
    let mut n = 2;
    while root.join(&id).exists() {
        id = format!("{}_{n}", manifest.id);
        n += 1;
    }
    let dest = root.join(&id);
    for entry in std::fs::read_dir(temp)? {
        store::fsync_file(&entry?.path())?;
    }
    store::fsync_dir(temp)?;
    std::fs::rename(temp, &dest)
        .with_context(|| format!("cannot rename the download to {}", dest.display()))?;
    store::fsync_dir(root)?;
    Ok(dest)
}

/// Uploads the backup folder `dir` to the service, which verifies and restores it; returns
/// the service's JSON report. The archive streams through a pipe as it is written (an
/// encrypted snapshot decrypted with `keys` on the way: the service holds no identity).
pub fn upload(base: &str, dir: &Path, keys: &Keys) -> anyhow::Result<data_safety::RestoreReport> {
    let token = admin_token()?;
    let url = endpoint(base, "/api/v1/admin/restore");
    let (reader, mut writer) = std::io::pipe()?;
    let (dir, keys) = (dir.to_path_buf(), keys.clone());
    let writing = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(&mut writer);
        archive::write_backup_opened(&dir, &keys, &mut out)
    });
    let sent = agent()
        .post(&url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/x-tar")
        // The body goes only once the service accepted the token (a refusal reads as one).
        .header("Expect", "100-continue")
        .send(ureq::SendBody::from_owned_reader(reader));
    let written = writing.join().expect("the archive writer does not panic");
    // A local failure (a wrong key, a damaged file) cut the body short: it, not the
    // service's refusal of a truncated archive, is the reason.
    written?;
    let mut response =
        sent.with_context(|| format!("cannot reach {}", db_conn::redact_url(&url)))?;
    if response.status().as_u16() != 200 {
        return Err(refusal("POST", &url, response));
    }
    let text = response.body_mut().read_to_string()?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} answered something that is not a restore report",
            db_conn::redact_url(&url)
        )
    })
}
