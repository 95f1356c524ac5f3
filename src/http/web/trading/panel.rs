//! The trading panel of the listing page: the offer form, the buy button or the live auction, for
//! the current viewer.
use uuid::Uuid;

use crate::db;
use crate::domain::money::FEN_PER_YUAN;
use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::state::AppState;
use crate::i18n;
use crate::service::trading::{self, AuctionView};

use super::error_text;

/// What the listing page (`/listings/{id}`, owned by the listings pages) shows about trading:
/// the offer form, the buy button, or the live auction. Rendered by `templates/trading/_listing_panel.html`,
/// which the listing page includes with `panel` in scope.
#[derive(Debug, Clone, Default)]
pub struct ListingPanel {
    pub listing_id: String,
    /// `negotiable` | `fixed` | `auction` ("" when the listing is unknown).
    pub pricing_mode: String,
    /// Open for trading (`listed`).
    pub listed: bool,
    pub sold: bool,
    pub signed_in: bool,
    pub is_owner: bool,
    /// Why the viewer may not trade, already translated ("" when they may).
    pub guard: String,
    /// The listing's transaction modes (codes).
    pub modes: Vec<String>,
    /// Fixed price, or the indicative price of a negotiable listing.
    pub price_fen: Option<i64>,
    /// The buyer's transaction service fee at that price (fixed) or at the next minimum bid (auction).
    pub buyer_fee_fen: Option<i64>,
    pub auction: Option<AuctionView>,
    /// The next minimum bid in yuan, to prefill the bid form.
    pub min_next_yuan: String,
    /// RFC 3339 end of the auction, for the countdown script.
    pub ends_at_iso: String,
    /// The viewer's negotiation thread on this listing.
    pub my_thread: Option<String>,
    /// The viewer's organisation leads the auction.
    pub you_lead: bool,
    /// The transaction mode the viewer's organisation bids for ("" before its first bid).
    pub my_mode: String,
    /// What a purchase at the listed price costs the buyer (price + buyer fee), for the confirm box.
    pub buy_total_fen: Option<i64>,
    /// The viewer's pseudonym in this auction (Chinese form, as the live events carry it), if it
    /// has bid: the live panel compares it with the newest bid to say "you lead" or "outbid".
    pub my_bidder: String,
    /// The viewer is an exchange administrator (links to the deposits page).
    pub is_admin: bool,
    /// The deposit the auction requires, if any.
    pub deposit_fen: Option<i64>,
    /// The viewer's organisation's deposit state for it: `held`, `refunded`, `applied`,
    /// `forfeited`, or "" when none is recorded.
    pub my_deposit: String,
    /// A message after a form was sent (`?trading=…` / `?trading_error=…`), translated.
    pub notice: String,
    pub error: String,
    /// A fresh `Idempotency-Key` for the forms, so a double submit has one effect.
    pub form_key: String,
}

impl ListingPanel {
    /// What buying at the listed price costs (0 when not for sale at a fixed price).
    pub fn buy_total(&self) -> i64 {
        self.buy_total_fen.unwrap_or(0)
    }

    pub fn is_auction(&self) -> bool {
        self.pricing_mode == "auction"
    }
    pub fn is_fixed(&self) -> bool {
        self.pricing_mode == "fixed"
    }
    pub fn is_negotiable(&self) -> bool {
        self.pricing_mode == "negotiable"
    }
    /// The viewer may use the forms (signed in, not the owner, organisation in good standing, listed).
    pub fn can_act(&self) -> bool {
        self.signed_in && !self.is_owner && self.guard.is_empty() && self.listed
    }
    /// The auction needs a deposit the viewer's organisation has not (yet) paid.
    pub fn deposit_missing(&self) -> bool {
        self.deposit_fen.is_some() && self.my_deposit != "held"
    }
    /// The catalogue key of the viewer's deposit state.
    pub fn deposit_state_key(&self) -> String {
        match self.my_deposit.as_str() {
            s @ ("held" | "refunded" | "applied" | "forfeited") => {
                format!("trading.deposit.state.{s}")
            }
            _ => "trading.deposit.state.none".into(),
        }
    }
    /// The viewer may bid: may act and has the deposit if one is required.
    pub fn can_bid(&self) -> bool {
        self.can_act() && !self.deposit_missing()
    }
    pub fn auction_open(&self) -> bool {
        self.auction.as_ref().is_some_and(|a| a.is_open())
    }
    pub fn single_mode(&self) -> bool {
        self.modes.len() == 1
    }
}

fn yuan_input(fen: i64) -> String {
    let (y, f) = (fen / FEN_PER_YUAN, fen % FEN_PER_YUAN);
    if f == 0 {
        y.to_string()
    } else {
        format!("{y}.{f:02}")
    }
}

