//! Every state change that others react to, in one place.
//!
//! A use case that changes state calls [`emit`] once per change, inside the change's transaction,
//! with an [`Event`] that carries ids and amounts. What follows from it — who is told, in which
//! words ([`inbox`]), which live pages hear of it ([`live`]) — is decided here and nowhere else.
//! This is the hook for what reacts to changes later (the webhook outbox, more inbox notices,
//! statistics): a new reaction is a new arm here, not a new call in every use case.
//!
//! Everything [`emit`] writes commits or rolls back with the change. The one exception is a bid's
//! live event, which [`after_commit`] queues once the bid has committed (see
//! [`live::publish_after_commit`] for why).
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::settlement::TradeRow;
use crate::db::trading::{AuctionEvent, AuctionRow};
use crate::domain::codes::{Exchange, OrgRole};
use crate::error::{Error, Result};

/// The words of the outbid and deposit notices.
pub mod auction_notices;
/// The notices of broker engagements.
mod brokers;
/// The notices of expert evaluations.
mod evaluations;
/// The notices of fee schedule decisions.
mod fee_notices;
/// Inbox notices: who is told of which event, in which words (both languages).
pub mod inbox;
/// Live events for open pages: the LISTEN/NOTIFY hub and the after-commit sender.
pub mod live;
/// The outbox of events for the exchanges' own systems (webhooks, the change feed).
pub mod outbox;
/// The notices of pledge requests.
mod pledges;
/// The notices of steps that wait on someone: verification, review, fee drafts, bids to the seller.
pub mod waiting;

pub use evaluations::{EvaluationFacts, EvaluationStep};

/// A state change that others react to.
#[derive(Debug, Clone)]
pub enum Event {
    // ---------------------------------------------------------------- listings
    /// A listing went to its home exchange for review.
    ListingSubmitted {
        listing_id: Uuid,
        organization_id: Uuid,
    },
    /// An administrator of `exchange` approved a listing: it is listed.
    ListingApproved {
        listing_id: Uuid,
        organization_id: Uuid,
        title: String,
        exchange: Exchange,
    },
    ListingRejected {
        listing_id: Uuid,
        organization_id: Uuid,
        title: String,
        reason: String,
    },

    // ---------------------------------------------------------------- matching
    /// A demand and a listing fit well (at least `service::demands::NOTIFY_SCORE`). `new` says
    /// which of the two is new (the other side's owner is told).
    MatchFound {
        demand_id: Uuid,
        demand_title: String,
        demand_organization_id: Uuid,
        listing_id: Uuid,
        listing_title: String,
        listing_organization_id: Uuid,
        score: u8,
        new: MatchSide,
    },

    // ---------------------------------------------------------------- offers
    /// A buyer's offer on a negotiable listing.
    OfferReceived {
        offer_id: Uuid,
        thread_id: Uuid,
        listing_id: Uuid,
        listing_title: String,
        seller_organization_id: Uuid,
        amount_fen: i64,
    },
    /// One party answered the other's offer with another amount; `to` is the party that is told.
    OfferCountered {
        offer_id: Uuid,
        thread_id: Uuid,
        listing_id: Uuid,
        listing_title: String,
        to: Uuid,
        amount_fen: i64,
    },
    /// An open offer was rejected (by the party that did not make it) or withdrawn (by its
    /// maker); `to` is the other party.
    OfferDeclined {
        offer_id: Uuid,
        thread_id: Uuid,
        listing_id: Uuid,
        listing_title: String,
        to: Uuid,
        amount_fen: i64,
        withdrawn: bool,
    },
    /// Open offers closed because the listing was sold exclusively or withdrawn; `buyers` are the
    /// organisations whose offers closed (each told once).
    OffersClosed {
        listing_id: Uuid,
        listing_title: String,
        buyers: Vec<Uuid>,
        why: OffersClosedBecause,
    },

