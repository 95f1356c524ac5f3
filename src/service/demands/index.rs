//! Matching's in-process index of the listed listings (issue 20: matches p99 ≤ 100 ms at 16 clients on
//! 100,000 listings): each listed listing with a current profile, with what scoring needs, and the
//! listings of each specific concept in the order of `listing_match_concepts` (concept, listing id). A
//! demand's candidates are then found and read here instead of by statements (the concept steps, the
//! profiles by primary key and their tokens); the unknown words still go through the search index, and
//! the listings shown are read fresh and scored again. Listings are named by `u32` slots (the posting
//! lists) and the profiles' entries by `u32` names of interned values (many listings share them), so the
//! tokens fit beside the rest (issue 23: RSS ≤ 150 MB).
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
    /// The slot of each listing kept.
    slots: HashMap<Uuid, u32>,
    /// By slot: the listing's id (stale in a free slot) and what is kept of it (`None`: a free slot).
    ids: Vec<Uuid>,
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    /// Listings (slots) of each specific concept, in the order of their ids.
    postings: HashMap<i32, Vec<u32>>,
    /// The distinct entries of the profiles' concepts and tokens (many listings share them).
    concepts: Interner,
    tokens: Interner,
}

/// Distinct `i64` values, each stored once and named by a `u32`; a value stays after its last user
/// leaves (the values are bounded by the vocabulary and the words of the listings).
#[derive(Default)]
struct Interner {
    values: Vec<i64>,
    slots: HashMap<i64, u32>,
}

impl Interner {
    /// The names of `values` (`None`: more than `u32::MAX` distinct values).
    fn intern(&mut self, values: &[i64]) -> Option<Names> {
        let names = values
            .iter()
            .map(|v| match self.slots.get(v) {
                Some(s) => Some(*s),
                None => {
                    let s = u32::try_from(self.values.len()).ok()?;
                    self.values.push(*v);
                    self.slots.insert(*v, s);
                    Some(s)
                }
            })
            .collect::<Option<Vec<u32>>>()?;
        Some(Names::of(names))
    }

    fn value(&self, slot: u32) -> i64 {
        self.values[slot as usize]
    }

    fn shrink_to_fit(&mut self) {
        self.values.shrink_to_fit();
        self.slots.shrink_to_fit();
    }
}

/// Names of interned values: two bytes each while they all fit (the commonest values are met first and
/// get the smallest names: 2,317 distinct tokens and 10,332 concept entries in a 100,000-listing seed),
/// else four.
enum Names {
    Narrow(Box<[u16]>),
    Wide(Box<[u32]>),
}

impl Names {
    fn of(names: Vec<u32>) -> Names {
        match names.iter().map(|n| u16::try_from(*n)).collect() {
            Ok(narrow) => Names::Narrow(narrow),
            Err(_) => Names::Wide(names.into_boxed_slice()),
        }
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (narrow, wide): (&[u16], &[u32]) = match self {
            Names::Narrow(n) => (n, &[]),
            Names::Wide(w) => (&[], w),
        };
        narrow
            .iter()
            .map(|n| u32::from(*n))
            .chain(wide.iter().copied())
    }
}

/// A listing as kept (about 0.4 KB: its concepts' and tokens' entries as names of the interned values,
/// its retrieval concepts and postings).
struct Entry {
    organization_id: Uuid,
    field: Field,
    province: Province,
    trl: i16,
    price_fen: Option<i64>,
    sort_price_fen: Option<i64>,
    listed_at: Option<DateTime<Utc>>,
    /// Names in `Snapshot::concepts`.
    concepts: Names,
    /// Names in `Snapshot::tokens`.
    tokens: Names,
    /// Sorted.
    retrieval: Box<[i32]>,
}

impl Snapshot {
    fn entry(&self, slot: u32) -> Option<&Entry> {
        self.entries.get(slot as usize)?.as_ref()
    }

    /// Where `slot` belongs in a posting list (in the order of the listings' ids).
    fn position(&self, list: &[u32], id: &Uuid) -> Result<usize, usize> {
        list.binary_search_by(|s| self.ids[*s as usize].cmp(id))
    }

    fn remove(&mut self, id: &Uuid) {
        let Some(slot) = self.slots.remove(id) else {
            return;
        };
        let Some(old) = self.entries[slot as usize].take() else {
            return;
        };
        self.free.push(slot);
        for c in old.retrieval.iter() {
            let Some(list) = self.postings.get(c) else {
                continue;
            };
            let at = self.position(list, id);
            if let Some(list) = self.postings.get_mut(c) {
                if let Ok(i) = at {
                    list.remove(i);
                }
                if list.is_empty() {
                    self.postings.remove(c);
                }
            }
        }
    }

