//! A small in-process cache of broad searches: the full ranked list of matching ids of a text search,
//! or the total of a filter-only search.
//!
//! Why: ranking and counting a text query that matches thousands of listings means reading every
//! match's search vector (hundreds of milliseconds for 10,000 matches); doing that for every request of a
//! popular query cannot hold p99 ≤ 50 ms. Only searches with at least [`CACHE_MIN_HITS`] matches are
//! kept; narrow ones are answered directly by the GIN index every time.
//!
//! Freshness: an entry belongs to a generation: this process's counter and the database's
//! `listings_search_generation` sequence, which a trigger on `listings` bumps on every change to what
//! search can see (by any server process or any part of the market); every search reads it. An entry of
//! an older generation is never served. The one window: a search that reads the database generation after
//! a writer's statement bumped it but before that writer commits may compute the old result under the new
//! generation. Approvals and withdrawals close it by bumping both generations again after they commit;
//! for other writers (a sale) such an entry lives at most [`FRESH`]: older entries are recomputed (served
//! meanwhile by one background task, stale-while-revalidate, up to [`MAX_STALE`]).
//! Bids are the exception: they move an auction's current price (`sort_price_fen`) without bumping the
//! generation, which would empty every cache at each bid of a busy auction. So a cached price-sorted or
//! price-filtered text search may order running auctions by a price up to [`FRESH`] old; the rows of a
//! page are re-checked against the price range.
//! The rows of a page are always read fresh, and only `listed` ones are shown.
//! Memory is bounded: at most 512 entries and 4 million ids (64 MiB) in all, oldest dropped first.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Searches with fewer matches are not cached (they are cheap to answer).
pub const CACHE_MIN_HITS: usize = 500;
/// How long an entry is served without recomputation (changes are caught by the generations; this
/// bounds the one race described above, and the refresh load at one recomputation per 30 s per search).
pub const FRESH: Duration = Duration::from_secs(30);
pub const MAX_STALE: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 512;
/// At most this many ids in all entries together (16 bytes each: 64 MiB).
const MAX_TOTAL_IDS: usize = 4_000_000;

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// What is kept: the ranked ids of a text search, or the total of a filter-only search.
#[derive(Debug, Clone)]
pub enum Cached {
    Ids(Arc<Vec<Uuid>>),
    Count(i64),
}

impl Cached {
    /// Ids held (memory).
    fn ids(&self) -> usize {
        match self {
            Cached::Ids(ids) => ids.len(),
            Cached::Count(_) => 0,
        }
    }

    fn hits(&self) -> usize {
        match self {
            Cached::Ids(ids) => ids.len(),
            Cached::Count(n) => usize::try_from(*n).unwrap_or(0),
        }
    }
}

/// The generation an entry was computed under: this process's and the database's.
pub type Generation = (u64, i64);

pub struct Entry {
    generation: Generation,
    at: Instant,
    value: Cached,
    refreshing: AtomicBool,
}

type Map = HashMap<String, Arc<Entry>>;
static ENTRIES: LazyLock<Mutex<Map>> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// One computation per key at a time (cold misses wait for it instead of piling onto the database).
static FLIGHTS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Forget every cached search (after a change to what is listed).
pub fn invalidate() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

fn local_generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// The current generation, given the database's (`db::listings::search_generation`).
pub fn generation(db: i64) -> Generation {
    (local_generation(), db)
}

/// The database generation of `key`'s entry, if it has one of this process's current generation: a
/// search may serve that entry's ids and check the database generation in the statement that reads
/// the page's rows (one round trip instead of two), falling back when the database has moved on.
pub fn db_generation_of(key: &str) -> Option<i64> {
    let m = ENTRIES.lock().ok()?;
    let e = m.get(key)?;
    (e.generation.0 == local_generation()).then_some(e.generation.1)
}

/// What the cache holds for `key`.
pub enum Lookup {
    /// Fresh: use it.
    Fresh(Cached),
    /// Usable, and the caller should refresh it in the background (it won the right to).
    Stale(Cached),
    /// Usable; another task is already refreshing it.
    StaleRefreshing(Cached),
    Miss,
}