    // ---------------------------------------------------------------- auctions
    /// A bid was taken (`auction` is the row after it). Told live, after the commit.
    BidPlaced {
        listing_id: Uuid,
        bid_id: Uuid,
        organization_id: Uuid,
        amount_fen: i64,
        bidder_no: i32,
        auction: AuctionRow,
    },
    /// A scheduled auction opened at its start (`pricing.auction.starts_at`): its open pages are
    /// told live, so that the bid form appears without a reload.
    AuctionOpened { auction: AuctionRow },
    /// An organisation's bids in an auction became void: it came under a credit restriction
    /// before the close (`auction` is the row after the leading bid was recomputed).
    BidsVoided {
        listing_title: String,
        organization_id: Uuid,
        auction: AuctionRow,
    },
    /// An auction closed, sold (`auction.trade_id`, won by `auction.leading_org_id`) or unsold.
    AuctionClosed {
        listing_title: String,
        seller_organization_id: Uuid,
        auction: AuctionRow,
        /// When the winner must have paid (sold only).
        payment_due_at: Option<DateTime<Utc>>,
        /// The deposits refunded at the close: (organisation, amount).
        refunded: Vec<(Uuid, i64)>,
        /// The winner's deposit, counted toward its payment.
        applied_fen: Option<i64>,
    },

    // ---------------------------------------------------------------- deposits (保证金)
    /// An administrator recorded an organisation's deposit for an auction as received.
    DepositPaid(DepositFacts),
    /// A deposit went back to its organisation outside an auction's close (the seller cancelled
    /// the trade the deposit had been applied to).
    DepositRefunded(DepositFacts),
    /// The winner did not pay in time (or cancelled): its deposit went to the seller.
    DepositForfeited {
        deposit: DepositFacts,
        seller_organization_id: Uuid,
        trade_id: Uuid,
    },

    // ---------------------------------------------------------------- trades
    /// A trade was made (an accepted offer, a purchase, a won auction).
    TradeCreated {
        trade_id: Uuid,
        listing_id: Uuid,
        listing_title: String,
        seller_organization_id: Uuid,
        buyer_organization_id: Uuid,
        price_fen: i64,
        /// `offer` | `purchase` | `auction`
        source: &'static str,
    },
    /// An administrator recorded the buyer's payment.
    TradePaid(TradeFacts),
    /// The seller recorded delivery: the buyer's acceptance period runs.
    TradeDelivered(TradeFacts),
    /// The buyer confirmed delivery (or its acceptance period ended): the trade settled.
    TradeSettled(TradeFacts),
    /// A party cancelled the trade while payment was awaited.
    TradeCancelled { trade: TradeFacts, by: TradeParty },
    /// The payment deadline passed: the trade was cancelled.
    TradePaymentTimedOut(TradeFacts),
    /// The payment deadline is near and the trade is unpaid: the buyer is reminded.
    TradePaymentDue {
        trade: TradeFacts,
        number: String,
        amount_fen: i64,
        due_at: DateTime<Utc>,
    },

    /// A party opened a dispute on a paid trade (`by`); the admins of both exchanges decide it.
    DisputeOpened {
        trade: TradeFacts,
        dispute_id: Uuid,
        by: TradeParty,
        buyer_exchange: String,
        seller_exchange: String,
        reason: String,
    },
    /// An admin decided a dispute: `settled` (to the seller, or a split) or refunded.
    DisputeResolved {
        trade: TradeFacts,
        dispute_id: Uuid,
        outcome: crate::domain::dispute::Outcome,
        settled: bool,
        seller_receives_fen: i64,
        buyer_refund_fen: i64,
    },

    /// An admin recorded a bank transfer out of the settlement account to a party of a trade.
    PayoutRecorded {
        trade: TradeFacts,
        number: String,
        payee: crate::domain::dispute::Payee,
        organization_id: Uuid,
        amount_fen: i64,
        bank_reference: String,
    },

    /// A buyer cancelled for the second time (or more) within 90 days, or left a trade unpaid past
    /// its deadline (`timeout`): the admins of the buyer's exchange are told (they may restrict).
    BuyerDefaulted {
        trade: TradeFacts,
        number: String,
        buyer_name: String,
        buyer_exchange: String,
        timeout: bool,
        reason: String,
        /// Its cancellations and payment timeouts within 90 days, this one included.
        count: i64,
    },
    // ---------------------------------------------------------------- technology finance
    /// A step of a pledge request (知识产权质押): who is told is decided by the step.
    Pledge(PledgeFacts),