    /// A slot for `id` with `entry` (not yet in any posting list).
    fn place(&mut self, id: Uuid, entry: Entry) -> u32 {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.ids[slot as usize] = id;
                self.entries[slot as usize] = Some(entry);
                slot
            }
            None => {
                // More than 4 billion listings would not fit in memory long before.
                let slot = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
                self.ids.push(id);
                self.entries.push(Some(entry));
                slot
            }
        };
        self.slots.insert(id, slot);
        slot
    }

    /// Adds a listing (its postings kept in the order of the ids).
    fn insert(&mut self, row: Indexed) {
        let id = row.candidate.id;
        self.remove(&id);
        let Some(entry) = self.entry_of(row) else {
            return;
        };
        let retrieval = entry.retrieval.clone();
        let slot = self.place(id, entry);
        for c in retrieval.iter() {
            let at = self
                .postings
                .get(c)
                .map_or(Err(0), |list| self.position(list, &id));
            if let Err(i) = at {
                self.postings.entry(*c).or_default().insert(i, slot);
            }
        }
    }

    /// What is kept of a row (`None`: a field or province that matching cannot score, as in `matches`).
    fn entry_of(&mut self, row: Indexed) -> Option<Entry> {
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
            concepts: self.concepts.intern(&c.concepts)?,
            tokens: self.tokens.intern(&c.tokens)?,
            retrieval: retrieval.into_boxed_slice(),
        })
    }

    /// The listings (slots) of any of `concepts`, in the order (concept, listing id), each concept once.
    fn in_order<'a>(&'a self, concepts: &[i32]) -> impl Iterator<Item = u32> + 'a {
        let mut cs = concepts.to_vec();
        cs.sort_unstable();
        cs.dedup();
        cs.into_iter()
            .flat_map(move |c| self.postings.get(&c).into_iter().flatten().copied())
    }

    /// The steps of `db::match_profiles::concept_candidates`, answered from memory.
    fn concept_candidates(&self, r: &Retrieval<'_>) -> Vec<Uuid> {
        let limit = |n: i64| usize::try_from(n).unwrap_or(0);
        let mut out: Vec<u32> = Vec::new();
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
            let mut seen: HashSet<u32> = HashSet::new();
            for slot in self.in_order(walk) {
                if seen.len() >= limit(BOTH_LIMIT) {
                    break;
                }
                let has_other = self
                    .entry(slot)
                    .is_some_and(|e| other.iter().any(|c| e.retrieval.binary_search(c).is_ok()));
                if has_other && seen.insert(slot) {
                    out.push(slot);
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
        out.into_iter().map(|s| self.ids[s as usize]).collect()
    }

    /// After the load: the posting lists in the order of the listings' ids, and no spare capacity.
    fn settle(&mut self) {
        let ids = &self.ids;
        for list in self.postings.values_mut() {
            list.sort_unstable_by_key(|s| ids[*s as usize]);
            list.dedup();
            list.shrink_to_fit();
        }
        self.postings.shrink_to_fit();
        self.slots.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.entries.shrink_to_fit();
        self.concepts.shrink_to_fit();
        self.tokens.shrink_to_fit();
    }
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
    /// with only the concept and token entries that `lookups` reads (`None`: not loaded).
    pub fn candidates(&self, ids: &[Uuid], lookups: &Lookups) -> Option<Vec<Candidate>> {
        self.read(|s| {
            ids.iter()
                .filter_map(|id| Some((*id, s.entry(*s.slots.get(id)?)?)))
                .map(|(id, e)| Candidate {
                    id,
                    organization_id: e.organization_id,
                    field: e.field.code().to_string(),
                    province: e.province.code().to_string(),
                    trl: e.trl,
                    price_fen: e.price_fen,
                    sort_price_fen: e.sort_price_fen,
                    listed_at: e.listed_at,
                    concepts: e
                        .concepts
                        .iter()
                        .map(|n| s.concepts.value(n))
                        .filter(|v| lookups.reads_concept(*v))
                        .collect(),
                    tokens: if lookups.tokens.is_empty() {
                        vec![]
                    } else {
                        e.tokens
                            .iter()
                            .map(|n| s.tokens.value(n))
                            .filter(|v| lookups.reads_token(*v))
                            .collect()
                    },
                })
                .collect()
        })
    }

    /// How many listings it holds (`None`: not loaded).
    pub fn listings(&self) -> Option<usize> {
        self.read(|s| s.slots.len())
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
                if snap.slots.contains_key(&id) {
                    continue;
                }
                let Some(e) = snap.entry_of(row) else {
                    continue;
                };
                let retrieval = e.retrieval.clone();
                let slot = snap.place(id, e);
                for c in retrieval.iter() {
                    snap.postings.entry(*c).or_default().push(slot);
                }
            }
        }
        snap.settle();
        drop(conn);
        tracing::info!(
            listings = snap.slots.len(),
            concept_values = snap.concepts.values.len(),
            token_values = snap.tokens.values.len(),
            postings = snap.postings.values().map(Vec::len).sum::<usize>(),
            "matching index loaded"
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: Uuid, retrieval: Vec<i32>, concepts: Vec<i64>, tokens: Vec<i64>) -> Indexed {
        Indexed {
            candidate: Candidate {
                id,
                organization_id: Uuid::nil(),
                field: Field::ALL[0].code().to_string(),
                province: Province::ALL[0].code().to_string(),
                trl: 5,
                price_fen: Some(100),
                sort_price_fen: None,
                listed_at: None,
                concepts,
                tokens,
            },
            retrieval,
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn order(s: &Snapshot, concepts: &[i32]) -> Vec<Uuid> {
        s.in_order(concepts)
            .map(|slot| s.ids[slot as usize])
            .collect()
    }

    #[test]
    fn posting_lists_stay_in_the_order_of_the_ids_when_slots_are_freed_and_reused() {
        let mut s = Snapshot::default();
        for n in [5, 1, 9, 3] {
            s.insert(row(id(n), vec![7, 2], vec![], vec![]));
        }
        assert_eq!(order(&s, &[7]), vec![id(1), id(3), id(5), id(9)]);
        s.remove(&id(3));
        s.remove(&id(9));
        assert_eq!(order(&s, &[2, 7]), vec![id(1), id(5), id(1), id(5)]);
        // The freed slots are taken again, by listings that sort anywhere.
        s.insert(row(id(4), vec![7], vec![], vec![]));
        s.insert(row(id(0), vec![7, 8], vec![], vec![]));
        assert_eq!(s.ids.len(), 4, "no slot added while some were free");
        assert_eq!(order(&s, &[7]), vec![id(0), id(1), id(4), id(5)]);
        assert_eq!(order(&s, &[8]), vec![id(0)]);
        // A listing inserted again replaces itself: its old concepts' lists forget it.
        s.insert(row(id(1), vec![8], vec![], vec![]));
        assert_eq!(order(&s, &[7]), vec![id(0), id(4), id(5)]);
        assert_eq!(order(&s, &[8]), vec![id(0), id(1)]);
        assert_eq!(order(&s, &[2]), vec![id(5)]);
        s.remove(&id(5));
        assert!(!s.postings.contains_key(&2), "an empty list is dropped");
        assert_eq!(s.slots.len(), 3);
    }

    #[test]
    fn a_listings_entries_read_back_as_stored_whatever_other_listings_share() {
        let mut s = Snapshot::default();
        let (c1, c2) = ((3_i64 << 24) | (7 << 12) | 1, (4_i64 << 24) | (2 << 12));
        let (t1, t2) = ((11_i64 << 12) | 5, (12_i64 << 12) | 9);
        s.insert(row(id(1), vec![3], vec![c1, c2], vec![t1, t2]));
        s.insert(row(id(2), vec![4], vec![c2], vec![t2]));
        assert_eq!(s.concepts.values.len(), 2, "a shared entry is kept once");
        assert_eq!(s.tokens.values.len(), 2);
        let index = MatchIndex::default();
        index.write(|x| *x = Some(s));
        let every = Lookups {
            concepts: vec![3, 4],
            tokens: vec![11, 12],
        };
        let got = index.candidates(&[id(2), id(1), id(3)], &every);
        let got: Vec<(Uuid, Vec<i64>, Vec<i64>)> = got
            .into_iter()
            .flatten()
            .map(|c| (c.id, c.concepts, c.tokens))
            .collect();
        assert_eq!(
            got,
            vec![
                (id(2), vec![c2], vec![t2]),
                (id(1), vec![c1, c2], vec![t1, t2]),
            ]
        );
        // Only the entries a demand looks up.
        let some = Lookups {
            concepts: vec![4],
            tokens: vec![11],
        };
        let got: Vec<(Vec<i64>, Vec<i64>)> = index
            .candidates(&[id(1)], &some)
            .into_iter()
            .flatten()
            .map(|c| (c.concepts, c.tokens))
            .collect();
        assert_eq!(got, vec![(vec![c2], vec![t1])]);
    }

    #[test]
    fn names_take_four_bytes_only_past_two_bytes_and_read_back_alike() {
        let mut interner = Interner::default();
        let many: Vec<i64> = (0..70_000).map(|v| v * 3).collect();
        let all = interner.intern(&many);
        assert!(matches!(all, Some(Names::Wide(_))));
        let few = interner.intern(&[9, 3, 9]);
        assert!(
            matches!(few, Some(Names::Narrow(_))),
            "small names stay narrow"
        );
        let past = interner.intern(&[3, 209_997, 1]);
        assert!(matches!(past, Some(Names::Wide(_))));
        let back = |n: Option<Names>| -> Vec<i64> {
            n.iter()
                .flat_map(|n| n.iter())
                .map(|n| interner.value(n))
                .collect()
        };
        assert_eq!(back(few), vec![9, 3, 9]);
        assert_eq!(back(past), vec![3, 209_997, 1]);
        assert_eq!(back(all), many);
    }
}
