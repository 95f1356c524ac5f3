//! What waits for an exchange's administrators (issue 18): the counts of their queues and the
//! administrators to tell when something joins one.
use sqlx::PgConnection;
use uuid::Uuid;

/// How many items wait in each queue of one exchange's administrator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueCounts {
    /// Organisations filed with the exchange, neither verified nor refused.
    pub organizations: i64,
    /// The exchange's listings pending review.
    pub listings: i64,
    /// Fee-schedule drafts this administrator may decide (another exchange's, not their own).
    pub fee_drafts: i64,
    /// Open disputes of trades involving the exchange.
    pub disputes: i64,
}

/// The counts of `exchange`'s queues as administrator `admin` sees them, in one statement.
pub async fn counts(
    conn: &mut PgConnection,
    exchange: &str,
    admin: Uuid,
) -> sqlx::Result<QueueCounts> {
    sqlx::query_as(
        "select \
           (select count(*) from organizations where exchange = $1 and verified_at is null \
              and refused_at is null) as organizations, \
           (select count(*) from listings where exchange = $1 and status = 'pending_review') as listings, \
           (select count(*) from fee_schedules where status = 'draft' \
              and created_by_exchange is distinct from $1 and created_by is distinct from $2) as fee_drafts, \
           (select count(*) from disputes d join trades t on t.id = d.trade_id \
              where d.status = 'open' and ($1 = t.buyer_exchange or $1 = t.seller_exchange)) as disputes",
    )
    .bind(exchange)
    .bind(admin)
    .fetch_one(conn)
    .await
}

/// The administrators (people) of every exchange but `exchange`: those who may decide its drafts.
pub async fn admins_of_other_exchanges(
    conn: &mut PgConnection,
    exchange: &str,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select id from users where role = 'admin' and admin_exchange is distinct from $1 \
           and admin_exchange is not null order by created_at",
    )
    .bind(exchange)
    .fetch_all(conn)
    .await
}

/// A listing's title and home exchange, for the notice of its review queue.
pub async fn listing_for_review(
    conn: &mut PgConnection,
    listing: Uuid,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as("select title, exchange from listings where id = $1")
        .bind(listing)
        .fetch_optional(conn)
        .await
}
