//! SQL for: the search's page of rows read together with the search generation, so that a search
//! served from the cache is one statement instead of two, and a filter-only browse two instead of three.
//!
//! The generation (`listings_search_generation`, see `service::listings::cache`) is read in the same
//! statement, hence the same snapshot, as the rows: the caller checks it against the generation its
//! cached ids were computed under and falls back to the ordinary path when they differ.
use sqlx::PgConnection;
use uuid::Uuid;

use super::listings::{ListingRow, COLUMNS, FROM};

/// A row of a page, with the search generation at the moment it was read.
#[derive(Debug, Clone, sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    search_generation: i64,
}

const GENERATION: &str = "(select last_value from listings_search_generation) as search_generation";

fn split(rows: Vec<PageRow>) -> (Vec<ListingRow>, Option<i64>) {
    let generation = rows.first().map(|r| r.search_generation);
    (rows.into_iter().map(|r| r.listing).collect(), generation)
}

/// The listed listings among `ids`, in the order of `ids`, and the search generation (none when no
/// row came back: the caller reads it on its own then).
pub async fn listed_by_ids(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<(Vec<ListingRow>, Option<i64>)> {
    if ids.is_empty() {
        return Ok((Vec::new(), None));
    }
    let rows: Vec<PageRow> = sqlx::query_as(&format!(
        "select {COLUMNS}, {GENERATION} from {FROM} where l.id = any($1) and l.status = 'listed'"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let (mut rows, generation) = split(rows);
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id).unwrap_or(usize::MAX));
    Ok((rows, generation))
}

/// The generations a cached public search answer was rendered under: the search generation (the
/// listings' searchable columns) and `listing_pages_generation` (auctions, organisations' names and the
/// listings' other shown columns), read in one statement.
pub async fn answer_generations(conn: &mut PgConnection) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select (select last_value from listings_search_generation), \
                (select last_value from listing_pages_generation)",
    )
    .fetch_one(conn)
    .await
}
