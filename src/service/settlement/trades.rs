//! Trades: their view and lists, the three transitions (payment received, delivery confirmed,
//! cancelled) and the unpaid-trade deadline.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::settlement::{self as sdb, TradeRow, TradeScope};
use crate::domain::codes::Exchange;
use crate::domain::error::FieldErrors;
use crate::domain::ledger;
use crate::domain::listing::TradeStatus;
use crate::domain::trade;
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, Event, TradeFacts, TradeParty};
use crate::service::idempotency::{self, Claim};
use crate::service::{Page, PageQuery};

use super::{flush, post, post_with_event, PAYMENT_DAYS};

/// A trade as API.md shows it (plus `listing_title` and `cancelled_at`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TradeView {
    pub id: Uuid,
    /// Short and unique (`TM-2026-000123`): shown on pages, statements and exports, and the
    /// payment reference.
    pub number: String,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub seller_organization_id: Uuid,
    pub seller_organization_name: String,
    pub buyer_organization_id: Uuid,
    pub buyer_organization_name: String,
    pub price_fen: i64,
    pub transaction_mode: String,
    /// tech_transfer | tech_license | tech_development
    pub contract_type: String,
    /// awaiting_payment | paid | delivered | disputed | settled | refunded | cancelled
    pub status: String,
    pub fee_schedule_id: Uuid,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub seller_exchange: String,
    pub buyer_exchange: String,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// When the payment is due (DOMAIN.md: the trade is cancelled if it is not paid by then).
    pub payment_due_at: DateTime<Utc>,
    /// When the seller recorded delivery.
    pub delivered_at: Option<DateTime<Utc>>,
    /// What the seller wrote about the delivery.
    pub delivery_note: Option<String>,
    /// End of the buyer's acceptance period: without a confirmation the trade then settles.
    pub acceptance_due_at: Option<DateTime<Utc>>,
    /// Who cancelled (`buyer` | `seller` | `payment_timeout`), and what they wrote.
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// The trade's dispute, once a party opened one.
    pub dispute: Option<super::DisputeView>,
    /// How many trades the buyer organisation cancelled (or left unpaid past the deadline) in the
    /// last 90 days (`GET /trades/{id}` only; `null` in lists).
    pub buyer_cancellations_90d: Option<i64>,
    /// Accepted broker engagements (技术经纪人), at most one per side (API.md `trade.brokers`).
    #[serde(default)]
    pub brokers: Vec<crate::service::brokers::EngagementView>,
    /// The files the seller attached to its delivery (`GET /trades/{id}` only, to the parties
    /// and the admins of their exchanges).
    #[serde(default)]
    pub delivery_attachments: Vec<super::AttachmentView>,
}

impl From<&TradeRow> for TradeView {
    fn from(t: &TradeRow) -> Self {
        TradeView {
            id: t.id,
            number: t.number.clone(),
            listing_id: t.listing_id,
            listing_title: t.listing_title.clone(),
            seller_organization_id: t.seller_organization_id,
            seller_organization_name: t.seller_name.clone(),
            buyer_organization_id: t.buyer_organization_id,
            buyer_organization_name: t.buyer_name.clone(),
            price_fen: t.price_fen,
            transaction_mode: t.transaction_mode.clone(),
            contract_type: t.contract_type.clone(),
            status: t.status.clone(),
            fee_schedule_id: t.fee_schedule_id,
            buyer_fee_fen: t.buyer_fee_fen,
            seller_fee_fen: t.seller_fee_fen,
            seller_exchange: t.seller_exchange.clone(),
            buyer_exchange: t.buyer_exchange.clone(),
            created_at: t.created_at,
            paid_at: t.paid_at,
            settled_at: t.settled_at,
            cancelled_at: t.cancelled_at,
            payment_due_at: trade::payment_due_at(t.created_at),
            delivered_at: t.delivered_at,
            delivery_note: t.delivery_note.clone(),
            acceptance_due_at: t.acceptance_due_at,
            cancelled_by: t.cancel_reason.clone(),
            cancel_reason: t.cancel_note.clone(),
            dispute: super::disputes::dispute_of(t),
            buyer_cancellations_90d: None,
            brokers: Vec::new(),
            delivery_attachments: Vec::new(),
        }
    }
}

