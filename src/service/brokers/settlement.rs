//! What a trade's transitions ask of its engagements, each inside the transition's transaction
//! (after the trade's row lock): payment (proposals lapse; the buyer pays its broker's commission
//! in), cancellation (every live engagement is cancelled), settlement (accepted ones are paid
//! through the escrow) and a dispute's decision (paid when the seller is paid at all; a refund
//! returns the buyer's commission too).
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::db;
use crate::db::settlement::TradeRow;
use crate::domain::brokers::{with_commissions, BrokerSide, Commission};
use crate::domain::dispute::buyer_payable_account;
use crate::domain::ledger::{self, transfer_postings, Posting};
use crate::error::Result;

/// Payment received: the trade is set `paid` (recorded by `by`) and proposals the broker has not
/// accepted lapse (`cancelled`); returns the buyer-side commission accepted, which the payment must
/// cover on top of price + buyer fee, with the auction deposit already applied to the trade and
/// whether any broker is engaged — all in one statement (`db::payments::at_payment`).
pub async fn on_trade_paid(
    conn: &mut PgConnection,
    trade_id: uuid::Uuid,
    by: Option<uuid::Uuid>,
    now: DateTime<Utc>,
) -> Result<db::payments::AtPayment> {
    Ok(db::payments::at_payment(conn, trade_id, BrokerSide::Buyer.code(), by, now).await?)
}

/// What the buyer still has to pay in besides price + buyer fee: its broker's accepted commission.
pub async fn buyer_commission_due(conn: &mut PgConnection, trade_id: uuid::Uuid) -> Result<i64> {
    Ok(db::brokers::accepted_commission(conn, trade_id, BrokerSide::Buyer.code()).await?)
}

/// The trade was cancelled: its proposed and accepted engagements are cancelled with it.
pub async fn on_trade_cancelled(
    conn: &mut PgConnection,
    trade_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    db::brokers::close_of_trade(conn, trade_id, &["proposed", "accepted"], "cancelled", now)
        .await?;
    Ok(())
}

fn commissions_of(
    moved: &[(uuid::Uuid, uuid::Uuid, String, i64)],
) -> Vec<(uuid::Uuid, Commission)> {
    moved
        .iter()
        .filter_map(|(id, broker, side, amount)| {
            BrokerSide::parse(side).map(|side| {
                (
                    *id,
                    Commission {
                        broker_id: broker.to_string(),
                        side,
                        amount_fen: *amount,
                    },
                )
            })
        })
        .collect()
}

/// The trade settles (the buyer confirmed, or the acceptance period ended): its accepted
/// engagements are `paid`, and `base` (the trade's settlement postings) gains their commissions
/// (`domain::brokers::with_commissions`). Also says whether any was (a settled trade has no other
/// engagement to show).
pub async fn settle(
    conn: &mut PgConnection,
    t: &TradeRow,
    base: Vec<Posting>,
    now: DateTime<Utc>,
) -> Result<(Vec<Posting>, bool)> {
    let moved = db::brokers::close_of_trade(conn, t.id, &["accepted"], SETTLED_TO, now).await?;
    settled(conn, t, base, moved).await
}

/// What an accepted engagement becomes when its trade settles.
pub const SETTLED_TO: &str = "paid";

/// [`settle`] once the trade's accepted engagements were moved to [`SETTLED_TO`] (returning
/// `moved`, as `db::brokers::close_of_trade` does) by the statement that settled the trade.
pub async fn settled(
    conn: &mut PgConnection,
    t: &TradeRow,
    base: Vec<Posting>,
    moved: Vec<(uuid::Uuid, uuid::Uuid, String, i64)>,
) -> Result<(Vec<Posting>, bool)> {
    let engaged = !moved.is_empty();
    let paid = commissions_of(&moved);
    for (id, c) in &paid {
        db::brokers::set_paid_fen(conn, *id, c.amount_fen).await?;
    }
    let commissions: Vec<Commission> = paid.into_iter().map(|(_, c)| c).collect();
    Ok((
        with_commissions(
            base,
            &t.id.to_string(),
            &t.seller_organization_id.to_string(),
            &commissions,
        ),
        engaged,
    ))
}

/// A dispute was decided. Refunded (`settled` false): the buyer's broker commission, paid into
/// the escrow with the price, goes back to the buyer with the refund and every engagement is
/// `refunded`. Settled (to the seller, or split): the brokers are paid — the buyer's out of the
/// escrow, the seller's out of what the seller receives (at most that). Returns the postings to
/// add to the decision's (the payouts due count them: `db::disputes`).
pub async fn on_dispute_decided(
    conn: &mut PgConnection,
    t: &TradeRow,
    settled: bool,
    seller_receives_fen: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Posting>> {
    let trade = t.id.to_string();
    let escrow = ledger::escrow_account(&trade);
    if !settled {
        let moved = db::brokers::close_of_trade(conn, t.id, &["accepted"], "refunded", now).await?;
        let refund: i64 = commissions_of(&moved)
            .iter()
            .filter(|(_, c)| c.side == BrokerSide::Buyer)
            .map(|(_, c)| c.amount_fen)
            .sum();
        let back = buyer_payable_account(&t.buyer_organization_id.to_string());
        return Ok(transfer_postings(escrow, back, refund));
    }
    let moved = db::brokers::close_of_trade(conn, t.id, &["accepted"], "paid", now).await?;
    let mut postings = Vec::new();
    let mut seller_left = seller_receives_fen.max(0);
    for (id, c) in commissions_of(&moved) {
        let account = ledger::seller_payable_account(&t.seller_organization_id.to_string());
        let (from, amount) = match c.side {
            BrokerSide::Buyer => (escrow.clone(), c.amount_fen),
            BrokerSide::Seller => {
                let amount = c.amount_fen.min(seller_left);
                seller_left -= amount;
                (account, amount)
            }
        };
        db::brokers::set_paid_fen(conn, id, amount).await?;
        postings.extend(transfer_postings(
            from,
            crate::domain::brokers::broker_account(&c.broker_id),
            amount,
        ));
    }
    Ok(postings)
}
