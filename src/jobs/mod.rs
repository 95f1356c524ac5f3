//! Background work that is safe with many server processes: each job takes its rows with
//! `FOR UPDATE SKIP LOCKED` (or a transaction-scoped advisory lock), so nothing runs twice. The work
//! itself is each area's `service::X::run_jobs`; time comes from the state's clock.
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::service::AppState;

/// Work that must happen within seconds (closing auctions). Public so tests can drive it.
pub async fn fast_tick(state: &AppState) -> anyhow::Result<()> {
    crate::service::trading::run_jobs(state).await?;
    // In memory unless the statistics' snapshot is due; the refresh itself runs in the background.
    crate::service::stats::run_jobs(state).await?;
    // Expert evaluations past their due date close (published or failed).
    crate::service::experts::run_jobs(state).await?;
    Ok(())
}

/// Housekeeping and slow deadlines (expiries, purges). Public so tests can drive it.
pub async fn slow_tick(state: &AppState) -> anyhow::Result<()> {
    // The settlement jobs (ledger leftovers, unpaid trades, expiring restrictions) first, and
    // whatever the purges do: a failing purge must not hold up deadlines.
    let settlement = crate::service::settlement::run_jobs(state).await;
    let purges = async {
        let mut conn = state.pool.acquire().await?;
        crate::db::users::purge_expired_sessions(&mut conn).await?;
        crate::db::throttle::purge_old(&mut conn).await?;
        crate::db::idempotency::purge_old(&mut conn).await?;
        anyhow::Ok(())
    }
    .await;
    // Listings without a matching profile of this vocabulary (at start, after a vocabulary change).
    let profiles = crate::service::listings::profiles::run_jobs(&state.pool).await;
    settlement.and(purges).and(profiles)
}

pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    // Webhook deliveries run beside the ticks: a receiver that hangs must not delay an auction's close.
    let deliveries = tokio::spawn(crate::service::interconnect::delivery::run(
        state.clone(),
        stop.clone(),
    ));
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Err(e) = fast_tick(&state).await {
                        // One line with the cause chain: a database restart should not print pages of backtrace.
                        tracing::warn!(error = %format!("{e:#}"), "fast jobs failed");
                    }
                    if n % 30 == 0 {
                        if let Err(e) = slow_tick(&state).await {
                            tracing::warn!(error = %format!("{e:#}"), "slow jobs failed");
                        }
                    }
                    n = n.wrapping_add(1);
                }
                _ = stop.changed() => break,
            }
        }
        let _ = deliveries.await;
    })
}
