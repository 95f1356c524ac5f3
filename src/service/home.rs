//! The home page's boards (issue 18): the newest listed listings (also the 挂牌公告), the running
//! auctions with their current price and end, the upcoming ones (`starts_at`) with their start and
//! start price, the newest open demands and the newest settled
//! trades (成交公示), served from this process's memory so that the home page costs one small
//! query (the search generation) like a cached search.
//!
//! Freshness: the boards are recomputed when the database's `listings_search_generation` moves
//! (any change to what is listed, by any process: an approval, a sale, a withdrawal — approvals and
//! withdrawals bump it again after they commit, see `listings::cache`) and at the latest after
//! [`FRESH`], which bounds how old an auction's current price, a new demand or a settlement may be
//! on the page (bids and demands do not move the generation, by design: a busy auction would
//! otherwise empty the cache at each bid). One computation at a time per process; the others wait
//! for it and take its result.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::db;
pub use crate::db::home::{HomeAuction, HomeDemand, HomeListing, HomeTrade};
use crate::error::Result;
use crate::service::AppState;

/// How long the boards are served without a change of generation.
pub const FRESH: Duration = Duration::from_secs(5);
const LISTINGS: i64 = 8;
const AUCTIONS: i64 = 6;
const UPCOMING: i64 = 4;
const DEMANDS: i64 = 6;
const TRADES: i64 = 8;

/// What the home page shows besides the statistics' headline figures.
#[derive(Debug, Clone)]
pub struct Boards {
    pub listings: Vec<HomeListing>,
    pub auctions: Vec<HomeAuction>,
    /// Auctions of listed listings that open later, soonest first.
    pub upcoming: Vec<HomeAuction>,
    pub demands: Vec<HomeDemand>,
    pub trades: Vec<HomeTrade>,
    pub computed_at: DateTime<Utc>,
}

struct Entry {
    generation: i64,
    at: Instant,
    boards: Arc<Boards>,
}

/// This process's boards (one per `AppState`, so per database).
#[derive(Clone, Default)]
pub struct Cache(Arc<CacheInner>);

#[derive(Default)]
struct CacheInner {
    entry: Mutex<Option<Entry>>,
    /// One computation at a time.
    computing: tokio::sync::Mutex<()>,
    /// Computations done (for tests).
    rounds: std::sync::atomic::AtomicU64,
}

impl Cache {
    fn fresh(&self, generation: i64) -> Option<Arc<Boards>> {
        let guard = self.0.entry.lock().ok()?;
        let e = guard.as_ref()?;
        (e.generation == generation && e.at.elapsed() < FRESH).then(|| e.boards.clone())
    }

    /// How many times this process computed the boards.
    pub fn rounds(&self) -> u64 {
        self.0.rounds.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The boards: from memory while the generation holds and they are fresh, else recomputed.
pub async fn boards(state: &AppState) -> Result<Arc<Boards>> {
    let cache = &state.home;
    let mut conn = state.pool.acquire().await?;
    let generation = db::listings::search_generation(&mut conn).await?;
    if let Some(b) = cache.fresh(generation) {
        return Ok(b);
    }
    let _one = cache.0.computing.lock().await;
    // Someone may have computed them while this request waited.
    let generation = db::listings::search_generation(&mut conn).await?;
    if let Some(b) = cache.fresh(generation) {
        return Ok(b);
    }
    let now = state.clock.now();
    let boards = Arc::new(Boards {
        listings: db::home::newest_listings(&mut conn, LISTINGS).await?,
        auctions: db::home::running_auctions(&mut conn, now, AUCTIONS).await?,
        upcoming: db::home::upcoming_auctions(&mut conn, now, UPCOMING).await?,
        demands: db::home::newest_demands(&mut conn, DEMANDS).await?,
        trades: db::home::newest_settled(&mut conn, TRADES).await?,
        computed_at: now,
    });
    cache
        .0
        .rounds
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if let Ok(mut e) = cache.0.entry.lock() {
        *e = Some(Entry {
            generation,
            at: Instant::now(),
            boards: boards.clone(),
        });
    }
    Ok(boards)
}
