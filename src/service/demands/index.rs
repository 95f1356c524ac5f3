//! Matching's in-process index of the listed listings (issue 20: matches p99 ≤ 100 ms at 16 clients on
//! 100,000 listings): each listed listing with a current profile, with what scoring needs, and the
//! listings of each specific concept in the order of `listing_match_concepts` (concept, listing id). A
//! demand's candidates are then found and read here instead of by two statements (the concept steps and
//! the profiles by primary key, about 60 % of a matches request's database time); the unknown words
//! still go through the search index, and the listings shown are read fresh and scored again.
//!
//! Freshness, by the database only: a trigger on `listings` (status, organisation, field, province, TRL,
//! price, listing date), on `listing_match_profiles` and on published `evaluations` sends
//! `listing_matches` notifications (`<generation> <listing id>`, at commit, to every process). One task
//! per process listens, loads everything once it listens, and then reads again by primary key every
//! listing it hears of, in batches, in the order heard. Every request reads the database's generation
//! first and uses the index only if the index has applied one at least as high; otherwise (a change not
//! yet heard, the index loading, the listener reconnecting after notifications may have been lost) it
//! retrieves with SQL, as before. The one exception is a running auction's current price, which the
//! index takes at the auction's last other change (bids do not notify; see the migration).
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::match_profiles::{
    Candidate, Indexed, Retrieval, BOTH_LIMIT, EACH_LIMIT, NEAR_LIMIT,
};
use crate::domain::codes::{Field, Province};
use crate::domain::relevance::Lookups;
use crate::service::listings::profiles;

/// The notification channel (see the migration `listing_matches_notify`).
pub const CHANNEL: &str = "listing_matches";
/// Most listings read again in one statement.
const BATCH: usize = 1_000;
/// When the index has stayed this long behind a generation that requests found (a transaction that
/// took it rolled back, so no notification brings it), it passes it with a mark of its own.
const QUIET: Duration = Duration::from_millis(500);
/// The payload's listing part of such a mark.
const MARK: &str = "-";
/// The payload's listing part that names every listing: a bulk load wrote too many to name one by one
/// (`techmarket seed bulk`), and the index loads again.
const RELOAD: &str = "*";

/// Makes every process's index load again when the caller's transaction commits: a bulk load that
/// kept the per-listing notifications quiet sends this one instead.
pub async fn load_again_everywhere(conn: &mut sqlx::PgConnection) -> sqlx::Result<()> {
    db::match_profiles::mark_generation(conn, CHANNEL, RELOAD).await
}

/// This process's index (empty until its task has loaded it; cheap to clone).
#[derive(Clone, Default)]
pub struct MatchIndex {
    inner: Arc<RwLock<Option<Snapshot>>>,
    /// The highest generation a request found and the index had not reached.
    wanted: Arc<AtomicI64>,
}

#[derive(Default)]
struct Snapshot {
    /// Every notification up to this generation is applied.
    generation: i64,
    listings: HashMap<Uuid, Entry>,
    /// Listings of each specific concept, sorted by id.
    postings: HashMap<i32, Vec<Uuid>>,
}

/// A listing as kept (about 0.5 KB with its postings: its tokens, 117 entries on average, stay in the
/// database and are read for the candidates of a demand that looks any up).
struct Entry {
    organization_id: Uuid,
    field: Field,
    province: Province,
    trl: i16,
    price_fen: Option<i64>,
    sort_price_fen: Option<i64>,
    listed_at: Option<DateTime<Utc>>,
    concepts: Box<[i64]>,
    /// Sorted.
    retrieval: Box<[i32]>,
}

impl Snapshot {
    fn remove(&mut self, id: &Uuid) {
        let Some(old) = self.listings.remove(id) else {
            return;
        };
        for c in old.retrieval.iter() {
            if let Some(list) = self.postings.get_mut(c) {
                if let Ok(i) = list.binary_search(id) {
                    list.remove(i);
                }
                if list.is_empty() {
                    self.postings.remove(c);
                }
            }
        }
    }

    /// Adds a listing (its postings kept sorted).
    fn insert(&mut self, row: Indexed) {
        let id = row.candidate.id;
        self.remove(&id);
        let Some(entry) = entry(row) else {
            return;
        };
        for c in entry.retrieval.iter() {
            let list = self.postings.entry(*c).or_default();
            if let Err(i) = list.binary_search(&id) {
                list.insert(i, id);
            }
        }
        self.listings.insert(id, entry);
    }