impl TradeView {
    /// What the buyer pays: price + buyer fee + its broker's commission.
    pub fn buyer_pays_fen(&self) -> i64 {
        self.price_fen
            .saturating_add(self.buyer_fee_fen)
            .saturating_add(self.commission_of("buyer"))
    }
    /// What the seller receives: price − seller fee − its broker's commission.
    pub fn seller_receives_fen(&self) -> i64 {
        self.price_fen
            .saturating_sub(self.seller_fee_fen)
            .saturating_sub(self.commission_of("seller"))
    }
    /// The commission of one side's accepted broker (0 without one).
    pub fn commission_of(&self, side: &str) -> i64 {
        self.brokers
            .iter()
            .filter(|b| b.side == side)
            .map(|b| b.paid_fen.unwrap_or(b.commission_fen))
            .sum()
    }
    pub fn is_status(&self, s: &str) -> bool {
        self.status == s
    }
}

/// The trade JSON of API.md, for any caller that already decided the caller may see it
/// (e.g. the responses of accept and buy). `None` when there is no such trade.
pub async fn trade_view(conn: &mut PgConnection, id: Uuid) -> Result<Option<TradeView>> {
    let Some(t) = sdb::get_trade(conn, id).await? else {
        return Ok(None);
    };
    let mut view = TradeView::from(&t);
    view.brokers = crate::service::brokers::trade_brokers(conn, id).await?;
    Ok(Some(view))
}

/// How the caller relates to a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Buyer,
    Seller,
    /// An admin of an exchange involved in the trade (buyer's or listing's).
    InvolvedAdmin(Exchange),
    /// Any other exchange admin (may read, not act).
    OtherAdmin(Exchange),
}

pub fn party_of(user: &CurrentUser, t: &TradeRow) -> Option<Party> {
    if let Ok(ex) = user.require_admin() {
        let code = ex.code();
        return Some(if t.buyer_exchange == code || t.seller_exchange == code {
            Party::InvolvedAdmin(ex)
        } else {
            Party::OtherAdmin(ex)
        });
    }
    let org = user.organization_id?;
    if org == t.buyer_organization_id {
        Some(Party::Buyer)
    } else if org == t.seller_organization_id {
        Some(Party::Seller)
    } else {
        None
    }
}

/// One trade for its parties and admins; 404 to anyone else. The buyer's cancellations are counted
/// up to `now` (the state's clock).
pub async fn get(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(TradeView, Party)> {
    let mut conn = pool.acquire().await?;
    let t = sdb::get_trade(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    let party = party_of(user, &t).ok_or(Error::NotFound)?;
    let mut view = TradeView::from(&t);
    view.buyer_cancellations_90d = Some(
        super::cancellations::cancellations_90d(&mut conn, t.buyer_organization_id, now).await?,
    );
    view.brokers = crate::service::brokers::trade_brokers(&mut conn, id).await?;
    view.delivery_attachments = super::attachments_of(&mut conn, id, party).await?;
    Ok((view, party))
}

/// `buyer` | `seller` | none (both).
pub fn parse_role(role: Option<&str>) -> Result<Option<sdb::Role>> {
    match role.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some("buyer") => Ok(Some(sdb::Role::Buyer)),
        Some("seller") => Ok(Some(sdb::Role::Seller)),
        Some(other) => {
            let mut f = FieldErrors::default();
            f.push(
                "role",
                "err.code.unknown",
                vec![("value", other.to_string())],
            );
            Err(Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            })
        }
    }
}

fn parse_status(status: Option<&str>) -> Result<Option<TradeStatus>> {
    match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => TradeStatus::parse(s).map(Some).ok_or_else(|| {
            let mut f = FieldErrors::default();
            f.push("status", "err.code.unknown", vec![("value", s.to_string())]);
            Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            }
        }),
    }
}

