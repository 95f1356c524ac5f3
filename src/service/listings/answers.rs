//! Public search answers kept whole: the serialised page of an anonymous API search, served again as
//! long as nothing it shows can have changed.
//!
//! Why: a search page is twenty listings with their descriptions; reading and serialising them took
//! about ten times the CPU of `/readyz` (issue 23 asks 0.25 of its rate). An anonymous answer does not
//! depend on who asks, so it can be kept.
//!
//! Freshness: each request reads, in one statement, the search generation (bumped by every change to
//! the listings' searchable columns) and `listing_pages_generation` (auctions, organisations' names,
//! the listings' other shown columns); an answer rendered under other generations, or under another
//! of this process's generations (`cache::invalidate`), is never served. The generations are read
//! *before* the answer is rendered, so a change committed meanwhile only makes the next request render
//! it again. The one window, as in [`super::cache`]: a writer's trigger bumps the sequence before it
//! commits, so a search between the two renders the old state under the new generation; an answer is
//! therefore served for at most [`MAX_AGE`], which bounds that window.
//! Memory is bounded: at most [`MAX_BYTES`] in all, oldest dropped first.
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How long an answer is served at most (see the module's freshness note).
pub const MAX_AGE: Duration = Duration::from_secs(1);
/// All kept answers together.
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// An answer larger than this is not kept.
const MAX_ANSWER_BYTES: usize = 512 * 1024;

/// What an answer was rendered under: this process's cache generation and the database's two.
pub type Generations = (u64, i64, i64);

/// The generations now, given the database's search and listing-page generations as just read.
pub fn generations(search: i64, pages: i64) -> Generations {
    (super::cache::generation(search).0, search, pages)
}

struct Answer {
    generations: Generations,
    at: Instant,
    bytes: Arc<[u8]>,
}

static ANSWERS: LazyLock<Mutex<HashMap<String, Answer>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The answer kept for `key`, if it was rendered under `current` less than [`MAX_AGE`] ago.
pub fn get(key: &str, current: Generations) -> Option<Arc<[u8]>> {
    let m = ANSWERS.lock().ok()?;
    let a = m.get(key)?;
    (a.generations == current && a.at.elapsed() < MAX_AGE).then(|| a.bytes.clone())
}

/// Keeps `bytes` as the answer for `key`, rendered under `generations`.
pub fn put(key: &str, generations: Generations, bytes: Arc<[u8]>) {
    if bytes.len() > MAX_ANSWER_BYTES {
        return;
    }
    let Ok(mut m) = ANSWERS.lock() else {
        return;
    };
    m.remove(key);
    let mut total: usize = m.values().map(|a| a.bytes.len()).sum::<usize>() + bytes.len();
    while total > MAX_BYTES {
        let Some(oldest) = m.iter().min_by_key(|(_, a)| a.at).map(|(k, _)| k.clone()) else {
            break;
        };
        if let Some(a) = m.remove(&oldest) {
            total = total.saturating_sub(a.bytes.len());
        }
    }
    // Answers past their age are of no use: drop them while here.
    m.retain(|_, a| a.at.elapsed() < MAX_AGE);
    m.insert(
        key.to_string(),
        Answer {
            generations,
            at: Instant::now(),
            bytes,
        },
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_served_only_under_its_generations_and_while_young() {
        let bytes: Arc<[u8]> = Arc::from(&b"{\"items\":[]}"[..]);
        put("test-a", (1, 2, 3), bytes.clone());
        assert_eq!(get("test-a", (1, 2, 3)).as_deref(), Some(&bytes[..]));
        assert!(
            get("test-a", (1, 2, 4)).is_none(),
            "an auction or organisation changed"
        );
        assert!(get("test-a", (1, 3, 3)).is_none(), "a listing changed");
        assert!(
            get("test-a", (2, 2, 3)).is_none(),
            "this process invalidated"
        );
        assert!(get("test-b", (1, 2, 3)).is_none());
        std::thread::sleep(MAX_AGE);
        assert!(get("test-a", (1, 2, 3)).is_none(), "too old");
        let big: Arc<[u8]> = vec![b' '; MAX_ANSWER_BYTES + 1].into();
        put("test-big", (1, 2, 3), big);
        assert!(get("test-big", (1, 2, 3)).is_none(), "too large to keep");
    }
}
