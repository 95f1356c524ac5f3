//! Disputes (API.md "Trades and settlement"): after payment a party opens one with a reason (a
//! delivered trade only within its acceptance period); the admins of the buyer's and the seller's
//! exchange see it in their queue; one of them decides — settle to the seller, refund the buyer,
//! or a split — and the decision empties the trade's escrow through the ledger
//! (`domain::dispute`). Every step is audited and told to both parties in its transaction.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::disputes::{NewDispute, Resolution};
use crate::db::settlement::{self as sdb, TradeRow};
use crate::domain::dispute::{self, Outcome, SplitError, TradeAmounts};
use crate::domain::error::FieldErrors;
use crate::domain::listing::TradeStatus;
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, Event, TradeFacts, TradeParty};
use crate::service::idempotency::{self, Claim};
use crate::service::{Page, PageQuery};

use super::{flush, invalid_state, micros, parse_exchange, party_of, post, Party, TradeView};

/// Longest reason (of a dispute, a decision, a cancellation), in characters.
pub const MAX_REASON_CHARS: usize = 2_000;

/// `POST /trades/{id}/disputes`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisputeInput {
    pub reason: String,
}

/// `POST /admin/disputes/{id}/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResolveInput {
    /// `seller` | `buyer` | `split`
    pub outcome: String,
    /// For `split`: the part of the price that goes to the seller (more than 0, less than the
    /// price, at least the seller fee, which comes out of it); the rest of the price is refunded.
    pub seller_share_fen: Option<i64>,
    pub reason: String,
}

/// A trade's dispute, as the trade JSON carries it (`trade.dispute`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisputeView {
    pub id: Uuid,
    /// `open` | `resolved`
    pub status: String,
    /// `buyer` | `seller`: who opened it.
    pub opened_by: String,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    /// `seller` | `buyer` | `split`, once decided.
    pub outcome: Option<String>,
    /// The part of the price the decision gave the seller.
    pub seller_share_fen: Option<i64>,
    /// What the market owes the seller after the decision (share − seller fee).
    pub seller_receives_fen: Option<i64>,
    /// What the market owes the buyer back (a refund: price + buyer fee; a split: the rest of the price).
    pub buyer_refund_fen: Option<i64>,
    pub resolution_reason: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The exchange whose admin decided.
    pub resolved_by_exchange: Option<String>,
}

/// The dispute columns of a trade row, if it has one.
pub(super) fn dispute_of(t: &TradeRow) -> Option<DisputeView> {
    Some(DisputeView {
        id: t.dispute_id?,
        status: t.dispute_status.clone()?,
        opened_by: t.dispute_opened_by.clone()?,
        reason: t.dispute_reason.clone()?,
        opened_at: t.dispute_opened_at?,
        outcome: t.dispute_outcome.clone(),
        seller_share_fen: t.dispute_seller_share_fen,
        seller_receives_fen: t.dispute_seller_receives_fen,
        buyer_refund_fen: t.dispute_buyer_refund_fen,
        resolution_reason: t.dispute_resolution_reason.clone(),
        resolved_at: t.dispute_resolved_at,
        resolved_by_exchange: t.dispute_resolved_by_exchange.clone(),
    })
}

/// A required text of at most [`MAX_REASON_CHARS`] (line breaks allowed, other control characters not).
pub(super) fn check_reason(path: &str, value: &str, errs: &mut FieldErrors) {
    let v = value.trim();
    if v.is_empty() {
        errs.push(path, "err.text.required", vec![("min", "1".into())]);
    } else if v.chars().count() > MAX_REASON_CHARS {
        errs.push(
            path,
            "err.text.too_long",
            vec![("max", MAX_REASON_CHARS.to_string())],
        );
    } else if v
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errs.push(path, "err.text.control_chars", vec![]);
    }
}

fn trade_status(t: &TradeRow) -> Result<TradeStatus> {
    TradeStatus::parse(&t.status)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown trade status {}", t.status)))
}

