//! Offers, fixed-price purchases and auctions.

use crate::http::AppState;

/// Periodic work of this area (run by `jobs::tick`, safe with several processes).
pub async fn run_jobs(_state: &AppState) -> anyhow::Result<()> {
    Ok(())
}
