//! Technology achievements: drafting, review, search.

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the
/// organisations and accounts exist. Must be idempotent.
pub async fn seed_demo(_pool: &sqlx::PgPool) -> anyhow::Result<()> {
    Ok(())
}

/// `techmarket seed bulk`: N listed listings and M open demands for benchmarks.
pub async fn seed_bulk(_pool: &sqlx::PgPool, listings: u32, demands: u32) -> anyhow::Result<()> {
    anyhow::bail!("seed bulk ({listings} listings, {demands} demands) is not built yet")
}
