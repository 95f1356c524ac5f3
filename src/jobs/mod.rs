//! Background work that is safe with many server processes: each job takes its rows with
//! `FOR UPDATE SKIP LOCKED` (or a transaction-scoped advisory lock), so nothing runs twice.
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::AppState;

/// The NOTIFY channels the event listener subscribes to.
pub const CHANNELS: &[&str] = &["auction_events"];

/// One pass of every periodic job. Public so tests can drive it.
pub async fn tick(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.pool.acquire().await?;
    crate::db::users::purge_expired_sessions(&mut conn).await?;
    crate::db::throttle::purge_old(&mut conn).await?;
    sqlx::query("delete from idempotency_keys where created_at < now() - interval '24 hours'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Err(e) = tick(&state).await {
                        tracing::warn!(error = ?e, "periodic jobs failed");
                    }
                }
                _ = stop.changed() => break,
            }
        }
    })
}
