//! Offers, fixed-price purchases and auctions: every way of buying ends in one trade, created by
//! `service::trades::create` with the fees of the schedule in force.
//!
//! Locking order (never reversed, so no deadlocks): `auctions` → `listings` → `offers`. Bids lock only
//! their auction row (one conditional UPDATE); purchases and accepts lock the listing row; the closing
//! job locks the auction (skipping locked ones), then the listing through `trades::create`.
//!
//! The public functions that change state run their transaction in a spawned task, so it completes
//! even if the client goes away (PERFORMANCE-NOTES: sqlx and cancelled transactions).
//!
//! Live pages learn of bids through `pg_notify('auction_events')` (see `live`), which every server
//! process listens to (`service::events::live`); the closing job runs every second in every process and takes
//! due auctions `FOR UPDATE SKIP LOCKED`, so each closes exactly once.
use std::future::Future;

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::trading::{AuctionEvent, AuctionRow, ListingRow, OfferRow};
use crate::domain::auction::{close_outcome, min_next_bid, pseudonym, reserve_met, CloseOutcome};
use crate::domain::codes::{PricingMode, TransactionMode};
use crate::domain::error::FieldErrors;
use crate::domain::money::{format_yuan, MAX_AMOUNT_FEN};
use crate::error::{Error, Result};
use crate::service::events::{self, Event, OffersClosedBecause};
use crate::service::idempotency::{self, Claim};
use crate::service::settlement::{trade_view, TradeView};
use crate::service::trades::{self, NewTrade};
use crate::service::{guards, AppState, Clock, Page, PageQuery};

/// Open offers lapse after this many days.
pub const OFFER_DAYS: i64 = 14;
/// Longest offer message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// Bids shown in an auction's history.
pub const HISTORY: i64 = 20;

/// A response that an `Idempotency-Key` may replay: the status and the JSON body.
pub type Replayable = (StatusCode, Value);

// ---------------------------------------------------------------- views

/// `{trade}`: the answer to an accept or a purchase.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TradeCreated {
    pub trade: TradeView,
}

/// One offer of a negotiation thread.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfferView {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    /// The buyer organisation's conversation with the seller about this listing.
    pub thread_id: Uuid,
    pub amount_fen: i64,
    pub transaction_mode: String,
    /// `open` | `countered` | `accepted` | `rejected` | `withdrawn` | `expired` | `closed`
    pub status: String,
    /// `buyer` | `seller`
    pub made_by: String,
    pub message: Option<String>,
    pub buyer_organization_id: Uuid,
    pub buyer_organization_name: String,
    pub seller_organization_id: Uuid,
    pub seller_organization_name: String,
    /// The offer this one answers (a counter-offer).
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl OfferView {
    fn from_row(o: &OfferRow, now: DateTime<Utc>) -> Self {
        // An open offer past its expiry is expired, even before the job has marked it.
        let status = if o.status == "open" && o.expires_at <= now {
            "expired".to_string()
        } else {
            o.status.clone()
        };
        OfferView {
            id: o.id,
            listing_id: o.listing_id,
            listing_title: o.listing_title.clone(),
            thread_id: o.thread_id,
            amount_fen: o.amount_fen,
            transaction_mode: o.transaction_mode.clone(),
            status,
            made_by: o.made_by.clone(),
            message: o.message.clone(),
            buyer_organization_id: o.buyer_org_id,
            buyer_organization_name: o.buyer_name.clone(),
            seller_organization_id: o.seller_org_id,
            seller_organization_name: o.seller_name.clone(),
            parent_id: o.parent_id,
            created_at: o.created_at,
            expires_at: o.expires_at,
            decided_at: o.decided_at,
        }
    }

    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

/// A bid as everyone sees it: the bidder only by pseudonym.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidView {
    /// `竞买人1`, `竞买人2`, … (stable per organisation within the auction)
    pub bidder: String,
    /// `Bidder 1`, …
    pub bidder_en: String,
    pub amount_fen: i64,
    pub at: DateTime<Utc>,
}

/// The public state of an auction.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuctionView {
    pub listing_id: Uuid,
    /// `scheduled` | `open` | `closed`
    pub status: String,
    pub start_price_fen: i64,
    pub increment_fen: i64,
    /// The leading bid, or the start price before any bid.
    pub current_price_fen: i64,
    pub bid_count: i32,
    pub ends_at: DateTime<Utc>,
    /// Whether the leading bid reaches the secret reserve (no reserve: any bid does).
    pub reserve_met: bool,
    /// Whether there is a reserve at all (its amount stays secret).
    pub has_reserve: bool,
    /// The seller alone sees the reserve itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserve_fen: Option<i64>,
    pub trade_id: Option<Uuid>,
    /// The lowest bid that would be accepted now.
    pub min_next_bid_fen: i64,
    pub extension_seconds: i32,
    /// The latest bids, newest first.
    pub bids: Vec<BidView>,
}

