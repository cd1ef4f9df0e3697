//! Throwaway PostgreSQL databases for commands that need a whole database (the diesel CLI
//! connects by URL): created on a server the user names, dropped afterwards.

use db_conn::DatabaseTarget;

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

/// A throwaway database (dropped with the value): the one shared implementation.
pub type ScratchDb = db_conn::scratch::ScratchDatabase;

/// The diesel CLI, or a message saying how to install it.
pub fn diesel_cli() -> anyhow::Result<std::path::PathBuf> {
    migration_engine::diesel_cli::find().ok_or_else(|| {
        anyhow::anyhow!("the diesel CLI is needed here: cargo install diesel_cli --no-default-features --features postgres,sqlite-bundled")
    })
}
