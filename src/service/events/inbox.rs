//! Inbox notices: for each [`Event`], which organisations are told, in which words (Chinese and
//! English), with which link and dedupe key. The words of trading, settlement and restrictions are
//! the i18n catalogues' (`trading.notify.*`, `settlement.notify.*`); listing reviews and matches
//! are worded here.
use chrono::Offset;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Event, MatchSide, OffersClosedBecause, TradeFacts, TradeParty};
use crate::db;
use crate::db::notifications::NewNotification;
use crate::domain::money::format_yuan;
use crate::error::Result;
use crate::i18n::{self, Lang};

/// Every kind of trading notice (their catalogue keys are checked by a test).
pub const TRADING_KINDS: &[&str] = &[
    "offer_received",
    "offer_countered",
    "offer_rejected",
    "offer_withdrawn",
    "offer_closed",
    "offer_closed_withdrawn",
    "trade_sold",
    "trade_bought",
    "auction_won",
    "auction_lost",
    "auction_unsold",
    "bids_void",
];

/// Every settlement notice (`settlement.notify.<what>_title` / `_body`).
pub const TRADE_STATES: &[&str] = &[
    "paid",
    "settled",
    "cancelled",
    "expired",
    "payment_due",
    "delivered",
];

/// Writes the notices that follow from `event` (none for some events), in one statement.
pub async fn send(conn: &mut PgConnection, event: &Event) -> Result<()> {
    let notices = notices(conn, event).await?;
    db::notifications::insert_many(conn, &notices).await?;
    Ok(())
}

