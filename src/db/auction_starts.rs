//! SQL for: auctions that open at a set moment (`auctions.starts_at`, issue 18) — `scheduled`
//! while their listing is listed and the moment has not come, opened by the jobs when it has.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::trading::{AuctionRow, AUCTION_COLS};

/// Opens the `scheduled` auctions of listed listings whose `starts_at` is at or before `now`
/// (the partial index `auctions_to_open`). One statement: each row is locked by the update and
/// re-checked under the lock, so two processes never open one twice. Returns the opened rows (as
/// the open pages are told of them).
pub async fn open_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<AuctionRow>> {
    sqlx::query_as(&format!(
        "update auctions set status = 'open', opened_at = starts_at \
         where status = 'scheduled' and starts_at is not null and starts_at <= $1 \
           and exists (select 1 from listings l where l.id = auctions.listing_id and l.status = 'listed') \
         returning {AUCTION_COLS}"
    ))
    .bind(now)
    .fetch_all(conn)
    .await
}