/// Builds the panel for one listing and the current viewer.
pub async fn listing_panel(
    state: &AppState,
    ctx: &PageCtx,
    listing_id: Uuid,
) -> Result<ListingPanel> {
    let mut conn = state.pool.acquire().await?;
    let Some(listing) = db::trading::listing(&mut conn, listing_id).await? else {
        return Ok(ListingPanel {
            listing_id: listing_id.to_string(),
            ..Default::default()
        });
    };
    drop(conn);
    panel_for(state, ctx, listing).await
}

/// [`listing_panel`] for a listing the page has read already (`listings::detail`). A visitor's
/// panel of a priced listing reads nothing more: the fee comes from the process's copy of the
/// approved schedules (`service::fees::cache`).
pub async fn panel_for(
    state: &AppState,
    ctx: &PageCtx,
    listing: db::trading::ListingRow,
) -> Result<ListingPanel> {
    let listing_id = listing.id;
    let org = ctx.user.as_ref().and_then(|u| u.organization_id);
    let is_owner = org == Some(listing.organization_id);
    let mut guard = String::new();
    if let Some(u) = &ctx.user {
        match u.organization_id {
            None => guard = ctx.t("error.organization_required").to_string(),
            Some(o) if !is_owner => {
                let mut conn = state.pool.acquire().await?;
                if let Err(e) = crate::service::guards::require_active_org(&mut conn, o).await {
                    guard = error_text(ctx, e.code(), &[]);
                }
            }
            _ => {}
        }
    }
    let mut panel = ListingPanel {
        listing_id: listing_id.to_string(),
        pricing_mode: listing.pricing_mode.clone(),
        listed: listing.status == "listed",
        sold: listing.status == "sold",
        signed_in: ctx.user.is_some(),
        is_admin: ctx.user.as_ref().is_some_and(|u| u.is_admin()),
        is_owner,
        guard,
        modes: listing.transaction_modes.clone(),
        price_fen: listing.price_fen,
        form_key: Uuid::new_v4().to_string(),
        ..Default::default()
    };
    let mut fee_on = listing.price_fen;
    if listing.pricing_mode == "auction" {
        if let Ok(a) = trading::auction_view(&state.pool, org, listing_id).await {
            panel.min_next_yuan = yuan_input(a.min_next_bid_fen);
            panel.deposit_fen = a.deposit_fen;
            panel.ends_at_iso = a.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            fee_on = Some(a.min_next_bid_fen);
            panel.auction = Some(a);
        }
        if panel.deposit_fen.is_some() && !is_owner {
            let mine = trading::deposits_of(&state.pool, ctx.user.as_ref(), listing_id).await?;
            if let Some(d) = mine.into_iter().find(|d| Some(d.organization_id) == org) {
                panel.my_deposit = d.status;
            }
        }
        if let Some(o) = org {
            let mut conn = state.pool.acquire().await?;
            let (leads, bidder_no) = db::trading::bidder_standing(&mut conn, listing_id, o).await?;
            panel.you_lead = leads;
            panel.my_mode = db::trading::bidder_mode(&mut conn, listing_id, o)
                .await?
                .unwrap_or_default();
            if let Some(n) = bidder_no {
                panel.my_bidder = trading::pseudonym_zh(n);
            }
        }
    }
    if let Some(amount) = fee_on {
        let versions = crate::service::fees::cache::versions(&state.pool).await?;
        if let Some(v) = crate::service::fees::cache::pick(&versions, chrono::Utc::now()) {
            panel.buyer_fee_fen = Some(v.schedule.quote(amount).buyer_fee_fen);
        }
    }
    if listing.pricing_mode == "fixed" {
        panel.buy_total_fen = listing
            .price_fen
            .map(|p| p.saturating_add(panel.buyer_fee_fen.unwrap_or(0)));
    }
    if let (Some(o), false) = (org, is_owner) {
        let mut conn = state.pool.acquire().await?;
        panel.my_thread = db::trading::thread_of(&mut conn, listing_id, o)
            .await?
            .map(|t| t.to_string());
    }
    if let Some(done) = ctx.query_param("trading") {
        let key = format!("trading.done.{done}");
        if i18n::catalog(ctx.lang).contains_key(&key) {
            panel.notice = i18n::t(ctx.lang, &key).to_string();
        }
    }
    if let Some(code) = ctx.query_param("trading_error") {
        let min = panel
            .auction
            .as_ref()
            .map(|a| ctx.money(&a.min_next_bid_fen))
            .unwrap_or_default();
        panel.error = error_text(ctx, &code, &[("min", min)]);
    }
    Ok(panel)
}