impl AuctionView {
    fn from_row(a: &AuctionRow, bids: Vec<BidView>, show_reserve: bool) -> Self {
        AuctionView {
            listing_id: a.listing_id,
            status: a.status.clone(),
            start_price_fen: a.start_price_fen,
            increment_fen: a.increment_fen,
            current_price_fen: a.leading_bid_fen.unwrap_or(a.start_price_fen),
            bid_count: a.bid_count,
            ends_at: a.ends_at,
            reserve_met: reserve_met(a.leading_bid_fen, a.reserve_fen),
            has_reserve: a.reserve_fen.is_some(),
            reserve_fen: if show_reserve { a.reserve_fen } else { None },
            trade_id: a.trade_id,
            min_next_bid_fen: min_next_bid(a.start_price_fen, a.increment_fen, a.leading_bid_fen),
            extension_seconds: a.extension_seconds,
            bids,
        }
    }

    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

/// The Chinese pseudonym of bidder number `n` (as bids show it).
pub fn pseudonym_zh(n: i32) -> String {
    pseudonym(n.max(0) as u32).0
}

fn bid_view(bidder_no: i32, amount_fen: i64, at: DateTime<Utc>) -> BidView {
    let (zh, en) = pseudonym(bidder_no.max(0) as u32);
    BidView {
        bidder: zh,
        bidder_en: en,
        amount_fen,
        at,
    }
}

/// `{bid, auction}`: the answer to a bid.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidPlaced {
    pub bid: BidOut,
    pub auction: AuctionView,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidOut {
    pub id: Uuid,
    pub amount_fen: i64,
    pub bidder: String,
    pub bidder_en: String,
    pub at: DateTime<Utc>,
}

// ---------------------------------------------------------------- inputs

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfferInput {
    pub amount_fen: i64,
    pub transaction_mode: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CounterInput {
    pub amount_fen: i64,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BuyInput {
    pub transaction_mode: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidInput {
    pub amount_fen: i64,
}

// ---------------------------------------------------------------- helpers

/// Runs a money-moving use case to completion in its own task.
async fn complete<T: Send + 'static>(
    f: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    tokio::spawn(f)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("trading task failed: {e}")))?
}

fn to_json<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(e.into()))
}

fn check_amount(path: &str, amount_fen: i64, errs: &mut FieldErrors) {
    if amount_fen < 1 {
        errs.push(path, "err.amount.zero", vec![]);
    } else if amount_fen > MAX_AMOUNT_FEN {
        errs.push(
            path,
            "err.amount.too_large",
            vec![("max", format_yuan(MAX_AMOUNT_FEN))],
        );
    }
}

fn check_message(message: Option<&str>, errs: &mut FieldErrors) {
    if let Some(m) = message {
        if m.chars().count() > MAX_MESSAGE_CHARS {
            errs.push(
                "message",
                "err.text.too_long",
                vec![("max", MAX_MESSAGE_CHARS.to_string())],
            );
        } else if m
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            errs.push("message", "err.text.control_chars", vec![]);
        }
    }
}

/// The mode must be one the listing offers (422 naming `transaction_mode`).
fn check_mode(listing: &ListingRow, mode: &str, errs: &mut FieldErrors) -> Option<TransactionMode> {
    match TransactionMode::parse(mode) {
        None => {
            errs.push(
                "transaction_mode",
                "err.code.unknown",
                vec![("value", mode.chars().take(40).collect())],
            );
            None
        }
        Some(m) if !listing.transaction_modes.iter().any(|x| x == m.code()) => {
            errs.push("transaction_mode", "err.trading.mode_not_offered", vec![]);
            None
        }
        Some(m) => Some(m),
    }
}

/// A listing the caller may see: drafts are not found (except by their owner, who is refused anyway).
fn visible(listing: Option<ListingRow>, org: Uuid) -> Result<ListingRow> {
    match listing {
        Some(l) if l.status != "draft" || l.organization_id == org => Ok(l),
        _ => Err(Error::NotFound),
    }
}

fn not_own(listing: &ListingRow, org: Uuid) -> Result<()> {
    if listing.organization_id == org {
        return Err(Error::Forbidden("own_listing"));
    }
    Ok(())
}

fn require_pricing(listing: &ListingRow, mode: PricingMode) -> Result<()> {
    if listing.pricing_mode != mode.code() {
        return Err(Error::conflict("wrong_pricing_mode"));
    }
    Ok(())
}

fn require_listed(listing: &ListingRow) -> Result<()> {
    if listing.status != "listed" {
        return Err(Error::conflict("listing_not_available"));
    }
    Ok(())
}

/// What a sale is made of: an accepted offer, a purchase or a won auction.
struct Sale {
    buyer_org: Uuid,
    price_fen: i64,
    mode: TransactionMode,
    /// `offer` | `purchase` | `auction`
    source: &'static str,
    offer_id: Option<Uuid>,
    now: DateTime<Utc>,
}

/// Creates the trade, then tells both parties.
async fn make_trade(
    conn: &mut PgConnection,
    listing: &ListingRow,
    sale: Sale,
) -> Result<TradeView> {
    let Sale {
        buyer_org,
        price_fen,
        mode,
        source,
        offer_id,
        now,
    } = sale;
    let buyer_exchange = db::trading::org_exchange(conn, buyer_org)
        .await?
        .ok_or(Error::NotFound)?;
    let id = trades::create(
        conn,
        NewTrade {
            listing_id: listing.id,
            seller_org: listing.organization_id,
            buyer_org,
            price_fen,
            mode,
            seller_exchange: listing.exchange.clone(),
            buyer_exchange,
            source,
            offer_id,
            now,
        },
    )
    .await?;
    let trade = trade_view(conn, id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("trade {id} vanished")))?;
    let created = Event::TradeCreated {
        trade_id: id,
        listing_id: listing.id,
        listing_title: listing.title.clone(),
        seller_organization_id: listing.organization_id,
        buyer_organization_id: buyer_org,
        price_fen,
        source,
    };
    events::emit(conn, &created).await?;
    Ok(trade)
}

// ---------------------------------------------------------------- offers