    /// The listings of any of `concepts`, in the order (concept, listing id), each concept once.
    fn in_order<'a>(&'a self, concepts: &[i32]) -> impl Iterator<Item = Uuid> + 'a {
        let mut cs = concepts.to_vec();
        cs.sort_unstable();
        cs.dedup();
        cs.into_iter()
            .flat_map(move |c| self.postings.get(&c).into_iter().flatten().copied())
    }

    /// The steps of `db::match_profiles::concept_candidates`, answered from memory.
    fn concept_candidates(&self, r: &Retrieval<'_>) -> Vec<Uuid> {
        let limit = |n: i64| usize::try_from(n).unwrap_or(0);
        let mut out: Vec<Uuid> = Vec::new();
        // both: listings with one of `first` and one of `second`, from the rarer side.
        if !r.first.is_empty() && !r.second.is_empty() {
            let size = |cs: &[i32]| -> usize {
                cs.iter()
                    .map(|c| self.postings.get(c).map_or(0, Vec::len))
                    .sum()
            };
            let (walk, other) = if size(r.first) <= size(r.second) {
                (r.first, r.second)
            } else {
                (r.second, r.first)
            };
            let mut seen: HashSet<Uuid> = HashSet::new();
            for id in self.in_order(walk) {
                if seen.len() >= limit(BOTH_LIMIT) {
                    break;
                }
                let has_other = self
                    .listings
                    .get(&id)
                    .is_some_and(|e| other.iter().any(|c| e.retrieval.binary_search(c).is_ok()));
                if has_other && seen.insert(id) {
                    out.push(id);
                }
            }
        }
        // each: a few listings for each unit.
        let mut units: Vec<(i32, Vec<i32>)> = Vec::new();
        for (c, u) in r.each_ids.iter().zip(r.each_units) {
            match units.iter_mut().find(|(x, _)| x == u) {
                Some((_, cs)) => cs.push(*c),
                None => units.push((*u, vec![*c])),
            }
        }
        for (_, cs) in &units {
            out.extend(self.in_order(cs).take(limit(EACH_LIMIT)));
        }
        // near: a few with any of the broader and related concepts.
        out.extend(self.in_order(r.near).take(limit(NEAR_LIMIT)));
        out
    }
}

/// What is kept of a row (`None`: a field or province that matching cannot score, as in `matches`).
fn entry(row: Indexed) -> Option<Entry> {
    let mut retrieval = row.retrieval;
    retrieval.sort_unstable();
    retrieval.dedup();
    let c = row.candidate;
    Some(Entry {
        organization_id: c.organization_id,
        field: Field::parse(&c.field)?,
        province: Province::parse(&c.province)?,
        trl: c.trl,
        price_fen: c.price_fen,
        sort_price_fen: c.sort_price_fen,
        listed_at: c.listed_at,
        concepts: c.concepts.into_boxed_slice(),
        retrieval: retrieval.into_boxed_slice(),
    })
}

impl MatchIndex {
    /// Whether the index has applied every change up to the database's `generation` (read by the
    /// request before it retrieves).
    pub fn covers(&self, generation: i64) -> bool {
        let covered = self.read(|s| s.generation >= generation).unwrap_or(false);
        if !covered {
            self.wanted.fetch_max(generation, Ordering::Relaxed);
        }
        covered
    }

    fn read<T>(&self, f: impl FnOnce(&Snapshot) -> T) -> Option<T> {
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(f)
    }

    fn write(&self, f: impl FnOnce(&mut Option<Snapshot>)) {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        f(&mut guard);
    }

    /// The ids of `db::match_profiles::concept_candidates`, from memory (`None`: not loaded).
    pub fn concept_candidates(&self, r: &Retrieval<'_>) -> Option<Vec<Uuid>> {
        self.read(|s| s.concept_candidates(r))
    }

    /// What `db::match_profiles::candidates` reads of `ids` (the listed ones with a current profile),
    /// with only the concept entries that `lookups` reads and **no tokens** (the caller reads those of
    /// the candidates, `db::match_profiles::tokens`) (`None`: not loaded).
    pub fn candidates(&self, ids: &[Uuid], lookups: &Lookups) -> Option<Vec<Candidate>> {
        self.read(|s| {
            ids.iter()
                .filter_map(|id| Some((*id, s.listings.get(id)?)))
                .map(|(id, e)| Candidate {
                    id,
                    organization_id: e.organization_id,
                    field: e.field.code().to_string(),
                    province: e.province.code().to_string(),
                    trl: e.trl,
                    price_fen: e.price_fen,
                    sort_price_fen: e.sort_price_fen,
                    listed_at: e.listed_at,
                    concepts: lookups.concepts_of(&e.concepts),
                    tokens: vec![],
                })
                .collect()
        })
    }