pub fn lookup(key: &str, current: Generation) -> Lookup {
    let entry = match ENTRIES.lock() {
        Ok(m) => m.get(key).cloned(),
        Err(_) => None,
    };
    let Some(e) = entry else {
        return Lookup::Miss;
    };
    if e.generation != current {
        return Lookup::Miss;
    }
    let age = e.at.elapsed();
    if age < FRESH {
        Lookup::Fresh(e.value.clone())
    } else if age < MAX_STALE {
        if e.refreshing.swap(true, Ordering::SeqCst) {
            Lookup::StaleRefreshing(e.value.clone())
        } else {
            Lookup::Stale(e.value.clone())
        }
    } else {
        Lookup::Miss
    }
}

/// Stores a computed result (computed under `generation`) if it is broad enough to be worth keeping.
pub fn store(key: &str, generation: Generation, value: Cached) {
    let Ok(mut m) = ENTRIES.lock() else {
        return;
    };
    if value.hits() < CACHE_MIN_HITS {
        m.remove(key);
        return;
    }
    m.remove(key);
    let mut total: usize = m.values().map(|e| e.value.ids()).sum::<usize>() + value.ids();
    // Drop the oldest entries while over either budget.
    while m.len() >= MAX_ENTRIES || total > MAX_TOTAL_IDS {
        let Some(oldest) = m.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone()) else {
            break;
        };
        if let Some(e) = m.remove(&oldest) {
            total = total.saturating_sub(e.value.ids());
        }
    }
    m.insert(
        key.to_string(),
        Arc::new(Entry {
            generation,
            at: Instant::now(),
            value,
            refreshing: AtomicBool::new(false),
        }),
    );
}

/// Gives up the right to refresh (after a failed refresh) so that someone else may try.
pub fn refresh_failed(key: &str) {
    if let Ok(m) = ENTRIES.lock() {
        if let Some(e) = m.get(key) {
            e.refreshing.store(false, Ordering::SeqCst);
        }
    }
}

/// The lock serialising computations of `key`.
pub fn flight(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    match FLIGHTS.lock() {
        Ok(mut m) => {
            if m.len() > 4 * MAX_ENTRIES {
                m.retain(|_, v| Arc::strong_count(v) > 1);
            }
            m.entry(key.to_string())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
                .clone()
        }
        Err(_) => Arc::new(tokio::sync::Mutex::new(())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Cached {
        Cached::Ids(Arc::new((0..n).map(|_| Uuid::now_v7()).collect()))
    }

    #[test]
    fn broad_results_are_kept_until_invalidated_and_narrow_ones_not_at_all() {
        let g = generation(7);
        store("test-broad", g, ids(CACHE_MIN_HITS));
        assert!(
            matches!(lookup("test-broad", g), Lookup::Fresh(Cached::Ids(v)) if v.len() == CACHE_MIN_HITS)
        );
        store("test-narrow", g, ids(CACHE_MIN_HITS - 1));
        assert!(matches!(lookup("test-narrow", g), Lookup::Miss));
        store("test-count", g, Cached::Count(10_000));
        assert!(matches!(
            lookup("test-count", g),
            Lookup::Fresh(Cached::Count(10_000))
        ));
        store("test-count", g, Cached::Count(3));
        assert!(
            matches!(lookup("test-count", g), Lookup::Miss),
            "a shrunken result replaces the entry"
        );

        // A result computed before an invalidation is never served.
        let before = generation(7);
        invalidate();
        store("test-old", before, ids(CACHE_MIN_HITS + 1));
        assert!(matches!(lookup("test-old", generation(7)), Lookup::Miss));
        store("test-new", generation(7), Cached::Count(1_000));
        assert!(matches!(
            lookup("test-new", generation(7)),
            Lookup::Fresh(_)
        ));
        assert!(
            matches!(lookup("test-new", generation(8)), Lookup::Miss),
            "the database moved on"
        );
        invalidate();
        assert!(matches!(lookup("test-new", generation(7)), Lookup::Miss));
    }
}
