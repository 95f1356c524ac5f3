//! Offers, fixed-price purchases and auctions.

use crate::http::AppState;

/// Periodic work of this area (run by `jobs::tick`, safe with several processes).
pub async fn run_jobs(_state: &AppState) -> anyhow::Result<()> {
    Ok(())
}

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the
/// organisations and accounts exist. Must be idempotent.
pub async fn seed_demo(_pool: &sqlx::PgPool) -> anyhow::Result<()> {
    Ok(())
}
