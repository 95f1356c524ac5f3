//! Auction deposits (保证金): an auction may require one (`auctions.deposit_fen`); an administrator
//! records an organisation's deposit as received (bank → the deposit held for it); only then may
//! it bid (403 `deposit_required`, checked by the bid). At the close the losers' deposits are
//! refunded and the winner's is applied to its trade (moved into the trade's escrow, so the buyer
//! pays only the balance); a winner that does not pay in time (or cancels) forfeits it to the
//! seller, and a trade its seller cancels gives it back. Every step is one balanced ledger
//! transaction, written in the step's own database transaction.
//!
//! A listing withdrawn before its auction closes refunds the deposits held for it.
//!
//! Lock order: the auction row first (recording and the close both take it), then the deposits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::deposits::{DepositRow, NewDeposit};
use crate::db::settlement::TradeRow;
use crate::domain::codes::Exchange;
use crate::domain::error::FieldErrors;
use crate::domain::interconnect::Scope;
use crate::domain::ledger::{self, transfer_postings};
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, DepositFacts, Event};
use crate::service::settlement::{flush, micros, post};

use super::complete;

/// `POST /admin/listings/{id}/deposits`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepositInput {
    /// The bidder organisation whose deposit reached the exchange's settlement account.
    pub organization_id: Uuid,
}

/// One organisation's deposit for one auction.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepositView {
    pub listing_id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub amount_fen: i64,
    /// The exchange whose settlement bank account received it.
    pub exchange: String,
    /// `held` (the organisation may bid) · `refunded` · `applied` (counted toward the winner's
    /// payment) · `forfeited` (the winner did not pay in time: the seller's)
    pub status: String,
    /// The trade it was applied to, if any.
    pub trade_id: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<DepositRow> for DepositView {
    fn from(d: DepositRow) -> Self {
        DepositView {
            listing_id: d.listing_id,
            organization_id: d.organization_id,
            organization_name: d.organization_name,
            amount_fen: d.amount_fen,
            exchange: d.exchange,
            status: d.status,
            trade_id: d.trade_id,
            recorded_at: d.recorded_at,
            settled_at: d.settled_at,
        }
    }
}

fn deposit_acct(listing_id: Uuid, org: Uuid) -> String {
    ledger::deposit_account(&listing_id.to_string(), &org.to_string())
}

fn bank(exchange: &str) -> Result<String> {
    Exchange::parse(exchange)
        .map(ledger::bank_account)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown exchange {exchange}")))
}

/// An administrator of the listing's or the bidder's exchange records `input.organization_id`'s
/// deposit for the auction of `listing_id` as received in their exchange's settlement account
/// (audited; the organisation is told). 409 `deposit_not_required` when the auction asks for none,
/// `auction_closed` once it has closed, `deposit_exists` for a second one.
pub async fn record_deposit(
    pool: &PgPool,
    user: &CurrentUser,
    listing_id: Uuid,
    input: DepositInput,
) -> Result<DepositView> {
    let exchange = user.require_admin()?;
    user.require_scope(Scope::Payments)?;
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let now = micros(Utc::now());
        let mut tx = pool.begin().await?;
        let target = db::deposits::lock_target(&mut tx, listing_id)
            .await?
            .ok_or(Error::NotFound)?;
        let org = input.organization_id;
        let Some(org_exchange) = db::trading::org_exchange(&mut tx, org).await? else {
            let mut errs = FieldErrors::new();
            errs.push(
                "organization_id",
                "err.deposit.unknown_organization",
                vec![],
            );
            return Err(errs.into());
        };
        if target.listing_exchange != exchange.code() && org_exchange != exchange.code() {
            return Err(Error::Forbidden("other_exchange"));
        }
        if org == target.seller_organization_id {
            return Err(Error::Forbidden("own_listing"));
        }
        let Some(amount) = target.deposit_fen else {
            return Err(Error::conflict("deposit_not_required"));
        };
        if target.auction_status == "closed" {
            return Err(Error::conflict("auction_closed"));
        }
        let fresh = db::deposits::insert(
            &mut tx,
            NewDeposit {
                listing_id,
                organization_id: org,
                amount_fen: amount,
                exchange: exchange.code(),
                recorded_by: user.person_id(),
                at: now,
            },
        )
        .await?;
        if !fresh {
            return Err(Error::conflict("deposit_exists"));
        }
        audit(
            &mut tx,
            &user,
            "deposit.received",
            "listing",
            listing_id,
            None,
            Some(serde_json::json!({
                "organization_id": org, "amount_fen": amount,
                "bank_account": ledger::bank_account(exchange),
            })),
        )
        .await?;
        let facts = DepositFacts {
            listing_id,
            listing_title: target.title.clone(),
            organization_id: org,
            amount_fen: amount,
        };
        events::emit(&mut tx, &Event::DepositPaid(facts)).await?;
        let postings = transfer_postings(
            ledger::bank_account(exchange),
            deposit_acct(listing_id, org),
            amount,
        );
        post(&mut tx, None, &postings, now).await?;
        let row = db::deposits::get(&mut tx, listing_id, org)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("deposit vanished")))?;
        tx.commit().await?;
        if let Err(e) = flush(&pool).await {
            tracing::warn!(error = ?e, "ledger flush failed; postings stay pending");
        }
        Ok(row.into())
    })
    .await
}

