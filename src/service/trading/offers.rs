//! Offers and counter-offers in negotiation threads: make, counter, accept (→ a trade), reject,
//! withdraw; the threads as each party sees them.

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::trading::{ListingRow, OfferRow};
use crate::domain::codes::{PricingMode, TransactionMode};
use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, Event, OffersClosedBecause};
use crate::service::idempotency::{self, Claim};
use crate::service::{guards, Page, PageQuery};

use super::{
    check_amount, check_message, check_mode, check_outlier, complete, make_trade, not_own,
    require_listed, require_pricing, to_json, visible, Replayable, Sale, TradeCreated, OFFER_DAYS,
};

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

// ---------------------------------------------------------------- inputs

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfferInput {
    pub amount_fen: i64,
    pub transaction_mode: String,
    pub message: Option<String>,
    /// Needed for an amount above 10× the listing's price (else 422 `amount_outlier`).
    #[serde(default)]
    pub confirm_outlier: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CounterInput {
    pub amount_fen: i64,
    pub message: Option<String>,
    /// Needed for an amount above 10× the offer it answers (else 422 `amount_outlier`).
    #[serde(default)]
    pub confirm_outlier: bool,
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
        check_outlier(input.amount_fen, listing.price_fen, input.confirm_outlier)?;
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
pub(super) fn side_of(offer: &OfferRow, org: Uuid) -> Result<&'static str> {
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
        check_outlier(
            input.amount_fen,
            Some(offer.amount_fen),
            input.confirm_outlier,
        )?;
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
        // Both organisations' rows stay share locked until the trade commits: a restriction set
        // meanwhile waits for it, one set before is seen (lock order: offer, listing, organisations).
        let counterparty = if org == offer.buyer_org_id {
            listing.organization_id
        } else {
            offer.buyer_org_id
        };
        guards::require_active_org_locked(&mut tx, org).await?;
        guards::require_unrestricted_counterparty_locked(&mut tx, counterparty).await?;
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
        // The organisation traded; the audit log names the colleague who accepted.
        let after = serde_json::json!({ "organization_id": org, "trade_id": trade.id });
        audit(
            &mut tx,
            &user,
            "offer.accept",
            "offer",
            offer.id,
            None,
            Some(after),
        )
        .await?;
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
        let action = if withdraw {
            "offer.withdraw"
        } else {
            "offer.reject"
        };
        let after = serde_json::json!({ "organization_id": org, "status": status });
        audit(&mut tx, &user, action, "offer", offer.id, None, Some(after)).await?;
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
    /// The buyer organisation's cancellations of the last 90 days, for the seller (`None` for the
    /// buyer itself).
    pub buyer_cancellations_90d: Option<i64>,
    /// Oldest first.
    pub offers: Vec<OfferView>,
}

impl Thread {
    /// The open offer, if any (at most one per thread).
    pub fn open_offer(&self) -> Option<&OfferView> {
        self.offers.iter().rev().find(|o| o.is_open())
    }
}

/// The thread as the caller sees it; the seller also sees the buyer's cancellations up to `now`.
pub async fn thread(
    pool: &PgPool,
    user: &CurrentUser,
    thread_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Thread> {
    let org = user.organization_id.ok_or(Error::NotFound)?;
    let mut conn = pool.acquire().await?;
    let rows = db::trading::thread(&mut conn, thread_id).await?;
    let first = rows.first().ok_or(Error::NotFound)?;
    let side = side_of(first, org)?;
    let listing = db::trading::listing(&mut conn, first.listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    let buyer_cancellations_90d = if side == "seller" {
        Some(
            crate::service::settlement::cancellations_90d(&mut conn, first.buyer_org_id, now)
                .await?,
        )
    } else {
        None
    };
    Ok(Thread {
        thread_id,
        listing_id: first.listing_id,
        listing_title: first.listing_title.clone(),
        listing_status: listing.status,
        buyer_name: first.buyer_name.clone(),
        seller_name: first.seller_name.clone(),
        my_side: side,
        buyer_cancellations_90d,
        offers: rows.iter().map(|r| OfferView::from_row(r, now)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
