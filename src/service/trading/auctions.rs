//! English auctions with anti-sniping: bids (one conditional UPDATE on the auction row), the public
//! view and its live events, and the closing job.

use axum::http::StatusCode;
use chrono::{DateTime, Offset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::bid_batches::QueuedBid;
use crate::db::notifications::BidNotices;
use crate::db::trading::{AuctionEvent, AuctionRow};
use crate::domain::auction::{close_outcome, min_next_bid, pseudonym, reserve_met, CloseOutcome};
use crate::domain::codes::{PricingMode, TransactionMode};
use crate::domain::error::FieldErrors;
use crate::domain::money::format_yuan;
use crate::error::{Error, Result};
use crate::service::events::{self, Event};
use crate::service::idempotency::{self, Claim};
use crate::service::{guards, AppState, Clock};

use super::{
    check_amount, check_outlier, complete, make_trade, to_json, Replayable, Sale, HISTORY,
};

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
    /// The deposit (保证金) a bidder must have paid before bidding; null: none.
    pub deposit_fen: Option<i64>,
    /// When a `scheduled` auction opens, if set on the listing (`pricing.auction.starts_at`, an
    /// extension of API.md); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
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
            deposit_fen: a.deposit_fen,
            starts_at: a.starts_at,
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

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidInput {
    pub amount_fen: i64,
    /// The mode the bidder buys in, when the listing offers several: required with the
    /// organisation's first bid (422 `err.trading.mode_required`); a later bid may change it.
    #[serde(default)]
    pub transaction_mode: Option<String>,
    /// Needed for an amount above 10× the current price (else 422 `amount_outlier`).
    #[serde(default)]
    pub confirm_outlier: bool,
}

// ---------------------------------------------------------------- auctions

/// `POST /listings/{id}/bids`. The auction row decides, under its lock. Without an
/// `Idempotency-Key`, the bid of an organisation that has bid before (the common case: the same
/// bidders raising each other) is queued with the other bids on that auction in this process and
/// taken with them in one statement and one commit ([`super::BidQueues`], group commit); each bidder gets
/// its own answer, as if its bid had been alone. A first bid also numbers the bidder (竞买人N), in a
/// transaction serialised by the same row lock; a bid with a key runs in the key's transaction.
pub async fn place_bid(
    state: &AppState,
    user: &CurrentUser,
    listing_id: Uuid,
    input: BidInput,
    key: Option<String>,
) -> Result<Replayable> {
    let (pool, queues, user) = (state.pool.clone(), state.bids.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        if key.is_none() {
            let mut conn = pool.acquire().await?;
            let bid = check_bid(&mut conn, org, listing_id, &input).await?;
            let (body, event) = match bid.queued(org, user.id) {
                Ok((queued, bid)) => {
                    // The connection goes back before the wait: the flush needs one.
                    drop(conn);
                    let taken = queues.take(&pool, listing_id, queued).await?;
                    if !taken.accepted {
                        return Err(refused(&taken.auction, taken.considered_at));
                    }
                    bid_answer(listing_id, org, &bid, taken.auction)?
                }
                Err(bid) => take_one(&mut conn, &user, org, listing_id, *bid).await?,
            };
            events::after_commit(&pool, &event);
            return Ok((StatusCode::CREATED, body));
        }
        let fp = idempotency::fingerprint(&format!("bid:{listing_id}"), &input);
        let mut tx = match idempotency::begin(&pool, user.id, key.as_deref(), &fp).await? {
            Claim::Fresh(tx) => tx,
            Claim::Replay(s, b) => return Ok((s, b)),
        };
        let bid = check_bid(&mut tx, org, listing_id, &input).await?;
        let (body, event) = take_one(&mut tx, &user, org, listing_id, bid).await?;
        idempotency::finish(tx, user.id, key.as_deref(), StatusCode::CREATED, &body).await?;
        events::after_commit(&pool, &event);
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// A bid that passed every check that needs no lock, ready to be taken.
struct CheckedBid {
    target: db::trading::BidTarget,
    mode: Option<TransactionMode>,
    amount_fen: i64,
    bid_id: Uuid,
    notices: BidNotices,
}

/// What answering a taken bid needs of it.
#[derive(Clone, Copy)]
struct BidFacts {
    amount_fen: i64,
    bid_id: Uuid,
    bidder_no: i32,
}

impl CheckedBid {
    /// The bid for the auction's queue ([`super::BidQueues`]): that of a known bidder that does not
    /// change its mode. Any other (a first bid numbers the bidder; a new mode is written) is given
    /// back, to be taken on its own ([`take_one`]).
    fn queued(
        self,
        org: Uuid,
        user: Uuid,
    ) -> std::result::Result<(QueuedBid, BidFacts), Box<Self>> {
        let same_mode = self
            .mode
            .is_none_or(|m| self.target.bidder_mode.as_deref() == Some(m.code()));
        let Some(bidder_no) = self.target.bidder_no.filter(|_| same_mode) else {
            return Err(Box::new(self));
        };
        let facts = BidFacts {
            amount_fen: self.amount_fen,
            bid_id: self.bid_id,
            bidder_no,
        };
        let queued = QueuedBid {
            amount_fen: self.amount_fen,
            org,
            bid_id: self.bid_id,
            user,
            bidder_no,
            notices: self.notices,
        };
        Ok((queued, facts))
    }
}

/// The checks of a bid that need no lock, on a connection that is either in autocommit mode or in
/// the caller's transaction: the listing and its auction as last committed, the bidder's
/// organisation (one statement), the amount, the mode, and a bid already too low.
async fn check_bid(
    conn: &mut PgConnection,
    org: Uuid,
    listing_id: Uuid,
    input: &BidInput,
) -> Result<CheckedBid> {
    let amount_fen = input.amount_fen;
    let target = db::trading::bid_target(conn, listing_id, org)
        .await?
        .filter(|t| t.status != "draft" || t.organization_id == org)
        .ok_or(Error::NotFound)?;
    if target.organization_id == org {
        return Err(Error::Forbidden("own_listing"));
    }
    guards::active_org(target.org_standing())?;
    if target.deposit_fen.is_some() && !target.has_deposit {
        return Err(Error::Forbidden("deposit_required"));
    }
    let mut errs = FieldErrors::new();
    check_amount("amount_fen", amount_fen, &mut errs);
    let mode = bid_mode(&target, input.transaction_mode.as_deref(), &mut errs);
    errs.into_result()?;
    check_outlier(
        amount_fen,
        target.leading_bid_fen.or(target.start_price_fen),
        input.confirm_outlier,
    )?;
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

    // An auction that opens later refuses bids until then, saying when (nothing is written).
    if target.auction_status.as_deref() == Some("scheduled") {
        return Err(not_started(target.starts_at));
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

    // The organisation this bid takes the lead from is told by the bid's own statement.
    // So is the seller (one notice per auction, renewed by each bid).
    let notices = events::waiting::bid_notices(
        listing_id,
        &target.title,
        amount_fen,
        target.organization_id,
    );
    Ok(CheckedBid {
        target,
        mode,
        amount_fen,
        bid_id: Uuid::now_v7(),
        notices,
    })
}

/// Takes one bid on its own (a first bid, a change of mode, a bid with an `Idempotency-Key`).
/// Returns the response and the event, whose live part the caller sends once the bid is
/// committed ([`events::after_commit`]).
///
/// A known bidder's bid commits in its one statement when there is no `Idempotency-Key`, so
/// [`events::emit`] runs after that commit: should a bid's fan-out ever write rows, that path
/// (and the queued one, which does not call it) must take a transaction first. The rows a bid's
/// fan-out writes, the outbid notice and the seller's bid notice, are therefore written by the
/// bid's statement itself (words from [`events::waiting::bid_notices`]).
async fn take_one(
    conn: &mut PgConnection,
    user: &CurrentUser,
    org: Uuid,
    listing_id: Uuid,
    bid: CheckedBid,
) -> Result<(Value, Event)> {
    let CheckedBid {
        target,
        mode,
        amount_fen,
        bid_id,
        notices,
    } = bid;
    let taken = match target.bidder_no {
        Some(no) => db::trading::take_bid_known_bidder(
            conn, listing_id, amount_fen, org, bid_id, user.id, no, &notices,
        )
        .await?
        .map(|a| (a, no)),
        None => {
            let mode = mode.map(|m| m.code()).unwrap_or_default();
            let first = FirstBid {
                listing_id,
                amount_fen,
                bid_id,
                mode,
                notices: &notices,
            };
            first_bid(conn, user, org, first).await?
        }
    };
    let Some((a, bidder_no)) = taken else {
        // Say why: closed (or past its end), or too low.
        let a = db::trading::auction(conn, listing_id)
            .await?
            .ok_or_else(|| Error::conflict("auction_closed"))?;
        return Err(refused(&a, Utc::now()));
    };
    if let (Some(_), Some(m)) = (target.bidder_no, mode) {
        if target.bidder_mode.as_deref() != Some(m.code()) {
            db::trading::set_bidder_mode(conn, listing_id, org, m.code()).await?;
        }
    }
    let facts = BidFacts {
        amount_fen,
        bid_id,
        bidder_no,
    };
    let (body, event) = bid_answer(listing_id, org, &facts, a)?;
    events::emit(conn, &event).await?;
    Ok((body, event))
}

/// Why a bid the auction row refused (`a` as it stood when the bid was considered, `at`) was
/// refused: 409 `auction_closed` (closed, or past its end), else `bid_too_low` with the minimum.
fn refused(a: &AuctionRow, at: DateTime<Utc>) -> Error {
    if a.status == "scheduled" {
        return not_started(a.starts_at);
    }
    if a.status != "open" || a.ends_at <= at {
        return Error::conflict("auction_closed");
    }
    too_low(min_next_bid(
        a.start_price_fen,
        a.increment_fen,
        a.leading_bid_fen,
    ))
}

/// The answer to a taken bid (`a`, the auction right after it) and its event.
fn bid_answer(
    listing_id: Uuid,
    org: Uuid,
    bid: &BidFacts,
    a: AuctionRow,
) -> Result<(Value, Event)> {
    let BidFacts {
        amount_fen,
        bid_id,
        bidder_no,
    } = *bid;
    let at = a.last_bid_at.unwrap_or_else(Utc::now);
    let view = bid_view(bidder_no, amount_fen, at);
    let body = to_json(&BidPlaced {
        bid: BidOut {
            id: bid_id,
            amount_fen,
            bidder: view.bidder.clone(),
            bidder_en: view.bidder_en.clone(),
            at,
        },
        auction: AuctionView::from_row(&a, vec![view], false),
    })?;
    let event = Event::BidPlaced {
        listing_id,
        bid_id,
        organization_id: org,
        amount_fen,
        bidder_no,
        auction: a,
    };
    Ok((body, event))
}

/// The mode a bid is for: the listing's only mode, or the one sent (required with the
/// organisation's first bid when there are several; a known bidder keeps its own when it sends none).
fn bid_mode(
    target: &db::trading::BidTarget,
    sent: Option<&str>,
    errs: &mut FieldErrors,
) -> Option<TransactionMode> {
    let sent = sent.map(str::trim).filter(|m| !m.is_empty());
    let offered = |m: &TransactionMode| target.transaction_modes.iter().any(|x| x == m.code());
    match sent {
        Some(code) => match TransactionMode::parse(code) {
            None => {
                errs.push(
                    "transaction_mode",
                    "err.code.unknown",
                    vec![("value", code.chars().take(40).collect())],
                );
                None
            }
            Some(m) if !offered(&m) => {
                errs.push("transaction_mode", "err.trading.mode_not_offered", vec![]);
                None
            }
            Some(m) => Some(m),
        },
        None if target.transaction_modes.len() == 1 => {
            TransactionMode::parse(&target.transaction_modes[0])
        }
        None if target.bidder_no.is_some() => None,
        None => {
            errs.push("transaction_mode", "err.trading.mode_required", vec![]);
            None
        }
    }
}

/// 409 `bid_too_low` with the minimum, in the message and as `min_bid_fen`.
fn too_low(min: i64) -> Error {
    Error::Conflict {
        code: "bid_too_low",
        args: vec![("min", format_yuan(min))],
        extra: Some(json!({ "min_bid_fen": min })),
    }
}

/// 409 `auction_closed` for an auction that has not opened yet: its message says when it opens
/// (Beijing time), and `opens_at` carries the moment.
fn not_started(starts_at: Option<DateTime<Utc>>) -> Error {
    let Some(at) = starts_at else {
        // Scheduled without a start: its listing is not approved yet.
        return Error::conflict("auction_closed");
    };
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix());
    Error::Conflict {
        code: "auction_closed",
        args: vec![
            ("text", "auction_not_started".to_string()),
            (
                "opens_at",
                at.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string(),
            ),
        ],
        extra: Some(json!({ "opens_at": at })),
    }
}

/// An organisation's first bid.
struct FirstBid<'a> {
    listing_id: Uuid,
    amount_fen: i64,
    bid_id: Uuid,
    mode: &'a str,
    notices: &'a BidNotices,
}

/// An organisation's first bid in an auction: take it (telling whom it outbid), number the
/// bidder, record the bid and the event, in one transaction (a savepoint inside the caller's)
/// serialised by the auction row lock.
async fn first_bid(
    conn: &mut PgConnection,
    user: &CurrentUser,
    org: Uuid,
    bid: FirstBid<'_>,
) -> Result<Option<(AuctionRow, i32)>> {
    let FirstBid {
        listing_id,
        amount_fen,
        bid_id,
        mode,
        notices,
    } = bid;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let Some(a) =
        db::trading::take_bid(&mut tx, listing_id, amount_fen, org, bid_id, notices).await?
    else {
        return Ok(None);
    };
    let bidder_no = db::trading::bidder_no(&mut tx, listing_id, org, mode).await?;
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

/// Opens the auctions whose start (`starts_at`) has come at `clock`'s now, exactly once however
/// many processes run this (one conditional `UPDATE`), and tells their open pages (`AuctionOpened`:
/// the live event, sent at the commit). Returns how many opened.
pub async fn open_due_auctions(pool: &PgPool, clock: &Clock) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let opened = db::auction_starts::open_due(&mut tx, clock.now()).await?;
    for a in &opened {
        tracing::info!(listing_id = %a.listing_id, "auction opened at its start");
        events::emit(&mut tx, &Event::AuctionOpened { auction: a.clone() }).await?;
    }
    tx.commit().await?;
    Ok(opened.len())
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
    if closed > 0 {
        // Deposits refunded or applied at the close: chain their postings now.
        if let Err(e) = crate::service::settlement::flush(pool).await {
            tracing::warn!(error = ?e, "ledger flush failed; postings stay pending");
        }
    }
    Ok(closed)
}

async fn close_one(conn: &mut PgConnection, a: &AuctionRow, now: DateTime<Utc>) -> Result<()> {
    let listing = db::trading::listing_for_update(conn, a.listing_id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("auction without listing")))?;
    // Bids of an organisation restricted before the close are void from the restriction's moment
    // (also a bid that slipped in while the restriction was being set): the highest valid bid
    // decides.
    let voided = db::trading::void_restricted_bids(conn, a.listing_id, now).await?;
    let recomputed;
    let a = if voided.is_empty() {
        a
    } else {
        recomputed = db::trading::recompute_leading(conn, a.listing_id).await?;
        &recomputed
    };
    for org in voided {
        let void = Event::BidsVoided {
            listing_title: listing.title.clone(),
            organization_id: org,
            auction: a.clone(),
        };
        events::emit(conn, &void).await?;
    }
    let mut trade_id = None;
    let mut payment_due_at = None;
    if let (CloseOutcome::Sold { price_fen }, Some(winner)) = (
        close_outcome(a.leading_bid_fen, a.reserve_fen),
        a.leading_org_id,
    ) {
        let modes: Vec<TransactionMode> = listing
            .transaction_modes
            .iter()
            .filter_map(|m| TransactionMode::parse(m))
            .collect();
        // The winner's choice; bidders from before modes were chosen get the listing's first
        // exclusive mode, as they always did.
        let chosen = db::trading::bidder_mode(conn, a.listing_id, winner)
            .await?
            .and_then(|m| TransactionMode::parse(&m))
            .filter(|m| modes.contains(m));
        let mode = chosen
            .or_else(|| modes.iter().find(|m| m.is_exclusive()).copied())
            .or(modes.first().copied());
        // A pledged listing whose lender has not consented to the mode closes unsold, and the
        // seller and the winner are told why.
        let blocked = match mode {
            Some(m) => crate::service::pledges::blocking(conn, listing.id, m).await?,
            None => None,
        };
        if let Some(p) = &blocked {
            let why = Event::Pledge(events::PledgeFacts {
                request_id: p.id,
                listing_id: listing.id,
                listing_title: listing.title.clone(),
                owner_organization_id: p.owner_organization_id,
                lender_organization_id: p.lender_organization_id,
                lender_name: p.lender_name.clone(),
                amount_fen: p.amount_fen,
                step: events::PledgeStep::AuctionBlocked { winner },
            });
            events::emit(conn, &why).await?;
        }
        if let (Some(mode), true, true) = (mode, listing.status == "listed", blocked.is_none()) {
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
                    payment_due_at = Some(t.payment_due_at);
                }
                Err(Error::Conflict { .. }) => sp.rollback().await?,
                Err(e) => return Err(e),
            }
        }
    }
    db::trading::close_auction(conn, a.listing_id, trade_id, now).await?;
    let sold = trade_id.zip(a.leading_org_id).map(|(t, w)| (w, t));
    let deposits = super::deposits::settle_at_close(conn, a.listing_id, sold, now).await?;

    let mut closed = a.clone();
    closed.status = "closed".into();
    closed.trade_id = trade_id;
    let closed = Event::AuctionClosed {
        listing_title: listing.title.clone(),
        seller_organization_id: listing.organization_id,
        auction: closed,
        payment_due_at,
        refunded: deposits.refunded,
        applied_fen: deposits.applied_fen,
    };
    events::emit(conn, &closed).await?;
    Ok(())
}

