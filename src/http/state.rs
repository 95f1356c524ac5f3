use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;

/// Shared by every handler: the pool and the configuration.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub events: crate::http::events::Events,
}

impl axum::extract::FromRef<AppState> for PgPool {
    fn from_ref(s: &AppState) -> PgPool {
        s.pool.clone()
    }
}
