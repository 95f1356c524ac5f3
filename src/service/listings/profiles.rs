//! Listings' matching profiles (`domain::relevance::Profile`, stored in `listing_match_profiles`):
//! computed from the texts in the transaction that writes them (create, edit, bulk seeding), and for any
//! listing without a current one (a new vocabulary, a row written by other means) by [`refresh`], which
//! the background job and `techmarket migrate` run. Matching reads only stored profiles.
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::match_profiles::{ProfileSource, DESCRIPTION_CHARS};
use crate::domain::relevance::{profile_version, Profile, StoredProfile, Zone};
use crate::domain::vocabulary::vocabulary;
use crate::error::Result;

/// Listings profiled per transaction by [`refresh`].
const BATCH: i64 = 500;

/// The profile of a listing's texts, as matching reads them (the description's first 2,000 characters).
pub fn profile_of(title: &str, summary: &str, description: &str, keywords: &[String]) -> Profile {
    let description: String = description.chars().take(DESCRIPTION_CHARS).collect();
    let mut texts = vec![
        (Zone::Title, title),
        (Zone::Summary, summary),
        (Zone::Description, description.as_str()),
    ];
    texts.extend(keywords.iter().map(|k| (Zone::Keywords, k.as_str())));
    Profile::of(vocabulary(), &texts)
}

fn stored(s: &ProfileSource) -> (Uuid, StoredProfile) {
    let p = profile_of(&s.title, &s.summary, &s.description, &s.keywords);
    (s.id, p.to_stored(vocabulary()))
}

/// The version of the profiles this process writes and reads.
pub fn current_version() -> i64 {
    profile_version(vocabulary())
}

/// Stores the profile of a listing just written (in the caller's transaction).
pub async fn store(
    conn: &mut PgConnection,
    id: Uuid,
    title: &str,
    summary: &str,
    description: &str,
    keywords: &[String],
) -> Result<()> {
    let p = profile_of(title, summary, description, keywords).to_stored(vocabulary());
    db::match_profiles::upsert(conn, current_version(), &[(id, p)]).await?;
    Ok(())
}

/// The stored profiles of listings being written in bulk (bulk seeding: tens of milliseconds a batch,
/// run on a blocking thread).
pub fn compute_many(sources: &[ProfileSource]) -> Vec<(Uuid, StoredProfile)> {
    sources.iter().map(stored).collect()
}

/// Profiles one batch of listings without a current profile; how many. One process at a time (the others
/// find the lock taken and return 0).
pub async fn refresh(pool: &PgPool) -> anyhow::Result<usize> {
    let version = current_version();
    let mut tx = pool.begin().await?;
    if !db::match_profiles::try_lock_refresh(&mut tx).await? {
        return Ok(0);
    }
    let sources = db::match_profiles::missing(&mut tx, version, BATCH).await?;
    if sources.is_empty() {
        return Ok(0);
    }
    // Analysing a batch of texts takes tens of milliseconds: off the async workers.
    let profiles =
        tokio::task::spawn_blocking(move || sources.iter().map(stored).collect::<Vec<_>>()).await?;
    db::match_profiles::upsert(&mut tx, version, &profiles).await?;
    tx.commit().await?;
    Ok(profiles.len())
}

/// Profiles every listing without a current profile (`techmarket migrate`, bulk seeding); how many.
pub async fn refresh_all(pool: &PgPool) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let n = refresh(pool).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

/// The background job: batches until none is missing or about two seconds have passed.
pub async fn run_jobs(pool: &PgPool) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(2) {
        if refresh(pool).await? == 0 {
            break;
        }
    }
    Ok(())
}