/// A member's organisation's trades (as buyer, seller or both); an admin's: those involving their exchange.
pub async fn list(
    pool: &PgPool,
    user: &CurrentUser,
    role: Option<&str>,
    status: Option<&str>,
    page: PageQuery,
) -> Result<Page<TradeView>> {
    let role = parse_role(role)?;
    let status = parse_status(status)?;
    let (page, per_page) = page.resolve_or_400()?;
    let scope = match user.require_admin() {
        Ok(ex) => TradeScope::Exchange(ex.code().to_string()),
        Err(_) => TradeScope::Org {
            org: user.require_org()?,
            role,
        },
    };
    let mut conn = pool.acquire().await?;
    let (rows, total) = sdb::list_trades(
        &mut conn,
        &scope,
        status.map(|s| s.code()),
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    let mut items: Vec<TradeView> = rows.iter().map(TradeView::from).collect();
    crate::service::brokers::fill_brokers(&mut conn, &mut items).await?;
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

/// A state change of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An admin of the buyer's or the listing's exchange records the payment (into the buyer's
    /// exchange's settlement account, where the instructions told the buyer to pay).
    PaymentReceived,
    /// The buyer confirms delivery: the trade settles.
    ConfirmDelivery,
    /// Either party cancels while the payment is awaited.
    Cancel,
}

impl Action {
    fn route(self) -> &'static str {
        match self {
            Action::PaymentReceived => "trade.payment_received",
            Action::ConfirmDelivery => "trade.confirm_delivery",
            Action::Cancel => "trade.cancel",
        }
    }
}

/// `Utc::now()` at Postgres precision, so what is hashed is exactly what is stored.
pub fn now_micros() -> DateTime<Utc> {
    micros(Utc::now())
}

/// `at` at Postgres precision.
pub fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

pub(super) fn invalid_state(t: &TradeRow) -> Error {
    Error::Conflict {
        code: "invalid_trade_state",
        args: vec![("status", t.status.clone())],
        extra: Some(serde_json::json!({"status": t.status})),
    }
}

/// Performs `action` on trade `id` for `user`, honouring an `Idempotency-Key`: returns the status and
/// body of the response (the first one again for a repeated key). Run it to completion (inside
/// `tokio::spawn`): it moves money.
#[tracing::instrument(skip(pool, user), fields(user = %user.id))]
pub async fn act(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    action: Action,
    key: Option<&str>,
) -> Result<(StatusCode, serde_json::Value)> {
    transition(pool, user, id, action, None, key).await
}

