//! What the home page shows (issue 18): the newest listed listings, the running and upcoming auctions, the
//! newest open demands and the newest settled trades. Read only when the home page's cache is
//! recomputed (`service::home`), each through an index that stops after the first rows.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HomeListing {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub field: String,
    pub province: String,
    pub exchange: String,
    pub pricing_mode: String,
    pub price_fen: Option<i64>,
    pub organization_name: String,
    pub listed_at: Option<DateTime<Utc>>,
}

/// The newest listed listings, newest first.
pub async fn newest_listings(
    conn: &mut PgConnection,
    limit: i64,
) -> sqlx::Result<Vec<HomeListing>> {
    sqlx::query_as(
        "select l.id, l.title, l.summary, l.field, l.province, l.exchange, l.pricing_mode, l.price_fen, \
                o.name as organization_name, l.listed_at \
         from listings l join organizations o on o.id = l.organization_id \
         where l.status = 'listed' order by l.listed_at desc, l.id desc limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HomeAuction {
    pub listing_id: Uuid,
    pub title: String,
    pub exchange: String,
    pub start_price_fen: i64,
    pub leading_bid_fen: Option<i64>,
    pub bid_count: i32,
    pub ends_at: DateTime<Utc>,
    /// When an upcoming auction opens (none: opened at its listing's approval).
    pub starts_at: Option<DateTime<Utc>>,
}

/// The open auctions of listed listings that have not ended at `now`, ending soonest first.
pub async fn running_auctions(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<HomeAuction>> {
    sqlx::query_as(
        "select a.listing_id, l.title, l.exchange, a.start_price_fen, a.leading_bid_fen, a.bid_count, a.ends_at, \
                a.starts_at \
         from auctions a join listings l on l.id = a.listing_id \
         where a.status = 'open' and a.ends_at > $1 and l.status = 'listed' \
         order by a.ends_at, a.listing_id limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The auctions of listed listings that open after `now` (`starts_at`), opening soonest first
/// (the partial index `auctions_to_open`).
pub async fn upcoming_auctions(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<HomeAuction>> {
    sqlx::query_as(
        "select a.listing_id, l.title, l.exchange, a.start_price_fen, a.leading_bid_fen, a.bid_count, a.ends_at, \
                a.starts_at \
         from auctions a join listings l on l.id = a.listing_id \
         where a.status = 'scheduled' and a.starts_at > $1 and l.status = 'listed' \
         order by a.starts_at, a.listing_id limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HomeDemand {
    pub id: Uuid,
    pub title: String,
    pub field: String,
    pub province: String,
    pub budget_min_fen: Option<i64>,
    pub budget_max_fen: Option<i64>,
    pub organization_name: String,
    pub created_at: DateTime<Utc>,
}

/// The newest open demands.
pub async fn newest_demands(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<HomeDemand>> {
    sqlx::query_as(
        "select d.id, d.title, d.field, d.province, d.budget_min_fen, d.budget_max_fen, \
                o.name as organization_name, d.created_at \
         from demands d join organizations o on o.id = d.organization_id \
         where d.status = 'open' order by d.created_at desc, d.id desc limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A settled trade as the 成交公示 shows it: number, listing, price, when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HomeTrade {
    pub number: Option<String>,
    pub listing_id: Uuid,
    pub title: String,
    pub price_fen: i64,
    pub seller_exchange: String,
    pub settled_at: DateTime<Utc>,
}

/// The newest settled trades (the `trades_settled` index, read backwards).
pub async fn newest_settled(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<HomeTrade>> {
    sqlx::query_as(
        "select t.number, t.listing_id, l.title, t.price_fen, t.seller_exchange, t.settled_at \
         from trades t join listings l on l.id = t.listing_id \
         where t.status = 'settled' and t.settled_at is not null \
         order by t.settled_at desc limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
