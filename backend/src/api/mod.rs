//! The HTTP API: one router built from the resource list, bearer auth, JSON errors.

pub mod admin;
mod auth;
mod crud;
mod error;
mod health;
pub mod imports;
mod json;
pub mod ledger;
pub mod openapi;
mod page;
mod stream;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{middleware, Router};

pub use auth::{Auth, AuthConfigError, TokenRule, MIN_TOKEN_LEN};
pub use crud::Page;
pub use error::AppError;
pub use health::DataHealth;
pub use json::ApiJson;

use db_conn::DatabaseTarget;
use db_conn::{DbConnection, Pool};
use pf_data::models::visit_all;
use pf_data::resource::{Resource, ResourceVisitor};

/// Largest request body accepted; larger ones get a 413 JSON error.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub target: Arc<DatabaseTarget>,
    pub auth: Arc<Auth>,
    /// `ADMIN_TOKEN` for `/api/v1/admin/*` (disabled unless set with [`Self::with_admin`]).
    pub admin: Arc<admin::AdminToken>,
}

impl AppState {
    pub fn new(pool: Pool, target: DatabaseTarget, auth: Auth) -> Self {
        Self {
            pool,
            target: Arc::new(target),
            auth: Arc::new(auth),
            admin: Arc::default(),
        }
    }

    /// Enables the admin endpoints with this token.
    pub fn with_admin(mut self, admin: admin::AdminToken) -> Self {
        self.admin = Arc::new(admin);
        self
    }

    /// Runs blocking diesel work on the blocking pool with a pooled connection.
    pub async fn with_conn<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| AppError::Internal(format!("database task failed: {e}")))?
    }
}

pub fn router(state: AppState) -> Router {
    struct Routes(Router<AppState>);
    impl ResourceVisitor for Routes {
        fn visit<R: Resource>(&mut self) {
            let routes = std::mem::take(&mut self.0);
            self.0 = routes.merge(crud::routes::<R>());
        }
    }
    let mut resources = Routes(Router::new());
    visit_all(&mut resources);

    resources
        .0
        .merge(admin::routes())
        .merge(imports::routes())
        .merge(ledger::routes())
        .merge(page::routes())
        .route("/health", get(health::health))
        .route("/health/data", get(health::data))
        .route("/openapi.json", get(openapi::serve))
        .fallback(|| async { AppError::not_found("no such route: see /openapi.json for the API") })
        .method_not_allowed_fallback(|| async {
            AppError::Client {
                status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                message: "method not allowed on this route: see /openapi.json".into(),
            }
        })
        // A layer (not route_layer), so unknown routes are refused without a token too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