async fn notices(conn: &mut PgConnection, event: &Event) -> Result<Vec<NewNotification<'static>>> {
    Ok(match event {
        Event::ListingSubmitted { .. } => vec![],
        Event::Pledge(p) => super::pledges::notices(p),
        Event::ListingApproved {
            listing_id,
            organization_id,
            title,
            exchange,
        } => vec![NewNotification {
            user_id: None,
            organization_id: Some(*organization_id),
            kind: "listing.approved",
            title_zh: format!("科技成果「{title}」已通过审核并挂牌"),
            title_en: format!("Your listing “{title}” was approved and is now listed"),
            body_zh: format!(
                "{}已审核通过，该成果现已在四家交易机构展示。",
                exchange.name_zh()
            ),
            body_en: format!(
                "{} approved it; it is now visible in all four exchanges.",
                exchange.name_en()
            ),
            link: Some(format!("/listings/{listing_id}")),
            dedupe_key: None,
        }],
        Event::ListingRejected {
            listing_id,
            organization_id,
            title,
            reason,
        } => vec![NewNotification {
            user_id: None,
            organization_id: Some(*organization_id),
            kind: "listing.rejected",
            title_zh: format!("科技成果「{title}」未通过审核"),
            title_en: format!("Your listing “{title}” was rejected"),
            body_zh: format!("驳回理由：{reason}"),
            body_en: format!("Reason: {reason}"),
            link: Some(format!("/listings/{listing_id}")),
            dedupe_key: None,
        }],

        Event::MatchFound {
            demand_id,
            demand_title,
            demand_organization_id,
            listing_id,
            listing_title,
            listing_organization_id,
            score,
            new,
        } => vec![match new {
            MatchSide::Listing => NewNotification {
                user_id: None,
                organization_id: Some(*demand_organization_id),
                kind: "match",
                title_zh: format!("新成果匹配您的需求「{demand_title}」：匹配度 {score}"),
                title_en: format!("A new listing fits your demand “{demand_title}”: score {score}"),
                body_zh: format!("「{listing_title}」"),
                body_en: format!("“{listing_title}”"),
                link: Some(format!("/demands/{demand_id}")),
                dedupe_key: Some(format!("match:{demand_id}:{listing_id}:demand_owner")),
            },
            MatchSide::Demand => NewNotification {
                user_id: None,
                organization_id: Some(*listing_organization_id),
                kind: "match",
                title_zh: format!("新需求与您的成果「{listing_title}」匹配：匹配度 {score}"),
                title_en: format!(
                    "A new demand fits your listing “{listing_title}”: score {score}"
                ),
                body_zh: format!("「{demand_title}」"),
                body_en: format!("“{demand_title}”"),
                link: Some(format!("/listings/{listing_id}/matches")),
                dedupe_key: Some(format!("match:{demand_id}:{listing_id}:listing_owner")),
            },
        }],

        Event::OfferReceived {
            thread_id,
            listing_title,
            seller_organization_id,
            amount_fen,
            ..
        } => vec![trading(
            *seller_organization_id,
            "offer_received",
            &title_price(listing_title, *amount_fen),
            format!("/offers/{thread_id}"),
            None,
        )],
        Event::OfferCountered {
            thread_id,
            listing_title,
            to,
            amount_fen,
            ..
        } => vec![trading(
            *to,
            "offer_countered",
            &title_price(listing_title, *amount_fen),
            format!("/offers/{thread_id}"),
            None,
        )],
        Event::OfferDeclined {
            thread_id,
            listing_title,
            to,
            amount_fen,
            withdrawn,
            ..
        } => vec![trading(
            *to,
            if *withdrawn {
                "offer_withdrawn"
            } else {
                "offer_rejected"
            },
            &title_price(listing_title, *amount_fen),
            format!("/offers/{thread_id}"),
            None,
        )],
        Event::OffersClosed {
            listing_id,
            listing_title,
            buyers,
            why,
        } => {
            let kind = match why {
                OffersClosedBecause::Sold => "offer_closed",
                OffersClosedBecause::Withdrawn => "offer_closed_withdrawn",
            };
            let mut buyers = buyers.clone();
            buyers.sort();
            buyers.dedup();
            buyers
                .into_iter()
                .map(|buyer| {
                    trading(
                        buyer,
                        kind,
                        &[("title", listing_title.clone())],
                        format!("/listings/{listing_id}"),
                        None,
                    )
                })
                .collect()
        }

        Event::BidPlaced { .. } => vec![],
        Event::BidsVoided {
            listing_title,
            organization_id,
            auction: a,
        } => vec![trading(
            *organization_id,
            "bids_void",
            &[("title", listing_title.clone())],
            format!("/listings/{}", a.listing_id),
            Some(format!("auction:{}:{organization_id}:void", a.listing_id)),
        )],
        Event::AuctionClosed {
            listing_title,
            seller_organization_id,
            auction: a,
        } => {
            let link = format!("/listings/{}", a.listing_id);
            let price = format_yuan(a.leading_bid_fen.unwrap_or(a.start_price_fen));
            let args = [("title", listing_title.clone()), ("price", price)];
            let dedupe = |who: &str| Some(format!("auction:{}:{who}", a.listing_id));
            let bidders = db::trading::bidder_orgs(conn, a.listing_id).await?;
            let mut out = Vec::with_capacity(bidders.len() + 1);
            match (a.trade_id, a.leading_org_id) {
                (Some(t), Some(winner)) => {
                    out.push(trading(
                        winner,
                        "auction_won",
                        &args,
                        format!("/trades/{t}"),
                        dedupe("won"),
                    ));
                    for org in bidders.into_iter().filter(|o| *o != winner) {
                        let d = dedupe(&org.to_string());
                        out.push(trading(org, "auction_lost", &args, link.clone(), d));
                    }
                }
                _ => {
                    out.push(trading(
                        *seller_organization_id,
                        "auction_unsold",
                        &args,
                        link.clone(),
                        dedupe("seller"),
                    ));
                    for org in bidders {
                        let d = dedupe(&org.to_string());
                        out.push(trading(org, "auction_lost", &args, link.clone(), d));
                    }
                }
            }
            out
        }

        Event::TradeCreated {
            trade_id,
            listing_title,
            seller_organization_id,
            buyer_organization_id,
            price_fen,
            source,
            ..
        } => {
            let args = title_price(listing_title, *price_fen);
            let link = format!("/trades/{trade_id}");
            let mut out = vec![trading(
                *seller_organization_id,
                "trade_sold",
                &args,
                link.clone(),
                None,
            )];
            // An auction's winner hears of it as `auction_won` when the auction closes.
            if *source != "auction" {
                out.push(trading(
                    *buyer_organization_id,
                    "trade_bought",
                    &args,
                    link,
                    None,
                ));
            }
            out
        }
        Event::TradePaid(t) => trade_state(t, "paid", None),
        Event::TradeSettled(t) => trade_state(t, "settled", None),
        // The seller knows it delivered; the buyer is told.
        Event::TradeDelivered(t) => trade_state(t, "delivered", Some(TradeParty::Seller)),
        Event::TradeCancelled { trade, by } => trade_state(trade, "cancelled", Some(*by)),
        Event::TradePaymentTimedOut(t) => trade_state(t, "expired", None),
        Event::TradePaymentDue {
            trade,
            number,
            amount_fen,
            due_at,
        } => {
            let shanghai =
                chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Utc.fix());
            let due = due_at
                .with_timezone(&shanghai)
                .format("%Y-%m-%d %H:%M")
                .to_string();
            let args = [
                ("title", trade.listing_title.clone()),
                ("number", number.clone()),
                ("amount", format_yuan(*amount_fen)),
                ("due", due),
            ];
            let key = "settlement.notify.payment_due";
            vec![NewNotification {
                user_id: None,
                organization_id: Some(trade.buyer_organization_id),
                kind: "trade",
                title_zh: i18n::tf(Lang::Zh, &format!("{key}_title"), &args),
                title_en: i18n::tf(Lang::En, &format!("{key}_title"), &args),
                body_zh: i18n::tf(Lang::Zh, &format!("{key}_body"), &args),
                body_en: i18n::tf(Lang::En, &format!("{key}_body"), &args),
                link: Some(format!("/trades/{}", trade.trade_id)),
                dedupe_key: Some(format!("trade:{}:payment_due", trade.trade_id)),
            }]
        }

        Event::OrganizationRestricted {
            restriction_id,
            organization_id,
            reason,
            ..
        } => {
            let args = vec![("reason", reason.clone())];
            vec![NewNotification {
                user_id: None,
                organization_id: Some(*organization_id),
                kind: "restriction",
                title_zh: i18n::tf(Lang::Zh, "settlement.notify.restricted_title", &args),
                title_en: i18n::tf(Lang::En, "settlement.notify.restricted_title", &args),
                body_zh: i18n::tf(Lang::Zh, "settlement.notify.restricted_body", &args),
                body_en: i18n::tf(Lang::En, "settlement.notify.restricted_body", &args),
                link: Some("/account".into()),
                dedupe_key: Some(format!("restriction:{restriction_id}")),
            }]
        }
        Event::RestrictionLifted {
            restriction_id,
            organization_id,
        } => vec![NewNotification {
            user_id: None,
            organization_id: Some(*organization_id),
            kind: "restriction",
            title_zh: i18n::t(Lang::Zh, "settlement.notify.lifted_title").to_string(),
            title_en: i18n::t(Lang::En, "settlement.notify.lifted_title").to_string(),
            body_zh: String::new(),
            body_en: String::new(),
            link: Some("/account".into()),
            dedupe_key: Some(format!("restriction:{restriction_id}:lifted")),
        }],
    })
}

