//! The outbox arm of [`super::emit`]: the events the exchanges' own systems hear of (API.md
//! "Exchange systems"), written in the change's transaction, so that an event exists exactly when
//! its change committed. Delivery (webhooks) and the change feed read them after the commit
//! (`service::interconnect`).
use serde_json::json;
use uuid::Uuid;

use super::{Event, TradeFacts, TradeParty};
use crate::db;
use crate::domain::interconnect::EventType;

/// What an event tells the outside: its type, its `data`, and whom it concerns (the listing's
/// exchange, the exchanges of the organisations named, or all four).
struct Outgoing {
    kind: EventType,
    data: serde_json::Value,
    listing_id: Option<Uuid>,
    organizations: Vec<Uuid>,
    all: bool,
}

fn trade_data(f: &TradeFacts) -> serde_json::Value {
    json!({
        "trade_id": f.trade_id,
        "listing_id": f.listing_id,
        "listing_title": f.listing_title,
        "buyer_organization_id": f.buyer_organization_id,
        "seller_organization_id": f.seller_organization_id,
        "price_fen": f.price_fen,
        "buyer_fee_fen": f.buyer_fee_fen,
        "seller_fee_fen": f.seller_fee_fen,
    })
}

fn trade(kind: EventType, f: &TradeFacts, extra: Option<(&str, &str)>) -> Outgoing {
    let mut data = trade_data(f);
    if let (Some((k, v)), Some(o)) = (extra, data.as_object_mut()) {
        o.insert(k.to_string(), json!(v));
    }
    Outgoing {
        kind,
        data,
        listing_id: Some(f.listing_id),
        organizations: vec![f.buyer_organization_id, f.seller_organization_id],
        all: false,
    }
}

fn outgoing(event: &Event) -> Option<Outgoing> {
    Some(match event {
        Event::ListingSubmitted {
            listing_id,
            organization_id,
        } => Outgoing {
            kind: EventType::ListingSubmitted,
            data: json!({"listing_id": listing_id, "organization_id": organization_id}),
            listing_id: Some(*listing_id),
            organizations: Vec::new(),
            all: false,
        },
        Event::ListingApproved {
            listing_id,
            organization_id,
            title,
            exchange,
        } => Outgoing {
            kind: EventType::ListingListed,
            data: json!({
                "listing_id": listing_id, "organization_id": organization_id,
                "title": title, "exchange": exchange.code(),
            }),
            listing_id: Some(*listing_id),
            organizations: Vec::new(),
            all: false,
        },
        Event::TradeCreated {
            trade_id,
            listing_id,
            listing_title,
            seller_organization_id,
            buyer_organization_id,
            price_fen,
            source,
        } => Outgoing {
            kind: EventType::TradeCreated,
            data: json!({
                "trade_id": trade_id, "listing_id": listing_id, "listing_title": listing_title,
                "buyer_organization_id": buyer_organization_id,
                "seller_organization_id": seller_organization_id,
                "price_fen": price_fen, "source": source,
            }),
            listing_id: Some(*listing_id),
            organizations: vec![*buyer_organization_id, *seller_organization_id],
            all: false,
        },
        Event::TradePaid(f) => trade(EventType::TradePaid, f, None),
        Event::TradeSettled(f) => trade(EventType::TradeSettled, f, None),
        // A dispute decided for the seller or split settles the trade: the systems hear
        // `trade.settled` as after a confirmation.
        Event::DisputeResolved {
            trade: f,
            settled: true,
            ..
        } => trade(EventType::TradeSettled, f, None),
        Event::TradeCancelled { trade: f, by } => trade(
            EventType::TradeCancelled,
            f,
            Some((
                "reason",
                match by {
                    TradeParty::Buyer => "buyer",
                    TradeParty::Seller => "seller",
                },
            )),
        ),
        Event::TradePaymentTimedOut(f) => trade(
            EventType::TradeCancelled,
            f,
            Some(("reason", "payment_timeout")),
        ),
        Event::AuctionClosed {
            listing_title,
            seller_organization_id,
            auction,
            ..
        } => Outgoing {
            kind: EventType::AuctionClosed,
            data: json!({
                "listing_id": auction.listing_id,
                "listing_title": listing_title,
                "seller_organization_id": seller_organization_id,
                "sold": auction.trade_id.is_some(),
                "trade_id": auction.trade_id,
                "winner_organization_id": auction.trade_id.and(auction.leading_org_id),
                "price_fen": auction.trade_id.and(auction.leading_bid_fen),
                "bid_count": auction.bid_count,
            }),
            listing_id: Some(auction.listing_id),
            organizations: auction
                .trade_id
                .and(auction.leading_org_id)
                .into_iter()
                .collect(),
            all: false,
        },
        Event::OrganizationRestricted {
            restriction_id,
            organization_id,
            reason,
            until,
        } => Outgoing {
            kind: EventType::OrganizationRestricted,
            data: json!({
                "restriction_id": restriction_id, "organization_id": organization_id,
                "reason": reason, "until": until,
            }),
            listing_id: None,
            organizations: Vec::new(),
            all: true,
        },
        _ => return None,
    })
}

/// The outbox row of `event`, if the exchanges' systems hear of it ([`super::emit`] writes it with
/// the event's notices, in one statement).
pub fn row(event: &Event) -> Option<db::interconnect::NewEvent> {
    outgoing(event).map(|o| db::interconnect::NewEvent {
        kind: o.kind.code(),
        data: o.data,
        listing_id: o.listing_id,
        organizations: o.organizations,
        all: o.all,
    })
}
