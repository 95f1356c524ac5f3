//! SQL for auction deposits (保证金): one organisation's deposit for one auction (`auction_deposits`).
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DepositRow {
    pub listing_id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub amount_fen: i64,
    /// The exchange whose settlement bank account received it.
    pub exchange: String,
    /// `held` | `refunded` | `applied` | `forfeited`
    pub status: String,
    pub trade_id: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

const SELECT: &str =
    "select d.listing_id, d.organization_id, o.name as organization_name, d.amount_fen, \
    d.exchange, d.status, d.trade_id, d.recorded_at, d.settled_at \
    from auction_deposits d join organizations o on o.id = d.organization_id";

/// What recording a deposit needs to know of the auction, its row locked (the close takes the
/// same lock, so a deposit is recorded either before the close sees it or refused after).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DepositTarget {
    pub listing_id: Uuid,
    pub title: String,
    pub seller_organization_id: Uuid,
    pub listing_exchange: String,
    pub auction_status: String,
    pub deposit_fen: Option<i64>,
}

pub async fn lock_target(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Option<DepositTarget>> {
    sqlx::query_as(
        "select a.listing_id, l.title, l.organization_id as seller_organization_id, \
                l.exchange as listing_exchange, a.status as auction_status, nullif(a.deposit_fen, 0) as deposit_fen \
         from auctions a join listings l on l.id = a.listing_id where a.listing_id = $1 for update of a",
    )
    .bind(listing_id)
    .fetch_optional(conn)
    .await
}

pub struct NewDeposit<'a> {
    pub listing_id: Uuid,
    pub organization_id: Uuid,
    pub amount_fen: i64,
    pub exchange: &'a str,
    pub recorded_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Records a deposit as held; false when the organisation already has one for this auction.
pub async fn insert(conn: &mut PgConnection, d: NewDeposit<'_>) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "insert into auction_deposits (listing_id, organization_id, amount_fen, exchange, recorded_by, recorded_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
    )
    .bind(d.listing_id)
    .bind(d.organization_id)
    .bind(d.amount_fen)
    .bind(d.exchange)
    .bind(d.recorded_by)
    .bind(d.at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
) -> sqlx::Result<Option<DepositRow>> {
    sqlx::query_as(&format!(
        "{SELECT} where d.listing_id = $1 and d.organization_id = $2"
    ))
    .bind(listing_id)
    .bind(org)
    .fetch_optional(conn)
    .await
}

/// An auction's deposits, in the order they were recorded.
pub async fn of_listing(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Vec<DepositRow>> {
    sqlx::query_as(&format!(
        "{SELECT} where d.listing_id = $1 order by d.recorded_at, d.organization_id"
    ))
    .bind(listing_id)
    .fetch_all(conn)
    .await
}

/// An organisation by its id or its 统一社会信用代码 (as an administrator types it).
pub async fn find_organization(conn: &mut PgConnection, text: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select id from organizations where id::text = lower($1) or credit_code = upper($1) limit 1",
    )
    .bind(text.trim())
    .fetch_optional(conn)
    .await
}

/// An auction's listing title and the deposit it requires, if the listing has an auction.
pub async fn rule(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Option<(String, Option<i64>)>> {
    sqlx::query_as(
        "select l.title, nullif(a.deposit_fen, 0) from auctions a join listings l on l.id = a.listing_id \
         where a.listing_id = $1",
    )
    .bind(listing_id)
    .fetch_optional(conn)
    .await
}

/// The deposits still held for an auction, locked (the close settles each once).
pub async fn lock_held(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<Vec<DepositRow>> {
    sqlx::query_as(&format!(
        "{SELECT} where d.listing_id = $1 and d.status = 'held' \
         order by d.organization_id for update of d"
    ))
    .bind(listing_id)
    .fetch_all(conn)
    .await
}

/// The deposit applied to a trade's payment, locked, if there is one.
pub async fn lock_applied_to(
    conn: &mut PgConnection,
    trade_id: Uuid,
) -> sqlx::Result<Option<DepositRow>> {
    sqlx::query_as(&format!(
        "{SELECT} where d.trade_id = $1 and d.status = 'applied' for update of d"
    ))
    .bind(trade_id)
    .fetch_optional(conn)
    .await
}

/// The amount of the deposit counted toward a trade's payment (0 when none is).
pub async fn applied_fen(conn: &mut PgConnection, trade_id: Uuid) -> sqlx::Result<i64> {
    let v: Option<i64> = sqlx::query_scalar(
        "select sum(amount_fen)::bigint from auction_deposits where trade_id = $1 and status = 'applied'",
    )
    .bind(trade_id)
    .fetch_one(conn)
    .await?;
    Ok(v.unwrap_or(0))
}

/// Moves a deposit on: `refunded`, `applied` (to `trade_id`) or `forfeited`.
pub async fn set_status(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
    status: &str,
    trade_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update auction_deposits set status = $3, trade_id = coalesce($4, trade_id), settled_at = $5 \
         where listing_id = $1 and organization_id = $2",
    )
    .bind(listing_id)
    .bind(org)
    .bind(status)
    .bind(trade_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}
