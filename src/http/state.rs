//! The axum side of the shared state: the state itself is the service layer's
//! ([`crate::service::AppState`]); here only what axum needs to extract parts of it.
use sqlx::PgPool;

pub use crate::service::AppState;

impl axum::extract::FromRef<AppState> for PgPool {
    fn from_ref(s: &AppState) -> PgPool {
        s.pool.clone()
    }
}
