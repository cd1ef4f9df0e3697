//! Throwaway PostgreSQL databases for commands that need a whole database (the diesel CLI
//! connects by URL): created on a server the user names, dropped afterwards.

use anyhow::Context;
use backend::config::{redact_url, DatabaseTarget};
use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::Ctx;

/// The server to create scratch databases on: `explicit`, else the target when it is
/// PostgreSQL, else `TEST_DATABASE_URL`.
pub fn server_url(ctx: &Ctx, explicit: Option<&str>) -> Option<String> {
    if let Some(url) = explicit {
        return Some(url.to_owned());
    }
    if let Ok(DatabaseTarget::Postgres { url }) = ctx.target() {
        return Some(url);
    }
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

pub struct ScratchDb {
    server: String,
    name: String,
    pub url: String,
}

impl ScratchDb {
    pub fn create(server: &str, purpose: &str) -> anyhow::Result<Self> {
        let name = format!(
            "pf_{purpose}_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros() % 1_000_000
        );
        let mut conn = diesel::PgConnection::establish(server).with_context(|| {
            format!(
                "cannot connect to {} to create a scratch database",
                redact_url(server)
            )
        })?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .with_context(|| {
                format!(
                    "cannot create a scratch database on {}: the user needs CREATEDB",
                    redact_url(server)
                )
            })?;
        let mut url = url::Url::parse(server).context("the PostgreSQL URL does not parse")?;
        url.set_path(&name);
        Ok(Self {
            server: server.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    pub fn target(&self) -> DatabaseTarget {
        DatabaseTarget::Postgres {
            url: self.url.clone(),
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.server) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The diesel CLI, or a message saying how to install it.
pub fn diesel_cli() -> anyhow::Result<std::path::PathBuf> {
    backend::testing::diesel_cli().ok_or_else(|| {
        anyhow::anyhow!("the diesel CLI is needed here: cargo install diesel_cli --no-default-features --features postgres,sqlite-bundled")
    })
}