fn title_price(title: &str, amount_fen: i64) -> [(&'static str, String); 2] {
    [
        ("title", title.to_string()),
        ("price", format_yuan(amount_fen)),
    ]
}

/// A trading notice to every member of `org`, in both languages, from the catalogue keys
/// `trading.notify.<kind>.title` / `.body`.
fn trading(
    org: Uuid,
    kind: &'static str,
    args: &[(&str, String)],
    link: String,
    dedupe_key: Option<String>,
) -> NewNotification<'static> {
    let title = format!("trading.notify.{kind}.title");
    let body = format!("trading.notify.{kind}.body");
    NewNotification {
        user_id: None,
        organization_id: Some(org),
        kind,
        title_zh: i18n::tf(Lang::Zh, &title, args),
        title_en: i18n::tf(Lang::En, &title, args),
        body_zh: i18n::tf(Lang::Zh, &body, args),
        body_en: i18n::tf(Lang::En, &body, args),
        link: Some(link),
        dedupe_key,
    }
}

/// A trade's new state, to both parties, or to the other party when one of them did it.
fn trade_state(
    t: &TradeFacts,
    what: &'static str,
    by: Option<TradeParty>,
) -> Vec<NewNotification<'static>> {
    let title_key = format!("settlement.notify.{what}_title");
    let body_key = format!("settlement.notify.{what}_body");
    let link = format!("/trades/{}", t.trade_id);
    let orgs = match by {
        // The one who cancelled knows; tell the other party.
        Some(TradeParty::Buyer) => vec![t.seller_organization_id],
        Some(TradeParty::Seller) => vec![t.buyer_organization_id],
        None => vec![t.buyer_organization_id, t.seller_organization_id],
    };
    let args = [("title", t.listing_title.clone())];
    orgs.into_iter()
        .map(|org| NewNotification {
            user_id: None,
            organization_id: Some(org),
            kind: "trade",
            title_zh: i18n::tf(Lang::Zh, &title_key, &args),
            title_en: i18n::tf(Lang::En, &title_key, &args),
            body_zh: i18n::tf(Lang::Zh, &body_key, &args),
            body_en: i18n::tf(Lang::En, &body_key, &args),
            link: Some(link.clone()),
            dedupe_key: Some(format!("trade:{}:{what}:{org}", t.trade_id)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_has_its_words_in_both_languages() {
        let mut keys = Vec::new();
        for kind in TRADING_KINDS {
            for part in ["title", "body"] {
                keys.push(format!("trading.notify.{kind}.{part}"));
            }
        }
        for what in TRADE_STATES {
            keys.push(format!("settlement.notify.{what}_title"));
            keys.push(format!("settlement.notify.{what}_body"));
        }
        for key in [
            "settlement.notify.restricted_title",
            "settlement.notify.restricted_body",
            "settlement.notify.lifted_title",
        ] {
            keys.push(key.to_string());
        }
        for key in keys {
            for lang in [Lang::Zh, Lang::En] {
                assert!(
                    i18n::catalog(lang).contains_key(&key),
                    "{key} ({})",
                    lang.code()
                );
            }
        }
    }
}