/// Locks the open auctions in which `org` has valid bids (in a fixed order, before the caller
/// locks the organisation: the order bids and the close take them) and returns those still open
/// under the lock (one the close job got first is closed and left alone).
pub async fn lock_auctions_bid_on_by(conn: &mut PgConnection, org: Uuid) -> Result<Vec<Uuid>> {
    let ids = db::trading::open_auctions_bid_on_by(conn, org).await?;
    Ok(db::trading::lock_open_auctions(conn, &ids).await?)
}

/// A credit restriction set at `at`: `org`'s bids in those auctions are void from then on, the
/// highest remaining valid bid leads, and the organisation is told why. In the restriction's
/// transaction, with the auctions locked ([`lock_auctions_bid_on_by`]).
pub async fn void_bids_of_restricted(
    conn: &mut PgConnection,
    auctions: &[Uuid],
    org: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    for &listing_id in auctions {
        if db::trading::void_bids_of(conn, listing_id, org, at).await? == 0 {
            continue;
        }
        let a = db::trading::recompute_leading(conn, listing_id).await?;
        let title = db::trading::listing(conn, listing_id)
            .await?
            .map(|l| l.title)
            .unwrap_or_default();
        let void = Event::BidsVoided {
            listing_title: title,
            organization_id: org,
            auction: a,
        };
        events::emit(conn, &void).await?;
    }
    Ok(())
}