/// `POST /listings/{id}/offers`: a buyer's offer on a negotiable listing. A new offer in a thread
/// answers the seller's open counter-offer (which becomes `countered`) or replaces the buyer's own.
pub async fn make_offer(
    pool: &PgPool,
    user: &CurrentUser,
    listing_id: Uuid,
    input: OfferInput,
    key: Option<String>,
) -> Result<Replayable> {
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        let fp = idempotency::fingerprint(&format!("offer:{listing_id}"), &input);
        let mut tx = match idempotency::begin(&pool, user.id, key.as_deref(), &fp).await? {
            Claim::Fresh(tx) => tx,
            Claim::Replay(s, b) => return Ok((s, b)),
        };
        let listing = visible(
            db::trading::listing_for_update(&mut tx, listing_id).await?,
            org,
        )?;
        not_own(&listing, org)?;
        guards::require_active_org(&mut tx, org).await?;
        let mut errs = FieldErrors::new();
        check_amount("amount_fen", input.amount_fen, &mut errs);
        let mode = check_mode(&listing, &input.transaction_mode, &mut errs);
        check_message(input.message.as_deref(), &mut errs);
        errs.clone().into_result()?;
        let mode = mode.ok_or(Error::Validation(errs))?;
        require_pricing(&listing, PricingMode::Negotiable)?;
        require_listed(&listing)?;

        let now = Utc::now();
        let thread_id = match db::trading::thread_of(&mut tx, listing_id, org).await? {
            Some(t) => {
                db::trading::supersede_thread(&mut tx, t, "buyer", now).await?;
                t
            }
            None => Uuid::now_v7(),
        };
        let id = Uuid::now_v7();
        let message = input
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        db::trading::insert_offer(
            &mut tx,
            db::trading::NewOffer {
                id,
                listing_id,
                thread_id,
                buyer_org: org,
                made_by: "buyer",
                user: user.id,
                amount_fen: input.amount_fen,
                mode: mode.code(),
                message,
                parent_id: None,
                now,
                expires_at: now + TimeDelta::days(OFFER_DAYS),
            },
        )
        .await?;
        let row = db::trading::offer(&mut tx, id)
            .await?
            .ok_or(Error::NotFound)?;
        let received = Event::OfferReceived {
            offer_id: id,
            thread_id,
            listing_id,
            listing_title: listing.title.clone(),
            seller_organization_id: listing.organization_id,
            amount_fen: input.amount_fen,
        };
        events::emit(&mut tx, &received).await?;
        let body = to_json(&OfferView::from_row(&row, now))?;
        idempotency::finish(tx, user.id, key.as_deref(), StatusCode::CREATED, &body).await?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// Which side of an offer's thread the caller is on; 404 for anyone else.
fn side_of(offer: &OfferRow, org: Uuid) -> Result<&'static str> {
    if org == offer.seller_org_id {
        Ok("seller")
    } else if org == offer.buyer_org_id {
        Ok("buyer")
    } else {
        Err(Error::NotFound)
    }
}