    // ---------------------------------------------------------------- credit restrictions
    OrganizationRestricted {
        restriction_id: Uuid,
        organization_id: Uuid,
        reason: String,
        until: Option<DateTime<Utc>>,
    },
    RestrictionLifted {
        restriction_id: Uuid,
        organization_id: Uuid,
    },

    // ---------------------------------------------------------------- colleagues
    /// A colleague joined an organisation, had their role set, or was removed from it.
    Colleague(ColleagueChange),

    // ---------------------------------------------------------------- fee schedules
    /// An administrator of another exchange rejected a fee schedule draft: its drafter is told why.
    FeeScheduleRejected {
        schedule_id: Uuid,
        working_title: String,
        /// Null only for a schedule nobody drafted (none is a draft).
        drafter_id: Option<Uuid>,
        reason: String,
    },
    // ---------------------------------------------------------------- technology brokers
    /// A step of a broker's engagement on a trade (proposed, accepted, declined).
    BrokerEngagement(BrokerFacts),

    // ---------------------------------------------------------------- expert evaluations
    /// An evaluation opened (its experts are invited), or closed published or failed.
    Evaluation(EvaluationFacts),

    // ---------------------------------------------------------------- steps that wait (issue 18)
    /// An organisation registered, or its exchange verified or refused it.
    Organization(OrganizationStep),
    /// An administrator drafted a fee schedule: the other exchanges' administrators may decide it.
    FeeDraftCreated {
        schedule_id: Uuid,
        name: String,
        /// The drafter's exchange (its administrators may not decide the draft).
        exchange: Exchange,
    },
}

/// What broker engagement events carry.
#[derive(Debug, Clone)]
pub struct BrokerFacts {
    pub engagement_id: Uuid,
    pub trade_id: Uuid,
    pub trade_number: String,
    pub broker_id: Uuid,
    pub broker_user_id: Uuid,
    pub broker_name: String,
    /// `buyer` | `seller`: the side that engaged the broker.
    pub side: String,
    /// The organisation of that side.
    pub side_organization_id: Uuid,
    pub commission_fen: i64,
    /// `proposed` (the broker is told) | `accepted` | `declined` (that side's organisation is told).
    pub step: &'static str,
}

