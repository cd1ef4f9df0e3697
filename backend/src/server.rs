//! Startup and serving: check the persistence guard, open the database, migrate, then serve
//! until SIGTERM/Ctrl-C.

use std::net::SocketAddr;

use crate::api::{self, AppState, Auth};
use db_conn::DatabaseTarget;
use db_conn::{self as db, DbError, Pool};
use pf_data::migrations;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Migration(#[from] migrations::MigrationError),
    #[error("cannot listen on {addr}: {source}; choose another PORT or stop what holds it")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
    #[error("startup task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Guard(#[from] crate::guard::GuardError),
    #[error(transparent)]
    Admin(#[from] crate::api::admin::AdminConfigError),
}

/// Opens the database (creating the SQLite file when missing), applies pending migrations and
/// returns a pool plus the versions it applied. Blocking.
pub fn prepare(target: &DatabaseTarget) -> Result<(Pool, Vec<String>), ServeError> {
    let mut conn = db::establish(target)?;
    let applied = migrations::run_pending(&mut conn)?;
    drop(conn);
    Ok((db::pool(target)?, applied))
}

/// Serves the API on `addr` until `shutdown` completes, then drains in-flight requests.
pub async fn run(
    target: DatabaseTarget,
    auth: Auth,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    crate::instance::instance();
    let admin = crate::api::admin::AdminToken::from_env(&auth)?;
    // Before anything touches the database: no SQLite on ephemeral storage on Railway, no
    // empty database created where a marker says data used to be.
    crate::guard::check(&target)?;
    let prepare_target = target.clone();
    let (pool, applied) = tokio::task::spawn_blocking(move || {
        let (pool, applied) = prepare(&prepare_target)?;
        let mut conn = pool.get().map_err(|e| ServeError::Task(e.to_string()))?;
        crate::guard::after_open(&prepare_target, &mut conn)?;
        Ok::<_, ServeError>((pool, applied))
    })
    .await
    .map_err(|e| ServeError::Task(e.to_string()))??;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), versions = ?applied, "applied pending migrations");
    }
    let storage = crate::storage::describe(&target);
    tracing::info!(backend = storage.backend, location = %storage.location, persistent = storage.persistent, "database ready");
    if matches!(auth, Auth::Disabled) {
        tracing::warn!("--dev without API_TOKEN: AUTHENTICATION IS DISABLED, every request is accepted. Never do this in production.");
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "listening");
    let app = api::router(AppState::new(pool.clone(), target.clone(), auth).with_admin(admin));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    // Refresh the data marker so the next start knows whether this database held data.
    let _ = tokio::task::spawn_blocking(move || {
        if let Ok(mut conn) = pool.get() {
            data_safety::marker::record(&target, &mut conn);
        }
    })
    .await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Completes on SIGTERM (what platforms send on redeploy) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
