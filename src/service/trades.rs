//! Creating a trade: the one place where a deal becomes a trade, with its fees frozen from the
//! schedule in force at that moment. Called inside the caller's transaction by offers, purchases
//! and auctions.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::domain::codes::TransactionMode;
use crate::error::{Error, OnConstraint, Result};

pub struct NewTrade {
    pub listing_id: Uuid,
    pub seller_org: Uuid,
    pub buyer_org: Uuid,
    pub price_fen: i64,
    pub mode: TransactionMode,
    pub seller_exchange: String,
    pub buyer_exchange: String,
    /// `offer` | `purchase` | `auction`
    pub source: &'static str,
    pub offer_id: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// Inserts the trade `awaiting_payment` with frozen fees; for an exclusive mode the listing becomes
/// `sold`. A second live trade on an exclusive listing is a 409 `listing_sold` (unique index).
pub async fn create(conn: &mut PgConnection, t: NewTrade) -> Result<Uuid> {
    let schedule = db::fees::in_force(&mut *conn, t.now)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no fee schedule in force")))?;
    let quote = schedule.schedule().quote(t.price_fen);
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into trades (id, listing_id, seller_organization_id, buyer_organization_id, price_fen, \
         transaction_mode, contract_type, exclusive, fee_schedule_id, buyer_fee_fen, seller_fee_fen, \
         seller_exchange, buyer_exchange, source, offer_id, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(id)
    .bind(t.listing_id)
    .bind(t.seller_org)
    .bind(t.buyer_org)
    .bind(t.price_fen)
    .bind(t.mode.code())
    .bind(t.mode.contract_type().code())
    .bind(t.mode.is_exclusive())
    .bind(schedule.id)
    .bind(quote.buyer_fee_fen)
    .bind(quote.seller_fee_fen)
    .bind(&t.seller_exchange)
    .bind(&t.buyer_exchange)
    .bind(t.source)
    .bind(t.offer_id)
    .bind(t.now)
    .execute(&mut *conn)
    .await
    .on_constraint("trades_one_exclusive", "listing_sold")?;
    if t.mode.is_exclusive() {
        sqlx::query("update listings set status = 'sold', updated_at = now() where id = $1")
            .bind(t.listing_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}
