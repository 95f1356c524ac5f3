//! What a money form shows before it is sent: the amount against its reference price (and whether
//! it is an outlier that needs `confirm_outlier`), the fees of the schedule in force and the totals.
//! Nothing is written; the use case itself decides again when the confirmed form arrives.

use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::domain::amounts;
use crate::error::{Error, Result};

use super::{side_of, visible};

/// What is about to be sent.
#[derive(Debug, Clone, Copy)]
pub enum PreviewOf {
    /// An offer on a negotiable listing (`amount` typed).
    Offer { listing_id: Uuid, amount_fen: i64 },
    /// A bid (`amount` typed).
    Bid { listing_id: Uuid, amount_fen: i64 },
    /// A counter-offer to an open offer (`amount` typed).
    Counter { offer_id: Uuid, amount_fen: i64 },
    /// Accepting an open offer at its amount.
    Accept { offer_id: Uuid },
    /// Buying a fixed-price listing at its price.
    Buy { listing_id: Uuid },
}

/// The figures of a confirmation.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub listing_id: Uuid,
    pub listing_title: String,
    /// The amount the form sends (or the price of the deal).
    pub amount_fen: i64,
    /// The price it is compared with: the current auction price, the listed price or the offer answered.
    pub reference_fen: Option<i64>,
    /// `12.5` when the amount is more than 10× the reference (then `confirm_outlier` is needed).
    pub outlier_factor: Option<String>,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    /// The caller is the buyer (offers, bids, purchases, a buyer's counter or accept).
    pub caller_is_buyer: bool,
    /// The transaction mode of an offer being accepted or countered.
    pub mode: Option<String>,
}

impl Preview {
    /// What the buyer pays at this amount: price + buyer fee.
    pub fn buyer_total_fen(&self) -> i64 {
        self.amount_fen.saturating_add(self.buyer_fee_fen)
    }
    /// What the seller receives at this amount: price − seller fee.
    pub fn seller_net_fen(&self) -> i64 {
        self.amount_fen.saturating_sub(self.seller_fee_fen)
    }
}

/// The figures for a confirmation page; 404 for what the caller may not see.
pub async fn preview(pool: &PgPool, user: &CurrentUser, of: PreviewOf) -> Result<Preview> {
    let org = user.require_org()?;
    let mut conn = pool.acquire().await?;
    let mut p = Preview::default();
    let on_listing = match of {
        PreviewOf::Offer {
            listing_id,
            amount_fen,
        } => Some((listing_id, Some(amount_fen), false)),
        PreviewOf::Bid {
            listing_id,
            amount_fen,
        } => Some((listing_id, Some(amount_fen), true)),
        PreviewOf::Buy { listing_id } => Some((listing_id, None, false)),
        PreviewOf::Counter { .. } | PreviewOf::Accept { .. } => None,
    };
    match of {
        PreviewOf::Offer { .. } | PreviewOf::Bid { .. } | PreviewOf::Buy { .. } => {
            let Some((listing_id, typed, bid)) = on_listing else {
                return Err(Error::NotFound);
            };
            let listing = visible(db::trading::listing(&mut conn, listing_id).await?, org)?;
            p.listing_id = listing.id;
            p.listing_title = listing.title.clone();
            p.caller_is_buyer = true;
            p.reference_fen = listing.price_fen;
            p.amount_fen = typed.or(listing.price_fen).unwrap_or_default();
            if bid {
                if let Some(a) = db::trading::auction(&mut conn, listing_id).await? {
                    p.reference_fen = Some(a.leading_bid_fen.unwrap_or(a.start_price_fen));
                }
            }
        }
        PreviewOf::Counter { offer_id, .. } | PreviewOf::Accept { offer_id } => {
            let offer = db::trading::offer(&mut conn, offer_id)
                .await?
                .ok_or(Error::NotFound)?;
            let side = side_of(&offer, org)?;
            p.listing_id = offer.listing_id;
            p.listing_title = offer.listing_title.clone();
            p.caller_is_buyer = side == "buyer";
            p.mode = Some(offer.transaction_mode.clone());
            p.reference_fen = Some(offer.amount_fen);
            p.amount_fen = match of {
                PreviewOf::Counter { amount_fen, .. } => amount_fen,
                _ => offer.amount_fen,
            };
        }
    }
    if !matches!(of, PreviewOf::Buy { .. } | PreviewOf::Accept { .. }) {
        p.outlier_factor =
            amounts::outlier_tenths(p.amount_fen, p.reference_fen).map(amounts::format_tenths);
    }
    if p.amount_fen > 0 {
        if let Some(s) = db::fees::in_force(&mut conn, Utc::now()).await? {
            let q = s.schedule().quote(p.amount_fen);
            p.buyer_fee_fen = q.buyer_fee_fen;
            p.seller_fee_fen = q.seller_fee_fen;
        }
    }
    Ok(p)
}