/// Loads an offer the caller is party to, locks its listing and then the offer, and reads it again.
async fn lock_offer(
    conn: &mut PgConnection,
    offer_id: Uuid,
    org: Uuid,
) -> Result<(OfferRow, ListingRow, &'static str)> {
    let first = db::trading::offer(conn, offer_id)
        .await?
        .ok_or(Error::NotFound)?;
    side_of(&first, org)?;
    let listing = db::trading::listing_for_update(conn, first.listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    db::trading::lock_offer(conn, offer_id).await?;
    let offer = db::trading::offer(conn, offer_id)
        .await?
        .ok_or(Error::NotFound)?;
    let side = side_of(&offer, org)?;
    Ok((offer, listing, side))
}

/// 409 unless the offer is still open (an open offer past its expiry counts as expired).
fn require_open(offer: &OfferRow, now: DateTime<Utc>) -> Result<()> {
    if offer.status != "open" {
        return Err(Error::conflict("offer_not_open"));
    }
    if offer.expires_at <= now {
        return Err(Error::conflict("offer_expired"));
    }
    Ok(())
}

fn other_org(offer: &OfferRow, side: &str) -> Uuid {
    if side == "seller" {
        offer.buyer_org_id
    } else {
        offer.seller_org_id
    }
}

/// `POST /offers/{id}/counter`: the party that did not make the open offer answers with another amount.
pub async fn counter(
    pool: &PgPool,
    user: &CurrentUser,
    offer_id: Uuid,
    input: CounterInput,
    key: Option<String>,
) -> Result<Replayable> {
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        let fp = idempotency::fingerprint(&format!("counter:{offer_id}"), &input);
        let mut tx = match idempotency::begin(&pool, user.id, key.as_deref(), &fp).await? {
            Claim::Fresh(tx) => tx,
            Claim::Replay(s, b) => return Ok((s, b)),
        };
        let (offer, listing, side) = lock_offer(&mut tx, offer_id, org).await?;
        if offer.made_by == side {
            return Err(Error::Forbidden("offer_wrong_party"));
        }
        guards::require_active_org(&mut tx, org).await?;
        let mut errs = FieldErrors::new();
        check_amount("amount_fen", input.amount_fen, &mut errs);
        check_message(input.message.as_deref(), &mut errs);
        errs.into_result()?;
        let now = Utc::now();
        require_open(&offer, now)?;
        require_listed(&listing)?;

        db::trading::supersede_thread(&mut tx, offer.thread_id, side, now).await?;
        let id = Uuid::now_v7();
        let message = input
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        db::trading::insert_offer(
            &mut tx,
            db::trading::NewOffer {
                id,
                listing_id: offer.listing_id,
                thread_id: offer.thread_id,
                buyer_org: offer.buyer_org_id,
                made_by: side,
                user: user.id,
                amount_fen: input.amount_fen,
                mode: &offer.transaction_mode,
                message,
                parent_id: Some(offer.id),
                now,
                expires_at: now + TimeDelta::days(OFFER_DAYS),
            },
        )
        .await?;
        let row = db::trading::offer(&mut tx, id)
            .await?
            .ok_or(Error::NotFound)?;
        let countered = Event::OfferCountered {
            offer_id: id,
            thread_id: offer.thread_id,
            listing_id: offer.listing_id,
            listing_title: listing.title.clone(),
            to: other_org(&offer, side),
            amount_fen: input.amount_fen,
        };
        events::emit(&mut tx, &countered).await?;
        let body = to_json(&OfferView::from_row(&row, now))?;
        idempotency::finish(tx, user.id, key.as_deref(), StatusCode::CREATED, &body).await?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// `POST /offers/{id}/accept`: the party that did not make the offer accepts it → a trade.
/// For an exclusive mode the listing becomes sold and its other open offers close.
pub async fn accept(
    pool: &PgPool,
    user: &CurrentUser,
    offer_id: Uuid,
    key: Option<String>,
) -> Result<Replayable> {
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        let fp = idempotency::fingerprint(&format!("accept:{offer_id}"), &());
        let mut tx = match idempotency::begin(&pool, user.id, key.as_deref(), &fp).await? {
            Claim::Fresh(tx) => tx,
            Claim::Replay(s, b) => return Ok((s, b)),
        };
        let (offer, listing, side) = lock_offer(&mut tx, offer_id, org).await?;
        if offer.made_by == side {
            return Err(Error::Forbidden("offer_wrong_party"));
        }
        guards::require_active_org(&mut tx, org).await?;
        let counterparty = if org == offer.buyer_org_id {
            listing.organization_id
        } else {
            offer.buyer_org_id
        };
        guards::require_unrestricted_counterparty(&mut tx, counterparty).await?;
        let now = Utc::now();
        require_open(&offer, now)?;
        require_listed(&listing)?;
        let mode = TransactionMode::parse(&offer.transaction_mode)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("offer with an unknown mode")))?;

        let sale = Sale {
            buyer_org: offer.buyer_org_id,
            price_fen: offer.amount_fen,
            mode,
            source: "offer",
            offer_id: Some(offer.id),
            now,
        };
        let trade = make_trade(&mut tx, &listing, sale).await?;
        db::trading::set_offer_status(&mut tx, offer.id, "accepted", now).await?;
        if mode.is_exclusive() {
            let closed = db::trading::close_open_offers(&mut tx, listing.id, now).await?;
            let closed = Event::OffersClosed {
                listing_id: listing.id,
                listing_title: listing.title.clone(),
                buyers: closed
                    .into_iter()
                    .filter(|o| *o != offer.buyer_org_id)
                    .collect(),
                why: OffersClosedBecause::Sold,
            };
            events::emit(&mut tx, &closed).await?;
        }
        let body = to_json(&TradeCreated { trade })?;
        idempotency::finish(tx, user.id, key.as_deref(), StatusCode::CREATED, &body).await?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// A withdrawn listing's open offers close; each buyer that had one is told (in the caller's
/// transaction, which holds the listing's lock).
pub async fn close_offers_of_withdrawn(
    conn: &mut PgConnection,
    listing_id: Uuid,
    title: &str,
) -> Result<()> {
    let buyers = db::trading::close_open_offers(conn, listing_id, Utc::now()).await?;
    let closed = Event::OffersClosed {
        listing_id,
        listing_title: title.to_string(),
        buyers,
        why: OffersClosedBecause::Withdrawn,
    };
    events::emit(conn, &closed).await?;
    Ok(())
}

/// `POST /offers/{id}/reject` (the party that did not make it) or `/withdraw` (its maker).
pub async fn decline(
    pool: &PgPool,
    user: &CurrentUser,
    offer_id: Uuid,
    withdraw: bool,
) -> Result<OfferView> {
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        let mut tx = pool.begin().await?;
        let (offer, listing, side) = lock_offer(&mut tx, offer_id, org).await?;
        let maker = offer.made_by == side;
        if maker != withdraw {
            return Err(Error::Forbidden("offer_wrong_party"));
        }
        let now = Utc::now();
        require_open(&offer, now)?;
        let status = if withdraw { "withdrawn" } else { "rejected" };
        db::trading::set_offer_status(&mut tx, offer.id, status, now).await?;
        let declined = Event::OfferDeclined {
            offer_id: offer.id,
            thread_id: offer.thread_id,
            listing_id: offer.listing_id,
            listing_title: listing.title.clone(),
            to: other_org(&offer, side),
            amount_fen: offer.amount_fen,
            withdrawn: withdraw,
        };
        events::emit(&mut tx, &declined).await?;
        let row = db::trading::offer(&mut tx, offer.id)
            .await?
            .ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(OfferView::from_row(&row, now))
    })
    .await
}

