//! Technology demands and matching.

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the
/// organisations and accounts exist. Must be idempotent.
pub async fn seed_demo(_pool: &sqlx::PgPool) -> anyhow::Result<()> {
    Ok(())
}