/// An auction's deposits: for administrators (all of them) and for a member (its organisation's
/// own only; none when it has none).
pub async fn deposits_of(
    pool: &PgPool,
    user: Option<&CurrentUser>,
    listing_id: Uuid,
) -> Result<Vec<DepositView>> {
    let Some(user) = user else { return Ok(vec![]) };
    let mut conn = pool.acquire().await?;
    let rows = db::deposits::of_listing(&mut conn, listing_id).await?;
    let admin = user.is_admin();
    Ok(rows
        .into_iter()
        .filter(|d| admin || Some(d.organization_id) == user.organization_id)
        .map(Into::into)
        .collect())
}

/// An auction's listing title and the deposit it requires (404 without an auction).
pub async fn deposit_rule(pool: &PgPool, listing_id: Uuid) -> Result<(String, Option<i64>)> {
    let mut conn = pool.acquire().await?;
    db::deposits::rule(&mut conn, listing_id)
        .await?
        .ok_or(Error::NotFound)
}

/// The organisation an administrator means by `text`: its id or its 统一社会信用代码.
pub async fn find_organization(pool: &PgPool, text: &str) -> Result<Option<Uuid>> {
    if text.trim().is_empty() || text.len() > 64 {
        return Ok(None);
    }
    let mut conn = pool.acquire().await?;
    Ok(db::deposits::find_organization(&mut conn, text).await?)
}

/// What the close did with the deposits: refunded (organisation, amount), and the winner's
/// amount applied to its trade.
pub struct SettledAtClose {
    pub refunded: Vec<(Uuid, i64)>,
    pub applied_fen: Option<i64>,
}

/// At an auction's close, in its transaction (the auction row locked): every held deposit is
/// refunded, except the winner's (`sold`: winner and trade), which is applied to the trade.
pub async fn settle_at_close(
    conn: &mut PgConnection,
    listing_id: Uuid,
    sold: Option<(Uuid, Uuid)>,
    now: DateTime<Utc>,
) -> Result<SettledAtClose> {
    let mut out = SettledAtClose {
        refunded: vec![],
        applied_fen: None,
    };
    let now = micros(now);
    for d in db::deposits::lock_held(conn, listing_id).await? {
        let acct = deposit_acct(listing_id, d.organization_id);
        match sold {
            Some((winner, trade_id)) if winner == d.organization_id => {
                db::deposits::set_status(conn, listing_id, winner, "applied", Some(trade_id), now)
                    .await?;
                let escrow = ledger::escrow_account(&trade_id.to_string());
                post(
                    conn,
                    Some(trade_id),
                    &transfer_postings(acct, escrow, d.amount_fen),
                    now,
                )
                .await?;
                out.applied_fen = Some(d.amount_fen);
            }
            _ => {
                db::deposits::set_status(
                    conn,
                    listing_id,
                    d.organization_id,
                    "refunded",
                    None,
                    now,
                )
                .await?;
                let postings = transfer_postings(acct, bank(&d.exchange)?, d.amount_fen);
                post(conn, None, &postings, now).await?;
                out.refunded.push((d.organization_id, d.amount_fen));
            }
        }
    }
    Ok(out)
}

/// A listing withdrawn before its auction closed (in the withdrawal's transaction, the auction
/// locked): every held deposit goes back, and its organisation is told. Returns whether ledger
/// postings were written (the caller flushes after its commit).
pub async fn refund_deposits_of_withdrawn(
    conn: &mut PgConnection,
    listing_id: Uuid,
    title: &str,
) -> Result<bool> {
    let done = settle_at_close(conn, listing_id, None, Utc::now()).await?;
    for &(org, amount) in &done.refunded {
        let facts = DepositFacts {
            listing_id,
            listing_title: title.to_string(),
            organization_id: org,
            amount_fen: amount,
        };
        events::emit(conn, &Event::DepositRefunded(facts)).await?;
    }
    Ok(!done.refunded.is_empty())
}

/// The part of a trade's price and buyer fee its applied deposit already covers (0 if none).
pub async fn applied_to_trade(conn: &mut PgConnection, trade_id: Uuid) -> Result<i64> {
    Ok(db::deposits::applied_fen(conn, trade_id).await?)
}

/// A trade is being cancelled (in its transaction, the trade locked): a deposit applied to it is
/// forfeited to the seller (`forfeit`: the buyer did not pay in time, or cancelled) or given back
/// (the seller cancelled). Returns the postings, for the caller to write with the trade's change.
pub async fn on_trade_cancelled(
    conn: &mut PgConnection,
    t: &TradeRow,
    forfeit: bool,
    now: DateTime<Utc>,
) -> Result<Vec<ledger::Posting>> {
    let Some(d) = db::deposits::lock_applied_to(conn, t.id).await? else {
        return Ok(vec![]);
    };
    let escrow = ledger::escrow_account(&t.id.to_string());
    let facts = DepositFacts {
        listing_id: d.listing_id,
        listing_title: t.listing_title.clone(),
        organization_id: d.organization_id,
        amount_fen: d.amount_fen,
    };
    let now = micros(now);
    if forfeit {
        db::deposits::set_status(
            conn,
            d.listing_id,
            d.organization_id,
            "forfeited",
            None,
            now,
        )
        .await?;
        let forfeited = Event::DepositForfeited {
            deposit: facts,
            seller_organization_id: t.seller_organization_id,
            trade_id: t.id,
        };
        events::emit(conn, &forfeited).await?;
        let seller = ledger::seller_payable_account(&t.seller_organization_id.to_string());
        Ok(transfer_postings(escrow, seller, d.amount_fen))
    } else {
        db::deposits::set_status(conn, d.listing_id, d.organization_id, "refunded", None, now)
            .await?;
        events::emit(conn, &Event::DepositRefunded(facts)).await?;
        Ok(transfer_postings(escrow, bank(&d.exchange)?, d.amount_fen))
    }
}
