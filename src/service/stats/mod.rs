//! Market statistics (API.md "Statistics", the `/stats` page): a snapshot of everything settled and
//! listed, shared by all server processes through `stats_snapshot` and kept in each process's memory.
//!
//! Cost under load: a request is answered from memory (no database work), the summary's JSON serialised
//! once per snapshot and the dashboard's body rendered once per snapshot and language
//! ([`Cache::rendition`]), so a request only copies it into its page. Each process asks the
//! database about the snapshot at most once per [`REFRESH_EVERY`] (when its copy is that old): it reads
//! the stored one, and only if that is as old too, locks the row and computes a new one — one
//! process at a time; a process arriving meanwhile waits for the lock and then takes the new
//! snapshot instead of computing again. So the market is counted at most once a minute whatever the
//! number of processes, and a snapshot served is at most about a minute old (plus the time to
//! compute it). The background job ([`run_jobs`], every second, in memory unless due) keeps it fresh
//! without traffic; a request that finds the copy due starts the same refresh in the background and
//! is answered with the copy it has (only a process's very first request waits for a snapshot).
//!
//! The computation streams every settled trade once (domain::stats folds them; memory stays small)
//! and counts listed listings with one grouped query.
mod csv;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;

use crate::db::stats as sdb;
use crate::domain::stats::{
    Accumulator, CountAmount, Flow, ListingGroup, MonthStats, ProvinceSavings, Stats, TradeFacts,
};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::service::AppState;

pub use csv::{trades_csv, Chunk, CHUNK_BYTES, CSV_HEADER};

/// A snapshot is recomputed once it is this old (and not before, by any process).
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);

/// The statistics at one moment, as every reader gets them.
#[derive(Debug)]
pub struct Snapshot {
    /// Everything committed before this moment is counted.
    pub as_of: DateTime<Utc>,
    pub stats: Stats,
    /// `GET /api/v1/stats/summary`'s body, serialised once.
    pub summary_json: String,
    /// What the pages made of this snapshot, per language (the `/stats` dashboard's body), made by the
    /// first request that needs it ([`Cache::rendition`]) and dropped with the snapshot: a new snapshot
    /// starts with none, so a page never shows figures older than the snapshot it is served from.
    renditions: [OnceLock<Arc<str>>; 2],
}

impl Snapshot {
    fn new(as_of: DateTime<Utc>, stats: Stats) -> Result<Self> {
        let summary_json = serde_json::to_string(&StatsSummary::of(as_of, &stats))
            .map_err(|e| Error::Internal(anyhow::anyhow!("summary serialisation: {e}")))?;
        Ok(Snapshot {
            as_of,
            stats,
            summary_json,
            renditions: Default::default(),
        })
    }

    /// Whether this snapshot is old enough to be replaced at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        is_due(self.as_of, now)
    }
}

fn is_due(as_of: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let every = TimeDelta::from_std(REFRESH_EVERY).unwrap_or(TimeDelta::MAX);
    now.signed_duration_since(as_of) >= every
}

/// This process's copy of the latest snapshot (one per `AppState`, so per database).
#[derive(Clone, Default)]
pub struct Cache(Arc<CacheInner>);

#[derive(Default)]
struct CacheInner {
    current: RwLock<Option<Arc<Snapshot>>>,
    /// The first load: concurrent first requests wait for one computation.
    first: tokio::sync::Mutex<()>,
    /// A background refresh is running.
    refreshing: AtomicBool,
    /// Rounds of database work this process has done for the statistics (for tests and logs).
    rounds: AtomicU64,
    /// Snapshots this process has computed (rather than taken from the database).
    computations: AtomicU64,
    /// Renditions of snapshots this process has made (see [`Cache::rendition`]).
    renditions: AtomicU64,
}

impl Cache {
    /// The copy in memory, if any (no database work).
    pub fn get(&self) -> Option<Arc<Snapshot>> {
        self.0.current.read().ok().and_then(|g| g.clone())
    }

    fn put(&self, s: Arc<Snapshot>) {
        if let Ok(mut g) = self.0.current.write() {
            // Never go back to an older snapshot (two refreshes racing in one process).
            if g.as_ref().is_none_or(|old| old.as_of <= s.as_of) {
                *g = Some(s);
            }
        }
    }

    /// How many times this process has gone to the database for the statistics.
    pub fn rounds(&self) -> u64 {
        self.0.rounds.load(Ordering::Relaxed)
    }

    /// How many snapshots this process has computed itself.
    pub fn computations(&self) -> u64 {
        self.0.computations.load(Ordering::Relaxed)
    }

