//! The approved fee schedules, kept in each process so that a fee quote costs no database round
//! trip (issue 23: a quote at 1.5× the rate of `/readyz`).
//!
//! The list is loaded on the first quote and dropped whenever a schedule is approved: in this
//! process at once (after the commit), in every other process by the `fee_schedules`
//! notification that the approval sends in its transaction (`LISTEN/NOTIFY`, through the live
//! event hub). A reconnected listener may have missed notifications, so the hub's resync event
//! drops the list too. A load that raced with an approval is not kept: each drop advances a
//! generation, and a list read under an older generation is used once and thrown away.
//!
//! One list per database (the tests run many databases in one process).
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::domain::fees::FeeSchedule;
use crate::error::Result;
use crate::service::events::live::{Hub, RESYNC};

/// The notification an approval sends (`pg_notify`, delivered at its commit).
pub const CHANNEL: &str = "fee_schedules";

/// More approved versions than a market will ever have; the oldest beyond it are never in force.
const MAX_VERSIONS: i64 = 10_000;

/// One approved version, as the quote needs it.
#[derive(Debug)]
pub struct Version {
    pub id: Uuid,
    pub effective_at: DateTime<Utc>,
    pub schedule: FeeSchedule,
}

/// Newest first: latest `effective_at`, then latest decision (the order of `db::fees::in_force`).
type Versions = Arc<Vec<Version>>;

#[derive(Default)]
struct Entry {
    generation: u64,
    versions: Option<Versions>,
}

static CACHE: LazyLock<RwLock<HashMap<String, Entry>>> = LazyLock::new(Default::default);

/// The version in force at `at` (the approved one with the latest `effective_at` ≤ `at`).
pub fn pick(versions: &[Version], at: DateTime<Utc>) -> Option<&Version> {
    versions.iter().find(|v| v.effective_at <= at)
}

/// The approved versions of `pool`'s database, from this process's copy when it has one.
pub async fn versions(pool: &PgPool) -> Result<Versions> {
    let key = db::database_key(pool);
    let generation = {
        let map = CACHE.read().unwrap_or_else(|e| e.into_inner());
        match map.get(&key) {
            Some(Entry {
                versions: Some(v), ..
            }) => return Ok(v.clone()),
            Some(e) => e.generation,
            None => 0,
        }
    };
    let mut conn = pool.acquire().await?;
    let rows = db::fees::approved(&mut conn, MAX_VERSIONS).await?;
    drop(conn);
    let loaded: Versions = Arc::new(
        rows.iter()
            .filter_map(|r| {
                Some(Version {
                    id: r.id,
                    effective_at: r.effective_at?,
                    schedule: r.schedule(),
                })
            })
            .collect(),
    );
    let mut map = CACHE.write().unwrap_or_else(|e| e.into_inner());
    let entry = map.entry(key).or_default();
    if entry.generation == generation {
        entry.versions = Some(loaded.clone());
    }
    Ok(loaded)
}

/// Drops `pool`'s copy (an approval committed in this process).
pub fn invalidate(pool: &PgPool) {
    invalidate_key(db::database_key(pool));
}

fn invalidate_key(key: String) {
    let mut map = CACHE.write().unwrap_or_else(|e| e.into_inner());
    let entry = map.entry(key).or_default();
    entry.generation += 1;
    entry.versions = None;
}

/// Drops `pool`'s copy whenever another process approves a schedule (its notification reaches
/// the hub) or the hub's listener reconnected (notifications may have been missed). Subscribe
/// before the listener starts, so that nothing falls between.
pub fn spawn_invalidator(hub: &Hub, pool: &PgPool) {
    let mut rx = hub.subscribe();
    let key = db::database_key(pool);
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match rx.recv().await {
                Ok(m) if m.channel == CHANNEL || m.channel == RESYNC => invalidate_key(key.clone()),
                Ok(_) => {}
                // Messages were skipped: one of them may have been ours.
                Err(RecvError::Lagged(_)) => invalidate_key(key.clone()),
                Err(RecvError::Closed) => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn side() -> crate::domain::fees::SideSchedule {
        crate::domain::fees::SideSchedule {
            bands: vec![],
            min_fee_fen: 0,
            max_fee_fen: None,
        }
    }

    fn v(n: u128, at: i64) -> Version {
        Version {
            id: Uuid::from_u128(n),
            effective_at: Utc.timestamp_opt(at, 0).single().expect("valid time"),
            schedule: FeeSchedule {
                buyer: side(),
                seller: side(),
            },
        }
    }

    #[test]
    fn the_version_in_force_is_the_newest_already_effective() {
        let list = vec![v(3, 300), v(2, 200), v(1, 100)];
        let at = |s| Utc.timestamp_opt(s, 0).single().expect("valid time");
        assert_eq!(pick(&list, at(99)).map(|v| v.id), None);
        assert_eq!(pick(&list, at(100)).map(|v| v.id), Some(Uuid::from_u128(1)));
        assert_eq!(pick(&list, at(299)).map(|v| v.id), Some(Uuid::from_u128(2)));
        assert_eq!(pick(&list, at(300)).map(|v| v.id), Some(Uuid::from_u128(3)));
    }
}