/// What happened to an organisation's registration.
#[derive(Debug, Clone)]
pub struct OrganizationStep {
    pub organization_id: Uuid,
    pub name: String,
    /// The exchange it is filed with (code).
    pub exchange: String,
    pub what: OrganizationWhat,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationWhat {
    /// It registered: it waits for its exchange's verification (the admins are told).
    Registered,
    /// Its exchange verified it (its members are told).
    Verified,
    /// Its exchange refused to verify it, for this reason (its members are told).
    Refused { reason: String },
}

/// A change to one person's place in an organisation.
#[derive(Debug, Clone)]
pub struct ColleagueChange {
    pub organization_id: Uuid,
    pub organization_name: String,
    pub user_id: Uuid,
    pub display_name: String,
    pub what: ColleagueWhat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColleagueWhat {
    /// Joined through an invitation, with this role.
    Joined(OrgRole),
    /// An owner set their role.
    RoleSet(OrgRole),
    /// An owner removed them.
    Removed,
}

/// Which side of a match is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchSide {
    /// A listing was just listed (the demand's owner hears of it).
    Listing,
    /// A demand was just posted (the listing's owner hears of it).
    Demand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffersClosedBecause {
    /// An exclusive sale (the accepted offer's buyer is not among `buyers`).
    Sold,
    /// The seller withdrew the listing.
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeParty {
    Buyer,
    Seller,
}

/// What pledge events carry.
#[derive(Debug, Clone)]
pub struct PledgeFacts {
    pub request_id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub owner_organization_id: Uuid,
    pub lender_organization_id: Uuid,
    pub lender_name: String,
    pub amount_fen: i64,
    pub step: PledgeStep,
}

/// What happened to a pledge request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PledgeStep {
    /// The owner applied (the lender is told).
    Requested,
    /// The lender approved with this 质押登记 number: the pledge is active (the owner is told).
    Approved { registration_no: String },
    /// The lender rejected it, with this reason (the owner is told).
    Rejected { reason: String },
    /// The lender released the pledge (the owner is told).
    Released,
    /// The lender consented to trades in this mode (the owner is told).
    Consented { mode: String },
    /// An auction of the pledged listing closed unsold because the lender had not consented to
    /// the winner's mode (the seller and the winner are told why).
    AuctionBlocked { winner: Uuid },
}

/// What trade events carry: ids and amounts.
#[derive(Debug, Clone)]
pub struct TradeFacts {
    pub trade_id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub buyer_organization_id: Uuid,
    pub seller_organization_id: Uuid,
    pub price_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
}

/// What deposit events carry.
#[derive(Debug, Clone)]
pub struct DepositFacts {
    pub listing_id: Uuid,
    pub listing_title: String,
    pub organization_id: Uuid,
    pub amount_fen: i64,
}

impl From<&TradeRow> for TradeFacts {
    fn from(t: &TradeRow) -> Self {
        TradeFacts {
            trade_id: t.id,
            listing_id: t.listing_id,
            listing_title: t.listing_title.clone(),
            buyer_organization_id: t.buyer_organization_id,
            seller_organization_id: t.seller_organization_id,
            price_fen: t.price_fen,
            buyer_fee_fen: t.buyer_fee_fen,
            seller_fee_fen: t.seller_fee_fen,
        }
    }
}

/// Records what follows from `event`, in the caller's transaction (`conn`): the inbox notices, the
/// outbox row of the exchanges' systems, and the live events that must commit with the change.
pub async fn emit(conn: &mut PgConnection, event: &Event) -> Result<()> {
    emit_with(conn, event, None).await
}

/// [`emit`] for a change that also posts to the ledger: the postings are stored as pending in the
/// statement that writes the notices and the outbox row (`service::settlement::post_with_event`,
/// which checks them, is the caller).
pub async fn emit_with_postings(
    conn: &mut PgConnection,
    event: &Event,
    pending: &crate::db::ledger::NewPending<'_>,
) -> Result<()> {
    emit_with(conn, event, Some(pending)).await
}

async fn emit_with(
    conn: &mut PgConnection,
    event: &Event,
    pending: Option<&crate::db::ledger::NewPending<'_>>,
) -> Result<()> {
    // The inbox notices and the outbox row in one statement (one round trip per change).
    let notices = inbox::all_notices(conn, event).await?;
    crate::db::notifications::insert_with_event(
        conn,
        &notices,
        outbox::row(event).as_ref(),
        pending,
    )
    .await?;
    if let Event::AuctionOpened { auction }
    | Event::AuctionClosed { auction, .. }
    | Event::BidsVoided { auction, .. } = event
    {
        // Inside the transaction: pages hear of the opening or the close only once it is committed.
        let payload = auction_payload(auction.listing_id, auction, None)?;
        crate::db::trading::notify_auction(conn, &payload).await?;
    }
    Ok(())
}

/// What follows from `event` once its change has committed: today only a bid's live event,
/// queued and sent in batches (a NOTIFY inside the bid's transaction halved the bid rate).
pub fn after_commit(pool: &PgPool, event: &Event) {
    if let Event::BidPlaced {
        listing_id,
        bidder_no,
        auction,
        ..
    } = event
    {
        match auction_payload(*listing_id, auction, Some(*bidder_no)) {
            Ok(payload) => live::publish_after_commit(pool, payload),
            Err(e) => tracing::warn!(error = ?e, "auction event not sent"),
        }
    }
}

/// The `auction_events` payload: the auction row (the reserve too: it never leaves the server
/// processes; `service::trading::event_json` makes the public view) and the bidder's number.
fn auction_payload(listing_id: Uuid, row: &AuctionRow, bidder_no: Option<i32>) -> Result<String> {
    serde_json::to_string(&AuctionEvent {
        listing_id,
        row: row.clone(),
        bidder_no,
    })
    .map_err(|e| Error::Internal(e.into()))
}