    /// What `make` makes of `snap` in `lang` (a page's body), made once per snapshot and language in this
    /// process and kept with the snapshot. Two requests arriving together with none made may both make
    /// it; the first kept is served to everyone after.
    pub fn rendition(
        &self,
        snap: &Snapshot,
        lang: Lang,
        make: impl FnOnce(&Snapshot) -> Result<String>,
    ) -> Result<Arc<str>> {
        let slot = &snap.renditions[match lang {
            Lang::Zh => 0,
            Lang::En => 1,
        }];
        if let Some(r) = slot.get() {
            return Ok(Arc::clone(r));
        }
        let made: Arc<str> = make(snap)?.into();
        self.0.renditions.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::clone(slot.get_or_init(|| made)))
    }

    /// How many renditions this process has made (one per snapshot and language when it serves pages).
    pub fn renditions(&self) -> u64 {
        self.0.renditions.load(Ordering::Relaxed)
    }
}

/// The snapshot to serve: the copy in memory (a due one starts a refresh in the background), or,
/// on a process's first request, one read or computed now.
pub async fn current(state: &AppState) -> Result<Arc<Snapshot>> {
    let cache = &state.stats;
    if let Some(s) = cache.get() {
        if s.is_due(state.clock.now()) {
            spawn_refresh(state);
        }
        return Ok(s);
    }
    let _first = cache.0.first.lock().await;
    if let Some(s) = cache.get() {
        return Ok(s);
    }
    refresh(state).await
}

/// Starts a background refresh unless one is running in this process.
pub fn spawn_refresh(state: &AppState) {
    if state.stats.0.refreshing.swap(true, Ordering::AcqRel) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = refresh(&state).await {
            tracing::warn!(error = %e, "statistics refresh failed");
        }
        state.stats.0.refreshing.store(false, Ordering::Release);
    });
}

/// The job: refreshes this process's copy in the background when it is missing or due. Costs
/// nothing (no database work) otherwise.
pub async fn run_jobs(state: &AppState) -> Result<()> {
    let due = state
        .stats
        .get()
        .is_none_or(|s| s.is_due(state.clock.now()));
    if due {
        spawn_refresh(state);
    }
    Ok(())
}

/// One round: take the stored snapshot if it is fresh, else compute a new one under the row's lock
/// (or take the one another process computed while this one waited for the lock). Returns what
/// this process now serves.
pub async fn refresh(state: &AppState) -> Result<Arc<Snapshot>> {
    state.stats.0.rounds.fetch_add(1, Ordering::Relaxed);
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    if let Some(s) = usable(sdb::snapshot(&mut conn).await?, now) {
        return Ok(keep(state, s));
    }
    drop(conn);
    let mut tx = state.pool.begin().await?;
    let stored = sdb::lock_snapshot(&mut tx).await?;
    // Another process may have computed it while we waited for the lock.
    let now = state.clock.now();
    if let Some(s) = usable(stored, now) {
        tx.commit().await?;
        return Ok(keep(state, s));
    }
    let started = Instant::now();
    let stats = compute(&mut tx).await?;
    let body = serde_json::to_value(&stats)
        .map_err(|e| Error::Internal(anyhow::anyhow!("statistics serialisation: {e}")))?;
    let ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    sdb::save_snapshot(&mut tx, now, &body, ms).await?;
    tx.commit().await?;
    state.stats.0.computations.fetch_add(1, Ordering::Relaxed);
    tracing::info!(
        ms,
        trades = stats.trades.count,
        "statistics snapshot computed"
    );
    Ok(keep(state, Snapshot::new(now, stats)?))
}

fn keep(state: &AppState, s: Snapshot) -> Arc<Snapshot> {
    let s = Arc::new(s);
    state.stats.put(Arc::clone(&s));
    state.stats.get().unwrap_or(s)
}

/// A stored snapshot that is not due at `now` and that this version can read.
fn usable(row: Option<sdb::SnapshotRow>, now: DateTime<Utc>) -> Option<Snapshot> {
    let row = row?;
    let as_of = row.as_of?;
    if is_due(as_of, now) {
        return None;
    }
    let stats: Stats = serde_json::from_value(row.body?).ok()?;
    Snapshot::new(as_of, stats).ok()
}

/// Counts the market: every settled trade (one streamed statement, so all trade figures are of one
/// moment) and the listed listings.
async fn compute(conn: &mut sqlx::PgConnection) -> Result<Stats> {
    let mut acc = Accumulator::new();
    {
        let mut rows = sdb::stream_settled(conn);
        while let Some(r) = rows.try_next().await? {
            acc.add_trade(&TradeFacts {
                month: r.month,
                field: r.field,
                seller_exchange: r.seller_exchange,
                buyer_exchange: r.buyer_exchange,
                price_fen: r.price_fen,
                settled_fen: r.settled_fen,
                buyer_fee_fen: r.buyer_fee_fen,
                seller_fee_fen: r.seller_fee_fen,
            });
        }
    }
    for (province, exchange, field, count) in sdb::listing_groups(conn).await? {
        acc.add_listings(ListingGroup {
            province,
            exchange,
            field,
            count,
        });
    }
    Ok(acc.finish())
}

