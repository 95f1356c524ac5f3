//! SQL for the market statistics: the settled trades and listed listings they are computed from,
//! the open-data rows of the trades CSV, and the shared snapshot (`stats_snapshot`).
//!
//! Months and dates are worked out here, in Postgres, with its time zone data for Asia/Shanghai.
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use sqlx::PgConnection;
use uuid::Uuid;

/// One settled trade as the statistics read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsTradeRow {
    /// `YYYY-MM` of `settled_at` in Asia/Shanghai.
    pub month: String,
    pub field: String,
    pub seller_exchange: String,
    pub buyer_exchange: String,
    pub price_fen: i64,
    /// The price, or a split's share settled to the seller.
    pub settled_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
}

/// Every settled trade, streamed (one pass, no order needed).
pub fn stream_settled(conn: &mut PgConnection) -> BoxStream<'_, sqlx::Result<StatsTradeRow>> {
    sqlx::query_as(
        "select to_char(t.settled_at at time zone 'Asia/Shanghai', 'YYYY-MM') as month, \
         l.field, t.seller_exchange, t.buyer_exchange, t.price_fen, \
         coalesce(d.seller_share_fen, t.price_fen) as settled_fen, t.buyer_fee_fen, t.seller_fee_fen \
         from trades t join listings l on l.id = t.listing_id \
         left join disputes d on d.trade_id = t.id and d.outcome = 'split' \
         where t.status = 'settled'",
    )
    .fetch(conn)
}

/// Listed listings counted by (organisation's province, exchange, field).
pub async fn listing_groups(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(String, String, String, i64)>> {
    sqlx::query_as(
        "select province, exchange, field, count(*) from listings \
         where status = 'listed' group by province, exchange, field",
    )
    .fetch_all(conn)
    .await
}

/// One row of the open-data CSV: a settled trade without any party's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CsvTradeRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub settled_at: DateTime<Utc>,
    /// `YYYY-MM-DD` of `settled_at` in Asia/Shanghai.
    pub settled_date: String,
    /// `YYYY-MM` of `settled_at` in Asia/Shanghai.
    pub month: String,
    pub field: String,
    pub transaction_mode: String,
    pub contract_type: String,
    pub seller_exchange: String,
    pub buyer_exchange: String,
    pub price_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub fee_schedule_id: Uuid,
    /// The price, or a split's share settled to the seller.
    pub settled_fen: i64,
}

/// Every settled trade for the CSV, oldest settlement first, streamed row by row.
pub fn stream_csv_rows(conn: &mut PgConnection) -> BoxStream<'_, sqlx::Result<CsvTradeRow>> {
    sqlx::query_as(
        "select t.id, t.listing_id, t.settled_at, \
         to_char(t.settled_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as settled_date, \
         to_char(t.settled_at at time zone 'Asia/Shanghai', 'YYYY-MM') as month, \
         l.field, t.transaction_mode, t.contract_type, t.seller_exchange, t.buyer_exchange, \
         t.price_fen, t.buyer_fee_fen, t.seller_fee_fen, t.fee_schedule_id, \
         coalesce(d.seller_share_fen, t.price_fen) as settled_fen \
         from trades t join listings l on l.id = t.listing_id \
         left join disputes d on d.trade_id = t.id and d.outcome = 'split' \
         where t.status = 'settled' and t.settled_at is not null \
         order by t.settled_at, t.id",
    )
    .fetch(conn)
}

/// The stored snapshot: when it was taken and its body (both null before the first).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotRow {
    pub as_of: Option<DateTime<Utc>>,
    pub body: Option<serde_json::Value>,
}

/// The latest snapshot, without waiting for anyone.
pub async fn snapshot(conn: &mut PgConnection) -> sqlx::Result<Option<SnapshotRow>> {
    sqlx::query_as("select as_of, body from stats_snapshot where id = 1")
        .fetch_optional(conn)
        .await
}

/// The latest snapshot, locked until the transaction ends: a process computing a new one holds
/// this lock, so another that comes for it waits and then reads the new one.
pub async fn lock_snapshot(conn: &mut PgConnection) -> sqlx::Result<Option<SnapshotRow>> {
    sqlx::query_as("select as_of, body from stats_snapshot where id = 1 for update")
        .fetch_optional(conn)
        .await
}

pub async fn save_snapshot(
    conn: &mut PgConnection,
    as_of: DateTime<Utc>,
    body: &serde_json::Value,
    computed_ms: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into stats_snapshot (id, as_of, body, computed_ms) values (1, $1, $2, $3) \
         on conflict (id) do update set as_of = excluded.as_of, body = excluded.body, \
         computed_ms = excluded.computed_ms",
    )
    .bind(as_of)
    .bind(body)
    .bind(computed_ms)
    .execute(conn)
    .await?;
    Ok(())
}