/// A party opens a dispute on a paid (or delivered, within its acceptance period) trade →
/// `disputed`; 201 with the trade, its `dispute` filled in. Admins: 403 `party_only`; anyone
/// else who may not see the trade: 404. Honours `Idempotency-Key`.
pub async fn open_dispute(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    input: DisputeInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(StatusCode, serde_json::Value)> {
    let mut errs = FieldErrors::new();
    check_reason("reason", &input.reason, &mut errs);
    errs.into_result()?;
    let reason = input.reason.trim();
    let fp = idempotency::fingerprint(&format!("trade.dispute:{id}"), &input);
    let mut tx = match idempotency::begin(pool, user.id, key, &fp).await? {
        Claim::Replay(status, body) => return Ok((status, body)),
        Claim::Fresh(tx) => tx,
    };
    let t = sdb::lock_trade(&mut tx, id).await?.ok_or(Error::NotFound)?;
    let by = match party_of(user, &t).ok_or(Error::NotFound)? {
        Party::Buyer => TradeParty::Buyer,
        Party::Seller => TradeParty::Seller,
        Party::InvolvedAdmin(_) | Party::OtherAdmin(_) => {
            return Err(Error::Forbidden("party_only"))
        }
    };
    let status = trade_status(&t)?;
    if !status.can_dispute() {
        return Err(invalid_state(&t));
    }
    let now = micros(now);
    if status == TradeStatus::Delivered && t.acceptance_due_at.is_some_and(|due| due <= now) {
        return Err(Error::conflict("acceptance_period_over"));
    }
    let by_code = match by {
        TradeParty::Buyer => "buyer",
        TradeParty::Seller => "seller",
    };
    let dispute_id = Uuid::now_v7();
    db::disputes::open(
        &mut tx,
        &NewDispute {
            id: dispute_id,
            trade_id: t.id,
            opened_by_party: by_code,
            opened_by_user: user.person_id(),
            reason,
            opened_from: status.code(),
            opened_at: now,
        },
    )
    .await?;
    audit(
        &mut tx,
        user,
        "dispute.open",
        "trade",
        t.id,
        Some(serde_json::json!({"status": status.code()})),
        Some(serde_json::json!({"status": "disputed", "dispute_id": dispute_id, "opened_by": by_code, "reason": reason})),
    )
    .await?;
    events::emit(
        &mut tx,
        &Event::DisputeOpened {
            trade: TradeFacts::from(&t),
            dispute_id,
            by,
            buyer_exchange: t.buyer_exchange.clone(),
            seller_exchange: t.seller_exchange.clone(),
            reason: reason.to_string(),
        },
    )
    .await?;
    let after = sdb::get_trade(&mut tx, t.id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("trade vanished")))?;
    let body =
        serde_json::to_value(TradeView::from(&after)).map_err(|e| Error::Internal(e.into()))?;
    idempotency::finish(tx, user.id, key, StatusCode::CREATED, &body).await?;
    Ok((StatusCode::CREATED, body))
}