// ---------------------------------------------------------------- the API's shape

/// `GET /api/v1/stats/summary` (API.md "Statistics"; fields beyond those named there are additions).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsSummary {
    /// Everything committed before this moment is counted (at most about a minute old).
    pub as_of: DateTime<Utc>,
    pub listings: StatsListings,
    pub trades: StatsTrades,
    pub fees: StatsFees,
    /// Legacy fees (the seller's province's old rules, both parties) minus fees paid, over all
    /// settled trades; negative where the unified schedule charged more.
    pub savings_fen: i64,
}

/// Listings currently listed (挂牌中).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsListings {
    pub total: i64,
    /// Province code (of the listing's organisation) → count; every code, zero included.
    pub by_province: BTreeMap<String, i64>,
    /// Field code → count; every code, zero included.
    pub by_field: BTreeMap<String, i64>,
    /// Exchange code → count (addition).
    pub by_exchange: BTreeMap<String, i64>,
}

/// Settled trades.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsTrades {
    pub count: i64,
    pub turnover_fen: i64,
    /// Trades whose seller's and buyer's exchanges are in different provinces.
    pub cross_province_count: i64,
    pub cross_province_turnover_fen: i64,
    /// Calendar months of settlement in Asia/Shanghai, oldest first, from the first to the last
    /// month with a trade (months between without trades are listed with zeros).
    pub by_month: Vec<StatsMonth>,
    /// Cross-province share of the count, in ppm (addition).
    pub cross_province_share_ppm: i64,
    /// Field code → count and turnover (addition).
    pub by_field: BTreeMap<String, StatsCountAmount>,
    /// Seller province × buyer province (addition).
    pub flows: Vec<StatsFlow>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
    pub turnover_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsCountAmount {
    pub count: i64,
    pub turnover_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsFlow {
    pub seller_province: String,
    pub buyer_province: String,
    pub count: i64,
    pub turnover_fen: i64,
}

/// Fees of settled trades.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsFees {
    /// Exchange code → fee revenue in fen (buyer fees to the buyer's exchange, seller fees to the
    /// listing's exchange); every exchange, zero included.
    pub by_exchange: BTreeMap<String, i64>,
    /// All fees paid (addition).
    pub total_fen: i64,
    /// What the legacy rules of the sellers' provinces would have charged (addition).
    pub legacy_total_fen: i64,
    /// Per seller province (addition).
    pub savings_by_province: Vec<StatsProvinceSavings>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsProvinceSavings {
    pub seller_province: String,
    pub count: i64,
    pub legacy_fee_fen: i64,
    pub paid_fee_fen: i64,
    pub savings_fen: i64,
}

impl StatsSummary {
    pub fn of(as_of: DateTime<Utc>, s: &Stats) -> Self {
        let month = |m: &MonthStats| StatsMonth {
            month: m.month.clone(),
            count: m.count,
            turnover_fen: m.turnover_fen,
        };
        let ca = |c: &CountAmount| StatsCountAmount {
            count: c.count,
            turnover_fen: c.turnover_fen,
        };
        let flow = |f: &Flow| StatsFlow {
            seller_province: f.seller_province.clone(),
            buyer_province: f.buyer_province.clone(),
            count: f.count,
            turnover_fen: f.turnover_fen,
        };
        let saving = |p: &ProvinceSavings| StatsProvinceSavings {
            seller_province: p.seller_province.clone(),
            count: p.count,
            legacy_fee_fen: p.legacy_fee_fen,
            paid_fee_fen: p.paid_fee_fen,
            savings_fen: p.savings_fen,
        };
        StatsSummary {
            as_of,
            listings: StatsListings {
                total: s.listings.total,
                by_province: s.listings.by_province.clone(),
                by_field: s.listings.by_field.clone(),
                by_exchange: s.listings.by_exchange.clone(),
            },
            trades: StatsTrades {
                count: s.trades.count,
                turnover_fen: s.trades.turnover_fen,
                cross_province_count: s.trades.cross_province_count,
                cross_province_turnover_fen: s.trades.cross_province_turnover_fen,
                by_month: s.trades.by_month.iter().map(month).collect(),
                cross_province_share_ppm: s.cross_province_share_ppm(),
                by_field: s
                    .trades
                    .by_field
                    .iter()
                    .map(|(k, v)| (k.clone(), ca(v)))
                    .collect(),
                flows: s.trades.flows.iter().map(flow).collect(),
            },
            fees: StatsFees {
                by_exchange: s.fees.by_exchange.clone(),
                total_fen: s.fees.total_fen,
                legacy_total_fen: s.fees.legacy_total_fen,
                savings_by_province: s.fees.savings_by_province.iter().map(saving).collect(),
            },
            savings_fen: s.savings_fen,
        }
    }
}
