//! Offers, fixed-price purchases and auctions: every way of buying ends in one trade, created by
//! `service::trades::create` with the fees of the schedule in force.
//!
//! Locking order (never reversed, so no deadlocks): `auctions` → `listings` → `offers`. Bids lock only
//! their auction row (one conditional UPDATE, or one `take_bids` call for the bids a process queued
//! together: `bid_queue`); purchases and accepts lock the listing row; the closing
//! job locks the auction (skipping locked ones), then the listing through `trades::create`.
//!
//! The public functions that change state run their transaction in a spawned task, so it completes
//! even if the client goes away (PERFORMANCE-NOTES: sqlx and cancelled transactions).
//!
//! Rooms: `offers` (negotiation threads), `purchase` (fixed price), `auctions` (bids, live view,
//! closing), `bid_queue` (group commit of bids), `deposits` (auction deposits through the ledger), `seed` (demo data); what they share (checks, making the trade) is here.
//!
//! Live pages learn of bids through `pg_notify('auction_events')` (`service::events`), which every
//! server process listens to (`service::events::live`); the closing job runs every second in every
//! process and takes due auctions `FOR UPDATE SKIP LOCKED`, so each closes exactly once.
use std::future::Future;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::trading::ListingRow;
use crate::domain::amounts;
use crate::domain::codes::{PricingMode, TransactionMode};
use crate::domain::error::FieldErrors;
use crate::domain::money::{format_yuan, MAX_AMOUNT_FEN};
use crate::error::{Error, Result};
use crate::service::events::{self, Event};
use crate::service::settlement::{trade_view, TradeView};
use crate::service::trades::{self, NewTrade};
use crate::service::AppState;

/// English auctions: bids, the live view, closing.
mod auctions;
/// Group commit of bids: the bids waiting for their auction's next statement, per process.
mod bid_queue;
/// Auction deposits (保证金): recording, refund and application at the close, forfeiture.
mod deposits;
/// Offers, counter-offers, acceptance, rejection and withdrawal; negotiation threads.
mod offers;
/// What a money form shows before it is sent (confirmation pages).
mod preview;
/// Fixed-price purchases.
mod purchase;
/// Demo bids and one demo negotiation.
mod seed;

pub use auctions::*;
pub use bid_queue::BidQueues;
pub use deposits::*;
pub use offers::*;
pub use preview::*;
pub use purchase::*;
pub use seed::{seed_demo, seed_demo_deposit};

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

/// 422 `amount_outlier` (the factor and the reference in `fields.amount_fen`, and as
/// `factor`/`reference_fen`) for an amount above [`OUTLIER_FACTOR`] times `reference_fen`, unless the
/// caller confirmed it.
///
/// [`OUTLIER_FACTOR`]: crate::domain::amounts::OUTLIER_FACTOR
fn check_outlier(amount_fen: i64, reference_fen: Option<i64>, confirmed: bool) -> Result<()> {
    let Some(tenths) = amounts::outlier_tenths(amount_fen, reference_fen) else {
        return Ok(());
    };
    if confirmed {
        return Ok(());
    }
    let reference = reference_fen.unwrap_or_default();
    let factor = amounts::format_tenths(tenths);
    let mut fields = FieldErrors::new();
    fields.push(
        "amount_fen",
        "err.trading.outlier",
        vec![
            ("factor", factor.clone()),
            ("reference", format_yuan(reference)),
        ],
    );
    Err(Error::Unprocessable {
        code: "amount_outlier",
        fields,
        extra: Some(serde_json::json!({"factor": factor, "reference_fen": reference})),
    })
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
    // The pledge lock (民法典 art. 444): the caller holds the listing's row lock, which every
    // change of a pledge's status takes first.
    crate::service::pledges::check_trade(conn, listing.id, mode).await?;
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

/// Periodic work of this area (run by `jobs::tick` every second, safe with several processes):
/// closes due auctions and marks lapsed offers expired.
pub async fn run_jobs(state: &AppState) -> anyhow::Result<()> {
    open_due_auctions(&state.pool, &state.clock)
        .await
        .map_err(|e| anyhow::anyhow!("opening auctions: {e:?}"))?;
    close_due_auctions(&state.pool, &state.clock)
        .await
        .map_err(|e| anyhow::anyhow!("closing auctions: {e:?}"))?;
    let mut conn = state.pool.acquire().await?;
    db::trading::expire_offers(&mut conn, state.clock.now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {

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
            "auction_not_started",
            "bid_too_low",
            "offer_not_open",
            "offer_expired",
            "offer_wrong_party",
            "idempotency_key_reused",
            "idempotency_in_progress",
            "invalid_idempotency_key",
            "amount_outlier",
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
            assert!(i18n::catalog(lang).contains_key("err.trading.outlier"));
            assert!(i18n::catalog(lang).contains_key("err.trading.mode_required"));
        }
    }
}
