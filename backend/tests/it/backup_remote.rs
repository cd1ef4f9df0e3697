//! The admin endpoints on the real binary: `GET /api/v1/admin/backup` refuses without the
//! admin token (401) and with the API token (403), streams a backup that verifies, and shows in
//! `/health/data`; `POST /api/v1/admin/restore` puts it back while the service runs.

use std::io::Read;

use data_safety::{archive, Manifest};
use serde_json::Value;

use crate::backup_util::*;
use crate::binary::{database_url, serve_command, start_command};
use crate::support::{TestDb, TOKEN};

const ADMIN: &str = "admin-token-fedcba9876543210";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn get(addr: &str, path: &str, token: Option<&str>) -> ureq::http::Response<ureq::Body> {
    let mut req = agent().get(format!("http://{addr}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    req.call().expect("request")
}

fn error_of(mut response: ureq::http::Response<ureq::Body>) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    (
        status,
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn remote_backup_needs_the_admin_token_and_the_download_verifies() {
    for db in TestDb::each("remote_backup") {
        let b = db.name();
        fill(&mut db.migrated(), 2, 0);
        let server_backups = temp();
        let dir = server_backups.path().to_str().unwrap().to_owned();
        let server = start_command(serve_command(
            Some(&database_url(&db)),
            &[("ADMIN_TOKEN", ADMIN), ("BACKUPS_DIR", dir.as_str())],
        ));
        let addr = server.addr.clone();

        let (status, message) = error_of(get(&addr, "/api/v1/admin/backup", None));
        assert_eq!(status, 401, "{b}: {message}");
        assert!(message.contains("ADMIN_TOKEN"), "{b}: {message}");
        let (status, message) = error_of(get(&addr, "/api/v1/admin/backup", Some(TOKEN)));
        assert_eq!(status, 403, "{b}: the API token is not enough: {message}");
        let (status, _) = error_of(get(
            &addr,
            "/api/v1/admin/backup",
            Some("wrong-token-0123456789"),
        ));
        assert_eq!(status, 401, "{b}");
        let (status, _) = error_of(get(&addr, "/api/v1/fund_info", Some(ADMIN)));
        assert_eq!(status, 401, "{b}: the admin token is not an API token");

        let response = get(&addr, "/api/v1/admin/backup", Some(ADMIN));
        assert_eq!(response.status().as_u16(), 200, "{b}");
        let id = response.headers()["x-backup-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let local = temp();
        let folder = local.path().join(&id);
        let mut reader = response.into_body().into_reader();
        let files = archive::unpack(&mut reader, &folder).unwrap();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert!(
            rest.iter().all(|b| *b == 0),
            "{b}: nothing after the archive"
        );
        assert_eq!(files[0], "manifest.json", "{b}");
        let manifest = Manifest::read(&folder).unwrap();
        assert_eq!(manifest.id, id);
        let report =
            data_safety::verify(&folder, &db.target).unwrap_or_else(|e| panic!("{b}: {e}"));
        assert_eq!(report.rows, manifest.total_rows());
        assert_eq!(manifest.tables, digests(&db), "{b}: the live data");
        assert_eq!(
            entries(server_backups.path()),
            ["last-verified.json"],
            "{b}: the server keeps no copy"
        );

        // /health/data names the last verified backup.
        let (status, body) = crate::binary::http(&addr, "GET", "/health/data", None);
        assert_eq!(status, 200);
        let health: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            health["last_verified_backup"]["id"],
            Value::String(id.clone()),
            "{b}: {health}"
        );
        assert!(
            health["last_verified_backup"]["verified_at"].is_string(),
            "{b}"
        );

        // The data moves on; the uploaded backup brings it back while the service runs.
        let row = r#"{"config_key":"after the backup","config_value":"1","description":null}"#;
        assert_eq!(
            crate::binary::http(&addr, "POST", "/api/v1/system_config", Some(row)).0,
            201
        );
        assert_ne!(digests(&db), manifest.tables);
        let mut tar = Vec::new();
        archive::write_backup(&folder, &mut tar).unwrap();
        let upload = |token: &str, body: &[u8]| {
            agent()
                .post(format!("http://{addr}/api/v1/admin/restore"))
                .header("Authorization", format!("Bearer {token}"))
                // The body goes only once the service accepted the token.
                .header("Expect", "100-continue")
                .send(body)
                .unwrap()
        };
        assert_eq!(error_of(upload(TOKEN, &tar)).0, 403, "{b}");
        // A damaged archive: refused, nothing changed.
        let before = digests(&db);
        let mut damaged = tar.clone();
        let at = damaged.len() - 2048;
        damaged[at] ^= 0xff;
        let (status, message) = error_of(upload(ADMIN, &damaged));
        assert_eq!(status, 422, "{b}: {message}");
        assert!(
            message.contains("damaged") || message.contains("not valid"),
            "{b}: {message}"
        );
        assert_eq!(digests(&db), before, "{b}");

        let mut response = upload(ADMIN, &tar);
        let text = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{b}: {text}");
        let restored: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(restored["restored"], Value::String(id.clone()), "{b}");
        assert_eq!(restored["method"], "transaction", "{b}");
        assert_eq!(digests(&db), manifest.tables, "{b}: restored");
        let safety = restored["safety_backup"].as_str().unwrap();
        assert_eq!(
            Manifest::read(&server_backups.path().join(safety))
                .unwrap()
                .tables,
            before,
            "{b}"
        );
        // The service keeps serving, on the restored data.
        let (status, body) =
            crate::binary::http(&addr, "GET", "/api/v1/system_config?limit=500", None);
        assert_eq!(status, 200, "{b}: {body}");
        assert!(!body.contains("after the backup"), "{b}");
        assert_eq!(
            crate::binary::http(&addr, "POST", "/api/v1/system_config", Some(row)).0,
            201,
            "{b}: writes work"
        );
        drop(server);
    }
}