    /// How many listings it holds (`None`: not loaded).
    pub fn listings(&self) -> Option<usize> {
        self.read(|s| s.listings.len())
    }

    /// Keeps the index of `pool`'s database (the primary: it hears the notifications and reads what
    /// they name) until the pool closes.
    pub fn spawn(&self, pool: PgPool) {
        let marker = self.clone();
        let marker_pool = pool.clone();
        tokio::spawn(async move { marker.mark_when_stuck(marker_pool).await });
        let me = self.clone();
        tokio::spawn(async move {
            while !pool.is_closed() {
                if let Err(e) = me.follow(&pool).await {
                    if pool.is_closed() {
                        break;
                    }
                    tracing::warn!(error = %e, "matching index: reloading");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                // Notifications may have been lost: nothing is served until loaded again.
                me.write(|s| *s = None);
            }
        });
    }

    /// A generation taken by a transaction that rolled back is never heard of, and requests that read
    /// it would never use the index: when a request found one and nothing has been heard for a while,
    /// the index sends a mark of its own (this task). Notifications arrive in commit order, so once the mark is
    /// heard, every change committed before it has been heard too.
    async fn mark_when_stuck(&self, pool: PgPool) {
        let mut last: Option<(i64, i64)> = None;
        while !pool.is_closed() {
            tokio::time::sleep(QUIET).await;
            let wanted = self.wanted.load(Ordering::Relaxed);
            let now = self.read(|s| (s.generation, wanted));
            let stuck = match now {
                Some((applied, wanted)) => applied < wanted && last == now,
                None => false,
            };
            last = now;
            if stuck {
                let sent = match pool.acquire().await {
                    Ok(mut conn) => {
                        db::match_profiles::mark_generation(&mut conn, CHANNEL, MARK).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "matching index: mark not sent");
                }
            }
        }
    }

    /// Listens, loads, then applies what it hears, until the connection is lost (an error) or a bulk
    /// load asks for a new load (`Ok`).
    async fn follow(&self, pool: &PgPool) -> sqlx::Result<()> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let version = profiles::current_version();
        let mut conn = pool.acquire().await?;
        let generation = db::match_profiles::matches_generation(&mut conn).await?;
        let mut snap = Snapshot {
            generation,
            ..Snapshot::default()
        };
        {
            let mut rows = db::match_profiles::all_indexed(&mut conn, version);
            while let Some(row) = rows.try_next().await? {
                let id = row.candidate.id;
                let Some(e) = entry(row) else {
                    continue;
                };
                for c in e.retrieval.iter() {
                    snap.postings.entry(*c).or_default().push(id);
                }
                snap.listings.insert(id, e);
            }
        }
        for list in snap.postings.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        drop(conn);
        tracing::info!(listings = snap.listings.len(), "matching index loaded");
        self.write(|s| *s = Some(snap));
        loop {
            // `try_recv` says when the connection is lost (`None`): what was sent meanwhile is gone.
            let Some(first) = listener.try_recv().await? else {
                return Err(sqlx::Error::Protocol("listener lost its connection".into()));
            };
            let mut heard = vec![first];
            while heard.len() < BATCH {
                match listener.next_buffered() {
                    Some(n) => heard.push(n),
                    None => break,
                }
            }
            let mut ids: Vec<Uuid> = Vec::with_capacity(heard.len());
            let mut newest = 0_i64;
            for n in &heard {
                if n.payload().ends_with(RELOAD) {
                    tracing::info!("matching index: a bulk load, loading again");
                    return Ok(());
                }
                let parsed = n.payload().split_once(' ').and_then(|(g, id)| {
                    let id = match id {
                        MARK => None,
                        id => Some(Uuid::parse_str(id).ok()?),
                    };
                    Some((g.parse::<i64>().ok()?, id))
                });
                let Some((g, id)) = parsed else {
                    return Err(sqlx::Error::Protocol(format!(
                        "unexpected {CHANNEL} payload {:?}",
                        n.payload()
                    )));
                };
                newest = newest.max(g);
                ids.extend(id);
            }
            ids.sort_unstable();
            ids.dedup();
            let rows = if ids.is_empty() {
                vec![]
            } else {
                let mut conn = pool.acquire().await?;
                db::match_profiles::indexed(&mut conn, version, &ids).await?
            };
            self.write(|s| {
                if let Some(s) = s {
                    for id in &ids {
                        s.remove(id);
                    }
                    for row in rows {
                        s.insert(row);
                    }
                    s.generation = s.generation.max(newest);
                }
            });
        }
    }
}