/// An admin of the buyer's or the seller's exchange decides an open dispute (403 `other_exchange`
/// for another exchange's admin): `seller` → `settled`; `buyer` → `refunded` (price and buyer fee
/// back); `split` → `settled` with `seller_share_fen` to the seller and the rest of the price back
/// to the buyer. Audited, told to both parties, posted to the ledger in the same transaction.
pub async fn resolve_dispute(
    pool: &PgPool,
    user: &CurrentUser,
    dispute_id: Uuid,
    input: ResolveInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(StatusCode, serde_json::Value)> {
    let exchange = user.require_admin()?;
    let mut errs = FieldErrors::new();
    let outcome = Outcome::parse(input.outcome.trim());
    if outcome.is_none() {
        errs.push(
            "outcome",
            "err.code.unknown",
            vec![("value", input.outcome.clone())],
        );
    }
    if outcome == Some(Outcome::Split) && input.seller_share_fen.is_none() {
        errs.push("seller_share_fen", "err.dispute.share_missing", vec![]);
    }
    check_reason("reason", &input.reason, &mut errs);
    errs.into_result()?;
    let Some(outcome) = outcome else {
        return Err(Error::Internal(anyhow::anyhow!("outcome checked above")));
    };
    let reason = input.reason.trim();
    let fp = idempotency::fingerprint(&format!("dispute.resolve:{dispute_id}"), &input);
    let mut tx = match idempotency::begin(pool, user.id, key, &fp).await? {
        Claim::Replay(status, body) => return Ok((status, body)),
        Claim::Fresh(tx) => tx,
    };
    let trade_id = db::disputes::trade_of(&mut tx, dispute_id)
        .await?
        .ok_or(Error::NotFound)?;
    let peek = sdb::get_trade(&mut tx, trade_id)
        .await?
        .ok_or(Error::NotFound)?;
    if peek.exclusive && outcome == Outcome::Buyer {
        // Lock order listing → trade (a refund lists an exclusive listing again).
        db::listings::lock(&mut tx, peek.listing_id).await?;
    }
    let mut t = sdb::lock_trade(&mut tx, trade_id)
        .await?
        .ok_or(Error::NotFound)?;
    if t.buyer_exchange != exchange.code() && t.seller_exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    let amounts = TradeAmounts {
        price_fen: t.price_fen,
        buyer_fee_fen: t.buyer_fee_fen,
        seller_fee_fen: t.seller_fee_fen,
    };
    let decision = dispute::decide(amounts, outcome, input.seller_share_fen).map_err(|e| {
        let mut f = FieldErrors::new();
        match e {
            SplitError::Missing => f.push("seller_share_fen", "err.dispute.share_missing", vec![]),
            SplitError::OutOfRange => f.push(
                "seller_share_fen",
                "err.dispute.share_range",
                vec![("price", crate::domain::money::format_yuan(t.price_fen))],
            ),
            SplitError::BelowSellerFee => f.push(
                "seller_share_fen",
                "err.dispute.share_below_fee",
                vec![("fee", crate::domain::money::format_yuan(t.seller_fee_fen))],
            ),
        }
        Error::Validation(f)
    })?;
    if t.dispute_status.as_deref() != Some("open") || t.status != TradeStatus::Disputed.code() {
        return Err(Error::Conflict {
            code: "dispute_not_open",
            args: vec![("status", t.status.clone())],
            extra: Some(serde_json::json!({"status": t.status})),
        });
    }
    let now = micros(now);
    db::disputes::resolve(
        &mut tx,
        &Resolution {
            id: dispute_id,
            outcome: outcome.code(),
            seller_share_fen: decision.seller_share_fen,
            seller_receives_fen: decision.seller_receives_fen,
            buyer_refund_fen: decision.buyer_refund_fen,
            reason,
            by: user.person_id(),
            exchange: exchange.code(),
            at: now,
        },
    )
    .await?;
    let new_status = if outcome == Outcome::Buyer {
        db::disputes::set_refunded(&mut tx, &t).await?;
        TradeStatus::Refunded
    } else {
        sdb::set_settled(&mut tx, t.id, now, "dispute").await?;
        super::issue(&mut tx, t.id, now).await?;
        t.settled_at = Some(now);
        TradeStatus::Settled
    };
    t.status = new_status.code().into();
    audit(
        &mut tx,
        user,
        "dispute.resolve",
        "trade",
        t.id,
        Some(serde_json::json!({"status": "disputed", "dispute_id": dispute_id})),
        Some(serde_json::json!({
            "status": new_status.code(), "dispute_id": dispute_id, "outcome": outcome.code(),
            "seller_share_fen": decision.seller_share_fen,
            "seller_receives_fen": decision.seller_receives_fen,
            "buyer_refund_fen": decision.buyer_refund_fen, "reason": reason,
        })),
    )
    .await?;
    events::emit(
        &mut tx,
        &Event::DisputeResolved {
            trade: TradeFacts::from(&t),
            dispute_id,
            outcome,
            settled: new_status == TradeStatus::Settled,
            seller_receives_fen: decision.seller_receives_fen,
            buyer_refund_fen: decision.buyer_refund_fen,
        },
    )
    .await?;
    let mut postings = dispute::decision_postings(
        &t.id.to_string(),
        &t.seller_organization_id.to_string(),
        &t.buyer_organization_id.to_string(),
        parse_exchange(&t.buyer_exchange)?,
        parse_exchange(&t.seller_exchange)?,
        amounts,
        &decision,
    );
    postings.extend(
        crate::service::brokers::on_dispute_decided(
            &mut tx,
            &t,
            new_status == TradeStatus::Settled,
            decision.seller_receives_fen,
            now,
        )
        .await?,
    );
    post(&mut tx, Some(t.id), &postings, now).await?;
    let after = sdb::get_trade(&mut tx, t.id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("trade vanished")))?;
    let body =
        serde_json::to_value(TradeView::from(&after)).map_err(|e| Error::Internal(e.into()))?;
    idempotency::finish(tx, user.id, key, StatusCode::OK, &body).await?;
    if let Err(e) = flush(pool).await {
        tracing::warn!(error = ?e, "ledger flush failed; postings stay pending");
    }
    Ok((StatusCode::OK, body))
}

/// The disputes of trades involving the admin's exchange (as the buyer's or the seller's), open
/// ones first and oldest first, each with its trade. `status`: `open` | `resolved` | all.
pub async fn dispute_queue(
    pool: &PgPool,
    user: &CurrentUser,
    status: Option<&str>,
    page: PageQuery,
) -> Result<Page<TradeView>> {
    let exchange = user.require_admin()?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s @ ("open" | "resolved")) => Some(s),
        Some(other) => {
            let mut f = FieldErrors::default();
            f.push(
                "status",
                "err.code.unknown",
                vec![("value", other.to_string())],
            );
            return Err(Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            });
        }
    };
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (ids, total) = db::disputes::queue(
        &mut conn,
        exchange.code(),
        status,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(t) = sdb::get_trade(&mut conn, id).await? {
            items.push(TradeView::from(&t));
        }
    }
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}