/// One offer, to its parties only (404 to anyone else).
pub async fn get_offer(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<OfferView> {
    let org = user.organization_id.ok_or(Error::NotFound)?;
    let mut conn = pool.acquire().await?;
    let row = db::trading::offer(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    side_of(&row, org)?;
    Ok(OfferView::from_row(&row, Utc::now()))
}

/// The offers on a listing: every thread to the seller, its own to a buyer; 404 to anyone else.
pub async fn listing_offers(
    pool: &PgPool,
    user: &CurrentUser,
    listing_id: Uuid,
    page: PageQuery,
) -> Result<Page<OfferView>> {
    let org = user.organization_id.ok_or(Error::NotFound)?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let listing = visible(db::trading::listing(&mut conn, listing_id).await?, org)?;
    let buyer = (listing.organization_id != org).then_some(org);
    let (rows, total) = db::trading::listing_offers(
        &mut conn,
        listing_id,
        buyer,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    if buyer.is_some() && total == 0 {
        return Err(Error::NotFound);
    }
    let now = Utc::now();
    Ok(Page {
        items: rows.iter().map(|r| OfferView::from_row(r, now)).collect(),
        total,
        page,
        per_page,
    })
}

/// The caller's negotiation threads (as buyer or seller), each by its latest offer.
pub async fn my_threads(
    pool: &PgPool,
    user: &CurrentUser,
    page: PageQuery,
) -> Result<Page<OfferView>> {
    let org = user.require_org()?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) =
        db::trading::my_threads(&mut conn, org, per_page, (page - 1) * per_page).await?;
    let now = Utc::now();
    Ok(Page {
        items: rows.iter().map(|r| OfferView::from_row(r, now)).collect(),
        total,
        page,
        per_page,
    })
}

/// A whole negotiation thread, as one party sees it.
#[derive(Debug, Clone)]
pub struct Thread {
    pub thread_id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub listing_status: String,
    pub buyer_name: String,
    pub seller_name: String,
    /// `buyer` | `seller`
    pub my_side: &'static str,
    /// Oldest first.
    pub offers: Vec<OfferView>,
}

impl Thread {
    /// The open offer, if any (at most one per thread).
    pub fn open_offer(&self) -> Option<&OfferView> {
        self.offers.iter().rev().find(|o| o.is_open())
    }
}

pub async fn thread(pool: &PgPool, user: &CurrentUser, thread_id: Uuid) -> Result<Thread> {
    let org = user.organization_id.ok_or(Error::NotFound)?;
    let mut conn = pool.acquire().await?;
    let rows = db::trading::thread(&mut conn, thread_id).await?;
    let first = rows.first().ok_or(Error::NotFound)?;
    let side = side_of(first, org)?;
    let listing = db::trading::listing(&mut conn, first.listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    let now = Utc::now();
    Ok(Thread {
        thread_id,
        listing_id: first.listing_id,
        listing_title: first.listing_title.clone(),
        listing_status: listing.status,
        buyer_name: first.buyer_name.clone(),
        seller_name: first.seller_name.clone(),
        my_side: side,
        offers: rows.iter().map(|r| OfferView::from_row(r, now)).collect(),
    })
}

// ---------------------------------------------------------------- purchases

/// `POST /listings/{id}/buy`: buys a fixed-price listing at its price. The listing row is locked,
/// so of many buyers of an exclusive listing exactly one gets the trade (the unique index
/// `trades_one_exclusive` is the backstop); a non-exclusive licence sells to many.
pub async fn buy(
    pool: &PgPool,
    user: &CurrentUser,
    listing_id: Uuid,
    input: BuyInput,
    key: Option<String>,
) -> Result<Replayable> {
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        let fp = idempotency::fingerprint(&format!("buy:{listing_id}"), &input);
        let mut tx = match idempotency::begin(&pool, user.id, key.as_deref(), &fp).await? {
            Claim::Fresh(tx) => tx,
            Claim::Replay(s, b) => return Ok((s, b)),
        };
        let listing = visible(
            db::trading::listing_for_update(&mut tx, listing_id).await?,
            org,
        )?;
        not_own(&listing, org)?;
        guards::require_active_org(&mut tx, org).await?;
        let mut errs = FieldErrors::new();
        let mode = check_mode(&listing, &input.transaction_mode, &mut errs);
        let mode = mode.ok_or(Error::Validation(errs))?;
        require_pricing(&listing, PricingMode::Fixed)?;
        require_listed(&listing)?;
        let price = listing
            .price_fen
            .ok_or_else(|| Error::conflict("listing_not_available"))?;
        let now = Utc::now();
        let sale = Sale {
            buyer_org: org,
            price_fen: price,
            mode,
            source: "purchase",
            offer_id: None,
            now,
        };
        let trade = make_trade(&mut tx, &listing, sale).await?;
        if mode.is_exclusive() {
            db::trading::close_open_offers(&mut tx, listing.id, now).await?;
        }
        let body = to_json(&TradeCreated { trade })?;
        idempotency::finish(tx, user.id, key.as_deref(), StatusCode::CREATED, &body).await?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}

// ---------------------------------------------------------------- auctions

/// `POST /listings/{id}/bids`. One conditional UPDATE on the auction row decides. An organisation
/// that has bid before sends the whole bid as one statement (update + bid + live event); without an
/// `Idempotency-Key` that statement commits on its own, so the hot row is locked only for it. A
/// first bid also numbers the bidder (竞买人N), in a transaction serialised by the same row lock.
pub async fn place_bid(
    pool: &PgPool,
    user: &CurrentUser,
    listing_id: Uuid,
    input: BidInput,
    key: Option<String>,
) -> Result<Replayable> {
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        if key.is_none() {
            let mut conn = pool.acquire().await?;
            let (body, event) = bid_on(&mut conn, &user, org, listing_id, input.amount_fen).await?;
            events::after_commit(&pool, &event);
            return Ok((StatusCode::CREATED, body));
        }
        let fp = idempotency::fingerprint(&format!("bid:{listing_id}"), &input);
        let mut tx = match idempotency::begin(&pool, user.id, key.as_deref(), &fp).await? {
            Claim::Fresh(tx) => tx,
            Claim::Replay(s, b) => return Ok((s, b)),
        };
        let (body, event) = bid_on(&mut tx, &user, org, listing_id, input.amount_fen).await?;
        idempotency::finish(tx, user.id, key.as_deref(), StatusCode::CREATED, &body).await?;
        events::after_commit(&pool, &event);
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// The bid itself, on a connection that is either in autocommit mode or in the caller's
/// transaction. Returns the response and the event, whose live part the caller sends once the bid
/// is committed ([`events::after_commit`]).
///
/// A known bidder's bid commits in its one statement when there is no `Idempotency-Key`, so
/// [`events::emit`] runs after that commit: should a bid's fan-out ever write rows, that path must
/// take a transaction first.
async fn bid_on(
    conn: &mut PgConnection,
    user: &CurrentUser,
    org: Uuid,
    listing_id: Uuid,
    amount_fen: i64,
) -> Result<(Value, Event)> {
    let target = db::trading::bid_target(conn, listing_id, org)
        .await?
        .filter(|t| t.status != "draft" || t.organization_id == org)
        .ok_or(Error::NotFound)?;
    if target.organization_id == org {
        return Err(Error::Forbidden("own_listing"));
    }
    guards::require_active_org(conn, org).await?;
    let mut errs = FieldErrors::new();
    check_amount("amount_fen", amount_fen, &mut errs);
    errs.into_result()?;
    if target.pricing_mode != PricingMode::Auction.code() {
        return Err(Error::conflict("wrong_pricing_mode"));
    }
    if target.status != "listed" {
        let closed = db::trading::auction(conn, listing_id)
            .await?
            .is_none_or(|a| a.status == "closed");
        return Err(if closed {
            Error::conflict("auction_closed")
        } else {
            Error::conflict("listing_not_available")
        });
    }

    // The leading bid only ever rises: a bid already too low against the last committed state is
    // refused at once, without queueing for the auction's row lock behind the bid being taken.
    if let (Some(start), Some(inc)) = (target.start_price_fen, target.increment_fen) {
        let min = min_next_bid(start, inc, target.leading_bid_fen);
        let open = target.auction_status.as_deref() == Some("open")
            && target.ends_at.is_some_and(|e| e > Utc::now());
        if amount_fen < min && open {
            return Err(too_low(min));
        }
    }

    let bid_id = Uuid::now_v7();
    let taken = match target.bidder_no {
        Some(no) => db::trading::take_bid_known_bidder(
            conn, listing_id, amount_fen, org, bid_id, user.id, no,
        )
        .await?
        .map(|a| (a, no)),
        None => first_bid(conn, user, org, listing_id, amount_fen, bid_id).await?,
    };
    let Some((a, bidder_no)) = taken else {
        // Say why: closed (or past its end), or too low.
        let a = db::trading::auction(conn, listing_id)
            .await?
            .ok_or_else(|| Error::conflict("auction_closed"))?;
        if a.status != "open" || a.ends_at <= Utc::now() {
            return Err(Error::conflict("auction_closed"));
        }
        let min = min_next_bid(a.start_price_fen, a.increment_fen, a.leading_bid_fen);
        return Err(too_low(min));
    };
    let at = a.last_bid_at.unwrap_or_else(Utc::now);
    let bid = bid_view(bidder_no, amount_fen, at);
    let body = to_json(&BidPlaced {
        bid: BidOut {
            id: bid_id,
            amount_fen,
            bidder: bid.bidder.clone(),
            bidder_en: bid.bidder_en.clone(),
            at,
        },
        auction: AuctionView::from_row(&a, vec![bid], false),
    })?;
    let event = Event::BidPlaced {
        listing_id,
        bid_id,
        organization_id: org,
        amount_fen,
        bidder_no,
        auction: a,
    };
    events::emit(conn, &event).await?;
    Ok((body, event))
}

/// 409 `bid_too_low` with the minimum, in the message and as `min_bid_fen`.
fn too_low(min: i64) -> Error {
    Error::Conflict {
        code: "bid_too_low",
        args: vec![("min", format_yuan(min))],
        extra: Some(json!({ "min_bid_fen": min })),
    }
}

/// An organisation's first bid in an auction: take it, number the bidder, record the bid and the
/// event, in one transaction (a savepoint inside the caller's) serialised by the auction row lock.
async fn first_bid(
    conn: &mut PgConnection,
    user: &CurrentUser,
    org: Uuid,
    listing_id: Uuid,
    amount_fen: i64,
    bid_id: Uuid,
) -> Result<Option<(AuctionRow, i32)>> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let Some(a) = db::trading::take_bid(&mut tx, listing_id, amount_fen, org, bid_id).await? else {
        return Ok(None);
    };
    let bidder_no = db::trading::bidder_no(&mut tx, listing_id, org).await?;
    db::trading::set_sort_price(&mut tx, listing_id, amount_fen).await?;
    db::trading::insert_bid(
        &mut tx,
        db::trading::NewBid {
            id: bid_id,
            listing_id,
            org,
            user: user.id,
            amount_fen,
            bidder_no,
            at: a.last_bid_at.unwrap_or_else(Utc::now),
            seq: a.bid_count,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some((a, bidder_no)))
}

/// What the live page receives for an `auction_events` notification: `{listing_id, auction}` with
/// the public view (the new bid only, pseudonymous; never the reserve).
pub fn event_json(ev: &AuctionEvent) -> Value {
    let bids = match (ev.bidder_no, ev.row.leading_bid_fen, ev.row.last_bid_at) {
        (Some(no), Some(amount), Some(at)) => vec![bid_view(no, amount, at)],
        _ => vec![],
    };
    json!({ "listing_id": ev.listing_id, "auction": AuctionView::from_row(&ev.row, bids, false) })
}

/// The public state of a listing's auction with its latest bids (pseudonyms only). The seller
/// (`viewer_org`) also sees the reserve.
pub async fn auction_view(
    pool: &PgPool,
    viewer_org: Option<Uuid>,
    listing_id: Uuid,
) -> Result<AuctionView> {
    let mut conn = pool.acquire().await?;
    let listing = db::trading::listing(&mut conn, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    let owner = viewer_org == Some(listing.organization_id);
    if listing.status == "draft" && !owner {
        return Err(Error::NotFound);
    }
    let a = db::trading::auction(&mut conn, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    let bids = db::trading::recent_bids(&mut conn, listing_id, HISTORY)
        .await?
        .into_iter()
        .map(|b| bid_view(b.bidder_no, b.amount_fen, b.created_at))
        .collect();
    Ok(AuctionView::from_row(&a, bids, owner))
}

/// Closes every due auction (up to a batch per call), each in its own transaction, exactly once
/// however many processes run this: the row is taken `FOR UPDATE SKIP LOCKED` and must still be open.
/// Returns how many were closed. "Due" is decided by `clock` (the state's).
pub async fn close_due_auctions(pool: &PgPool, clock: &Clock) -> Result<usize> {
    let mut closed = 0;
    let mut failed: Vec<Uuid> = Vec::new();
    for _ in 0..50 {
        let mut tx = pool.begin().await?;
        let now = clock.now();
        let Some(a) = db::trading::lock_due_auction(&mut tx, &failed, now).await? else {
            break;
        };
        // One auction that cannot be closed must not hold up the others; it is retried next pass.
        match close_one(&mut tx, &a, now).await {
            Ok(()) => {
                tx.commit().await?;
                closed += 1;
            }
            Err(e) => {
                tracing::error!(listing_id = %a.listing_id, error = ?e, "closing an auction failed");
                failed.push(a.listing_id);
            }
        }
    }
    Ok(closed)
}

async fn close_one(conn: &mut PgConnection, a: &AuctionRow, now: DateTime<Utc>) -> Result<()> {
    let listing = db::trading::listing_for_update(conn, a.listing_id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("auction without listing")))?;
    let mut trade_id = None;
    if let (CloseOutcome::Sold { price_fen }, Some(winner)) = (
        close_outcome(a.leading_bid_fen, a.reserve_fen),
        a.leading_org_id,
    ) {
        let modes: Vec<TransactionMode> = listing
            .transaction_modes
            .iter()
            .filter_map(|m| TransactionMode::parse(m))
            .collect();
        let mode = modes
            .iter()
            .find(|m| m.is_exclusive())
            .or(modes.first())
            .copied();
        if let (Some(mode), true) = (mode, listing.status == "listed") {
            // A savepoint: if the listing was sold meanwhile, the auction closes unsold.
            let mut sp = sqlx::Connection::begin(&mut *conn).await?;
            let sale = Sale {
                buyer_org: winner,
                price_fen,
                mode,
                source: "auction",
                offer_id: None,
                now,
            };
            match make_trade(&mut sp, &listing, sale).await {
                Ok(t) => {
                    sp.commit().await?;
                    trade_id = Some(t.id);
                }
                Err(Error::Conflict { .. }) => sp.rollback().await?,
                Err(e) => return Err(e),
            }
        }
    }
    db::trading::close_auction(conn, a.listing_id, trade_id, now).await?;

    let mut closed = a.clone();
    closed.status = "closed".into();
    closed.trade_id = trade_id;
    let closed = Event::AuctionClosed {
        listing_title: listing.title.clone(),
        seller_organization_id: listing.organization_id,
        auction: closed,
    };
    events::emit(conn, &closed).await?;
    Ok(())
}

/// Periodic work of this area (run by `jobs::tick` every second, safe with several processes):
/// closes due auctions and marks lapsed offers expired.
pub async fn run_jobs(state: &AppState) -> anyhow::Result<()> {
    close_due_auctions(&state.pool, &state.clock)
        .await
        .map_err(|e| anyhow::anyhow!("closing auctions: {e:?}"))?;
    let mut conn = state.pool.acquire().await?;
    db::trading::expire_offers(&mut conn, state.clock.now()).await?;
    Ok(())
}

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the
/// organisations, accounts and listings exist. Must be idempotent: a couple of bids on one demo
/// auction and one open negotiation, only where the listings' demo data made them.
pub async fn seed_demo(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    type Buyer = (Uuid, Uuid);
    async fn buyer(conn: &mut PgConnection, email: &str) -> anyhow::Result<Option<Buyer>> {
        Ok(sqlx::query_as(
            "select u.id, u.organization_id from users u where lower(u.email) = $1 and u.organization_id is not null",
        )
        .bind(email)
        .fetch_optional(conn)
        .await?)
    }
    let auto = buyer(&mut conn, "buyer-auto@demo.techmarket.cn").await?;
    let chip = buyer(&mut conn, "buyer-chip@demo.techmarket.cn").await?;
    let energy = buyer(&mut conn, "buyer-energy@demo.techmarket.cn").await?;
    drop(conn);

    // Once only: a rerun (after an interrupted load) finds what the first run made.
    let (has_bids, has_offers): (bool, bool) = sqlx::query_as(
        "select exists(select 1 from bids b join listings l on l.id = b.listing_id \
                       where l.created_by in (select id from users where email like '%@demo.techmarket.cn')), \
                exists(select 1 from offers o join listings l on l.id = o.listing_id \
                       where l.created_by in (select id from users where email like '%@demo.techmarket.cn'))",
    )
    .fetch_one(pool)
    .await?;

    // Bids on the first open demo auction that has none yet.
    let auction: Option<(Uuid, Uuid)> = if has_bids {
        None
    } else {
        sqlx::query_as(
        "select a.listing_id, l.organization_id from auctions a join listings l on l.id = a.listing_id \
         where a.status = 'open' and a.bid_count = 0 and a.ends_at > now() + interval '1 hour' \
           and l.status = 'listed' and l.created_by in (select id from users where email like '%@demo.techmarket.cn') \
         order by l.listed_at limit 1",
        )
        .fetch_optional(pool)
        .await?
    };
    if let Some((listing_id, seller)) = auction {
        let mut step = 0;
        for (user, org) in [chip, energy, chip].into_iter().flatten() {
            if org == seller {
                continue;
            }
            let mut tx = pool.begin().await?;
            let a = db::trading::auction(&mut tx, listing_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo auction vanished"))?;
            let amount = min_next_bid(a.start_price_fen, a.increment_fen, a.leading_bid_fen)
                + step * a.increment_fen;
            step += 1;
            let bid_id = Uuid::now_v7();
            let Some(a) = db::trading::take_bid(&mut tx, listing_id, amount, org, bid_id).await?
            else {
                break;
            };
            let no = db::trading::bidder_no(&mut tx, listing_id, org).await?;
            db::trading::insert_bid(
                &mut tx,
                db::trading::NewBid {
                    id: bid_id,
                    listing_id,
                    org,
                    user,
                    amount_fen: amount,
                    bidder_no: no,
                    at: a.last_bid_at.unwrap_or_else(Utc::now),
                    seq: a.bid_count,
                },
            )
            .await?;
            tx.commit().await?;
        }
    }

    // One open negotiation on the first negotiable demo listing without offers.
    let negotiable: Option<(Uuid, Uuid, Vec<String>, Option<i64>)> = if has_offers {
        None
    } else {
        sqlx::query_as(
            "select l.id, l.organization_id, l.transaction_modes, l.price_fen from listings l \
         where l.pricing_mode = 'negotiable' and l.status = 'listed' \
           and l.created_by in (select id from users where email like '%@demo.techmarket.cn') \
           and not exists (select 1 from offers o where o.listing_id = l.id) \
         order by l.listed_at limit 1",
        )
        .fetch_optional(pool)
        .await?
    };
    if let (Some((listing_id, seller, modes, price)), Some((user, org))) = (negotiable, auto) {
        if org != seller {
            if let Some(mode) = modes.first() {
                let now = Utc::now();
                let amount = price.map_or(300_000_000, |p| p / 10 * 8).max(1);
                let mut tx = pool.begin().await?;
                db::trading::insert_offer(
                    &mut tx,
                    db::trading::NewOffer {
                        id: Uuid::now_v7(),
                        listing_id,
                        thread_id: Uuid::now_v7(),
                        buyer_org: org,
                        made_by: "buyer",
                        user,
                        amount_fen: amount,
                        mode,
                        message: Some("示例：我方希望就该成果的产业化合作进一步洽谈。"),
                        parent_id: None,
                        now,
                        expires_at: now + TimeDelta::days(OFFER_DAYS),
                    },
                )
                .await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::i18n::{self, Lang};

    #[test]
    fn every_error_of_this_area_is_translated() {
        // (Its notices are checked in `service::events::inbox`.)
        for code in [
            "own_listing",
            "listing_not_available",
            "listing_sold",
            "wrong_pricing_mode",
            "auction_closed",
            "bid_too_low",
            "offer_not_open",
            "offer_expired",
            "offer_wrong_party",
            "idempotency_key_reused",
            "idempotency_in_progress",
            "invalid_idempotency_key",
        ] {
            for lang in [Lang::Zh, Lang::En] {
                assert!(
                    i18n::catalog(lang).contains_key(&format!("error.{code}")),
                    "error.{code} ({})",
                    lang.code()
                );
            }
        }
        for lang in [Lang::Zh, Lang::En] {
            assert!(i18n::catalog(lang).contains_key("err.trading.mode_not_offered"));
        }
    }

    #[test]
    fn an_open_offer_past_its_expiry_shows_as_expired() {
        let now = Utc::now();
        let row = OfferRow {
            id: Uuid::now_v7(),
            listing_id: Uuid::now_v7(),
            thread_id: Uuid::now_v7(),
            buyer_org_id: Uuid::now_v7(),
            seller_org_id: Uuid::now_v7(),
            made_by: "buyer".into(),
            made_by_user: Uuid::now_v7(),
            amount_fen: 100,
            transaction_mode: "transfer".into(),
            message: None,
            status: "open".into(),
            parent_id: None,
            created_at: now - TimeDelta::days(15),
            expires_at: now - TimeDelta::days(1),
            decided_at: None,
            listing_title: "t".into(),
            buyer_name: "b".into(),
            seller_name: "s".into(),
        };
        assert_eq!(OfferView::from_row(&row, now).status, "expired");
        assert!(require_open(&row, now).is_err());
    }
}