/// [`act`] with what the caller wrote: a cancellation's reason (required for `Cancel`, see
/// [`super::cancel`]).
pub(super) async fn transition(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    action: Action,
    note: Option<&str>,
    key: Option<&str>,
) -> Result<(StatusCode, serde_json::Value)> {
    let fp = idempotency::fingerprint(action.route(), &(id, note));
    let mut tx = match idempotency::begin(pool, user.id, key, &fp).await? {
        Claim::Replay(status, body) => return Ok((status, body)),
        Claim::Fresh(tx) => tx,
    };
    // The lock order of every transition, whatever the action: an exclusive trade's listing, then
    // the trade (ARCHITECTURE.md). Trade creation and a cancellation (which lists the listing
    // again) take the listing first; a transition that took the trade first and then touched the
    // listing, even only through a foreign-key check (a second UPDATE of the trade row re-checks
    // `listing_id` with FOR KEY SHARE), waited for the cancellation while it waited for the trade.
    // (One statement locks its listing if it is exclusive, then the trade, and reads the trade.)
    let mut t = sdb::lock_listing_and_trade(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let party = party_of(user, &t).ok_or(Error::NotFound)?;
    let status = TradeStatus::parse(&t.status)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown trade status {}", t.status)))?;
    let now = now_micros();
    // Whether the trade may have accepted (or paid) broker engagements to show in the answer:
    // `false` when the transition has just read that it has none (no second query for them).
    let mut engaged = true;
    // The postings, and the event to emit with them (one statement writes both).
    let (postings, event) = match action {
        Action::PaymentReceived => {
            match party {
                Party::InvolvedAdmin(_) => {}
                Party::OtherAdmin(_) => return Err(Error::Forbidden("other_exchange")),
                Party::Buyer | Party::Seller => return Err(Error::Forbidden("admin_required")),
            };
            // The buyer was told to pay into its own exchange's settlement account (payment
            // instructions), so that is the account the payment is posted to, whichever involved
            // exchange's admin records it (API.md lets either do so).
            let exchange = parse_exchange(&t.buyer_exchange)?;
            user.require_scope(crate::domain::interconnect::Scope::Payments)?;
            if !status.can_pay() {
                return Err(invalid_state(&t));
            }
            // Set paid. A won auction's deposit is already in the escrow: the buyer pays the
            // balance. Its broker's accepted commission is paid in with the price (proposals
            // lapse). One statement.
            let paid = crate::service::brokers::on_trade_paid(&mut tx, t.id, user.person_id(), now)
                .await?;
            let (deposit, commission) = (paid.deposit_fen, paid.commission_fen);
            engaged = paid.engaged > 0;
            let due = t
                .price_fen
                .saturating_add(t.buyer_fee_fen)
                .saturating_add(commission)
                .saturating_sub(deposit);
            t.status = TradeStatus::Paid.code().into();
            t.paid_at = Some(now);
            audit(
                &mut tx,
                user,
                "trade.payment_received",
                "trade",
                t.id,
                Some(serde_json::json!({"status": "awaiting_payment"})),
                Some(serde_json::json!({
                    "status": "paid", "amount_fen": due, "deposit_applied_fen": deposit,
                    "broker_commission_fen": commission,
                    "bank_account": ledger::bank_account(exchange),
                })),
            )
            .await?;
            let postings = if deposit == 0 && commission == 0 {
                ledger::payment_postings(&t.id.to_string(), exchange, t.price_fen, t.buyer_fee_fen)
            } else {
                let escrow = ledger::escrow_account(&t.id.to_string());
                ledger::transfer_postings(ledger::bank_account(exchange), escrow, due)
            };
            (postings, Some(Event::TradePaid(TradeFacts::from(&t))))
        }
        Action::ConfirmDelivery => {
            match party {
                Party::Buyer => {}
                Party::Seller => return Err(Error::Forbidden("buyer_only")),
                Party::InvolvedAdmin(_) | Party::OtherAdmin(_) => {
                    return Err(Error::Forbidden("buyer_only"))
                }
            }
            if !status.can_settle() {
                return Err(invalid_state(&t));
            }
            // One UPDATE of the trade (see `sdb::set_settled`), the certificate, whose foreign
            // key only share-locks the trade row this transaction already holds, and the
            // brokers paid, in one statement.
            let base = super::delivery::settlement_postings(&t)?;
            let (postings, paid_brokers) =
                super::settle_and_issue(&mut tx, &t, base, now, "buyer").await?;
            t.status = TradeStatus::Settled.code().into();
            t.settled_at = Some(now);
            engaged = paid_brokers;
            (postings, Some(Event::TradeSettled(TradeFacts::from(&t))))
        }
        Action::Cancel => {
            let note = super::cancellations::required_reason(note)?;
            if !matches!(party, Party::Buyer | Party::Seller) {
                return Err(Error::Forbidden("party_only"));
            }
            // After payment only a dispute can undo a trade.
            if !status.can_cancel() {
                return Err(invalid_state(&t));
            }
            let (reason, by) = if party == Party::Buyer {
                ("buyer", TradeParty::Buyer)
            } else {
                ("seller", TradeParty::Seller)
            };
            sdb::set_cancelled(&mut tx, &t, reason, Some(note), now).await?;
            t.status = TradeStatus::Cancelled.code().into();
            t.cancelled_at = Some(now);
            t.cancel_reason = Some(reason.into());
            t.cancel_note = Some(note.into());
            let cancelled = Event::TradeCancelled {
                trade: TradeFacts::from(&t),
                by,
            };
            events::emit(&mut tx, &cancelled).await?;
            if by == TradeParty::Buyer {
                super::cancellations::buyer_defaulted(
                    &mut tx,
                    &t,
                    super::cancellations::BuyerDefault::Cancelled,
                    now,
                )
                .await?;
            }
            // A deposit applied to it: the buyer forfeits it, a seller's cancellation returns it.
            let forfeit = party == Party::Buyer;
            crate::service::brokers::on_trade_cancelled(&mut tx, t.id, now).await?;
            // Emitted above, before the buyer's default is counted (its notices follow).
            let postings =
                crate::service::trading::on_trade_cancelled(&mut tx, &t, forfeit, now).await?;
            (postings, None)
        }
    };
    let mut view = TradeView::from(&t);
    if engaged {
        view.brokers = crate::service::brokers::trade_brokers(&mut tx, t.id).await?;
    }
    let body = serde_json::to_value(view).map_err(|e| Error::Internal(e.into()))?;
    match &event {
        Some(event) => post_with_event(&mut tx, Some(t.id), &postings, now, event).await?,
        None => post(&mut tx, Some(t.id), &postings, now).await?,
    }
    idempotency::finish(tx, user.id, key, StatusCode::OK, &body).await?;
    if !postings.is_empty() {
        // The trade change is committed with its postings; chain them before answering. Should this
        // fail, they stay pending and the next flush (any request, or the periodic job) chains them.
        if let Err(e) = flush(pool).await {
            tracing::warn!(error = ?e, "ledger flush failed; postings stay pending");
        }
    }
    Ok((StatusCode::OK, body))
}

pub(super) fn parse_exchange(code: &str) -> Result<Exchange> {
    Exchange::parse(code).ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown exchange {code}")))
}

/// Cancels trades unpaid for `PAYMENT_DAYS` days. Safe with several processes (SKIP LOCKED).
pub async fn cancel_unpaid(pool: &PgPool, now: DateTime<Utc>) -> Result<usize> {
    const BATCH: i64 = 50;
    let before = now - Duration::days(PAYMENT_DAYS);
    let mut done = 0;
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    let mut posted = false;
    loop {
        let candidates = {
            let mut conn = pool.acquire().await?;
            sdb::unpaid_candidates(&mut conn, before, after, BATCH).await?
        };
        for c in &candidates {
            // One transaction per trade, taking the listing's lock before the trade's: the order
            // of a party's cancel and of trade creation (a batch holding trades while waiting for
            // listings deadlocked with them).
            let mut tx = pool.begin().await?;
            if c.exclusive {
                db::listings::lock(&mut tx, c.listing_id).await?;
            }
            // Skipped if someone is acting on it right now, or it changed since it was listed.
            let Some(mut t) = sdb::lock_unpaid(&mut tx, c.id, before).await? else {
                tx.rollback().await?;
                continue;
            };
            sdb::set_cancelled(&mut tx, &t, "payment_timeout", None, micros(now)).await?;
            t.status = TradeStatus::Cancelled.code().into();
            t.cancelled_at = Some(micros(now));
            t.cancel_reason = Some("payment_timeout".into());
            let timed_out = Event::TradePaymentTimedOut(TradeFacts::from(&t));
            events::emit(&mut tx, &timed_out).await?;
            super::cancellations::buyer_defaulted(
                &mut tx,
                &t,
                super::cancellations::BuyerDefault::PaymentTimeout,
                micros(now),
            )
            .await?;
            // The winner of an auction that did not pay forfeits its deposit to the seller.
            crate::service::brokers::on_trade_cancelled(&mut tx, t.id, micros(now)).await?;
            let forfeited =
                crate::service::trading::on_trade_cancelled(&mut tx, &t, true, micros(now)).await?;
            post(&mut tx, Some(t.id), &forfeited, micros(now)).await?;
            tx.commit().await?;
            done += 1;
            posted |= !forfeited.is_empty();
        }
        match candidates.last() {
            Some(c) if candidates.len() as i64 == BATCH => after = Some((c.created_at, c.id)),
            _ => {
                if posted {
                    flush(pool).await?;
                }
                return Ok(done);
            }
        }
    }
}
