//! Listings' detail rows kept between requests: `GET /api/v1/listings/{id}` and the listing's page
//! read the listing, its auction, organisation, active pledge and latest published evaluation in one
//! statement (`db::listing_detail`); a popular listing is read by many people at once, so the row is
//! kept and served again while nothing it holds can have changed.
//!
//! Why: that statement cost about six times the CPU of `/readyz` in PostgreSQL (issue 23 asks the
//! listing's JSON at 0.7 and its page at 0.5 of `/readyz`'s rate).
//!
//! Freshness, as for public search answers ([`super::answers`]): a row belongs to the search
//! generation, `listing_pages_generation` (bumped by triggers on every table and column the row is
//! made of) and this process's cache generation; each request reads the two database generations in
//! one statement before anything else, and a row kept under other generations is never served. A row
//! not kept yet is read together with the generations (one statement, as before). The one window: a
//! writer's trigger bumps a generation before it commits, so a read between the two keeps the old row
//! under the new generation; a row is therefore served for at most [`MAX_AGE`].
//! The row is the same for every viewer (who may see it, and how, is decided on each request).
//! A stranger's JSON answer is kept with its row, so that the hottest request (an anonymous
//! `GET /api/v1/listings/{id}`) is one statement and a copy of bytes.
//! Memory is bounded: at most [`MAX_ROWS`] rows, the oldest dropped first.
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::db::listing_detail::ListingDetailRow;

use super::answers::Generations;

/// How long a row is served at most (see the module's freshness note).
pub const MAX_AGE: Duration = Duration::from_secs(1);
/// Rows kept at most (a detail row is a few kilobytes: its description and report).
const MAX_ROWS: usize = 2048;

struct Kept {
    generations: Generations,
    at: Instant,
    row: ListingDetailRow,
    /// The row as a stranger's JSON answer, once one was rendered from it.
    answer: Option<Arc<[u8]>>,
}

static ROWS: LazyLock<Mutex<HashMap<String, Kept>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Whether a row is kept for `key`, however old: if not, the caller reads the row and the
/// generations together instead of checking the generations first.
pub fn holds(key: &str) -> bool {
    ROWS.lock().is_ok_and(|m| m.contains_key(key))
}

/// The row kept for `key`, if it was read under `current` less than [`MAX_AGE`] ago.
pub fn get(key: &str, current: Generations) -> Option<ListingDetailRow> {
    let m = ROWS.lock().ok()?;
    let k = m.get(key)?;
    (k.generations == current && k.at.elapsed() < MAX_AGE).then(|| k.row.clone())
}

/// The stranger's JSON answer rendered from the row kept for `key`, on the same terms as [`get`].
pub fn answer(key: &str, current: Generations) -> Option<Arc<[u8]>> {
    let m = ROWS.lock().ok()?;
    let k = m.get(key)?;
    (k.generations == current && k.at.elapsed() < MAX_AGE)
        .then(|| k.answer.clone())
        .flatten()
}

/// Keeps `bytes` as the stranger's JSON answer of the row kept for `key`, if that row is still the
/// one read under `generations`.
pub fn put_answer(key: &str, generations: Generations, bytes: Arc<[u8]>) {
    if let Ok(mut m) = ROWS.lock() {
        if let Some(k) = m.get_mut(key) {
            if k.generations == generations {
                k.answer = Some(bytes);
            }
        }
    }
}

/// Keeps `row` for `key`, read under `generations`.
pub fn put(key: &str, generations: Generations, row: ListingDetailRow) {
    let Ok(mut m) = ROWS.lock() else {
        return;
    };
    if m.len() >= MAX_ROWS && !m.contains_key(key) {
        // Rows past their age are of no use; if all are young, the oldest goes.
        m.retain(|_, k| k.at.elapsed() < MAX_AGE);
        if m.len() >= MAX_ROWS {
            if let Some(oldest) = m.iter().min_by_key(|(_, k)| k.at).map(|(k, _)| k.clone()) {
                m.remove(&oldest);
            }
        }
    }
    m.insert(
        key.to_string(),
        Kept {
            generations,
            at: Instant::now(),
            row,
            answer: None,
        },
    );
}
