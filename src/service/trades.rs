//! Creating a trade: the one place where a deal becomes a trade, with its fees frozen from the
//! schedule in force at that moment. Called inside the caller's transaction by offers, purchases
//! and auctions.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::domain::codes::TransactionMode;
use crate::domain::trade;
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
    let seq = db::settlement::next_trade_seq(&mut *conn).await?;
    let number = trade::number(t.now, seq);
    db::settlement::insert_trade(
        &mut *conn,
        &db::settlement::NewTradeRow {
            id,
            number: &number,
            listing_id: t.listing_id,
            seller_org: t.seller_org,
            buyer_org: t.buyer_org,
            price_fen: t.price_fen,
            transaction_mode: t.mode.code(),
            contract_type: t.mode.contract_type().code(),
            exclusive: t.mode.is_exclusive(),
            fee_schedule_id: schedule.id,
            buyer_fee_fen: quote.buyer_fee_fen,
            seller_fee_fen: quote.seller_fee_fen,
            seller_exchange: &t.seller_exchange,
            buyer_exchange: &t.buyer_exchange,
            source: t.source,
            offer_id: t.offer_id,
            created_at: t.now,
        },
    )
    .await
    .on_constraint("trades_one_exclusive", "listing_sold")?;
    if t.mode.is_exclusive() {
        db::listings::set_sold(&mut *conn, t.listing_id).await?;
    }
    Ok(id)
}
