//! SQL for: auctions that open at a set moment (`auctions.starts_at`, issue 18) — `scheduled`
//! while their listing is listed and the moment has not come, opened by the jobs when it has.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Opens the `scheduled` auctions of listed listings whose `starts_at` is at or before `now`
/// (the partial index `auctions_to_open`). One statement: each row is locked by the update and
/// re-checked under the lock, so two processes never open one twice. Returns the opened ones.
pub async fn open_due(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "update auctions a set status = 'open', opened_at = a.starts_at \
         from listings l \
         where l.id = a.listing_id and l.status = 'listed' \
           and a.status = 'scheduled' and a.starts_at is not null and a.starts_at <= $1 \
         returning a.listing_id",
    )
    .bind(now)
    .fetch_all(conn)
    .await
}
