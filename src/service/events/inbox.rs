//! Inbox notices: for each [`Event`], which organisations are told, in which words (Chinese and
//! English), with which link and dedupe key. The words of trading, settlement and restrictions are
//! the i18n catalogues' (`trading.notify.*`, `settlement.notify.*`); listing reviews and matches
//! are worded here.
use chrono::Offset;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    ColleagueChange, ColleagueWhat, DepositFacts, Event, MatchSide, OffersClosedBecause,
    TradeFacts, TradeParty,
};
use crate::db;
use crate::db::notifications::NewNotification;

use super::auction_notices::deposit;
pub use super::auction_notices::outbid;
use crate::domain::codes::OrgRole;
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
    "auction_sold",
    "auction_lost",
    "auction_unsold",
    "bids_void",
    "outbid",
    "deposit_paid",
    "deposit_refunded",
    "deposit_forfeited",
    "deposit_received",
];

/// What a close notice adds about deposits and deadlines (`trading.notify.note.<what>`).
pub const NOTES: &[&str] = &["pay_by", "applied", "refunded", "forfeit_rule"];

/// Every settlement notice (`settlement.notify.<what>_title` / `_body`).
pub const TRADE_STATES: &[&str] = &[
    "paid",
    "settled",
    "cancelled",
    "expired",
    "payment_due",
    "delivered",
];

/// The notices that follow from `event` (none for some events): [`super::emit`] writes them in
/// one statement with the event's outbox row.
pub async fn all_notices(
    conn: &mut PgConnection,
    event: &Event,
) -> Result<Vec<NewNotification<'static>>> {
    let mut notices = notices(conn, event).await?;
    notices.extend(super::waiting::notices(conn, event).await?);
    Ok(notices)
}

async fn notices(conn: &mut PgConnection, event: &Event) -> Result<Vec<NewNotification<'static>>> {
    Ok(match event {
        Event::ListingSubmitted { .. } => vec![],
        Event::Pledge(p) => super::pledges::notices(p),
        Event::Evaluation(e) => super::evaluations::notices(e),
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

        Event::BidPlaced { .. } | Event::AuctionOpened { .. } => vec![],
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
            payment_due_at,
            refunded,
            applied_fen,
        } => {
            let link = format!("/listings/{}", a.listing_id);
            let price = format_yuan(a.leading_bid_fen.unwrap_or(a.start_price_fen));
            let args = [("title", listing_title.clone()), ("price", price)];
            let dedupe = |who: &str| Some(format!("auction:{}:{who}", a.listing_id));
            let bidders = db::trading::bidder_orgs(conn, a.listing_id).await?;
            // What happens next, appended to a close notice's body.
            let due = payment_due_at.map(shanghai).unwrap_or_default();
            let note = |what: &str, amount: i64| {
                let args = [("due", due.clone()), ("deposit", format_yuan(amount))];
                let key = format!("trading.notify.note.{what}");
                [
                    i18n::tf(Lang::Zh, &key, &args),
                    format!(" {}", i18n::tf(Lang::En, &key, &args)),
                ]
            };
            let lost = |org: Uuid| {
                let mut n = trading(
                    org,
                    "auction_lost",
                    &args,
                    link.clone(),
                    dedupe(&org.to_string()),
                );
                if let Some((_, amount)) = refunded.iter().find(|(o, _)| *o == org) {
                    n.add(note("refunded", *amount));
                }
                n
            };
            let mut out = Vec::with_capacity(bidders.len() + 1);
            match (a.trade_id, a.leading_org_id) {
                (Some(t), Some(winner)) => {
                    let mut won = trading(
                        winner,
                        "auction_won",
                        &args,
                        format!("/trades/{t}"),
                        dedupe("won"),
                    );
                    won.add(note("pay_by", 0));
                    let mut sold = trading(
                        *seller_organization_id,
                        "auction_sold",
                        &args,
                        format!("/trades/{t}"),
                        dedupe("seller"),
                    );
                    sold.add(note("pay_by", 0));
                    if let Some(d) = applied_fen {
                        won.add(note("applied", *d));
                        sold.add(note("forfeit_rule", *d));
                    }
                    out.push(won);
                    out.push(sold);
                    out.extend(bidders.iter().copied().filter(|o| *o != winner).map(lost));
                }
                _ => {
                    out.push(trading(
                        *seller_organization_id,
                        "auction_unsold",
                        &args,
                        link.clone(),
                        dedupe("seller"),
                    ));
                    out.extend(bidders.iter().copied().map(lost));
                }
            }
            // A deposit paid by an organisation that never bid: told of its refund on its own.
            for &(org, amount) in refunded.iter().filter(|(o, _)| !bidders.contains(o)) {
                let d = DepositFacts {
                    listing_id: a.listing_id,
                    listing_title: listing_title.clone(),
                    organization_id: org,
                    amount_fen: amount,
                };
                out.push(deposit(&d, org, "deposit_refunded", None));
            }
            out
        }
        Event::DepositPaid(d) => vec![deposit(d, d.organization_id, "deposit_paid", None)],
        Event::DepositRefunded(d) => vec![deposit(d, d.organization_id, "deposit_refunded", None)],
        Event::DepositForfeited {
            deposit: d,
            seller_organization_id,
            trade_id,
        } => vec![
            deposit(d, d.organization_id, "deposit_forfeited", Some(*trade_id)),
            deposit(
                d,
                *seller_organization_id,
                "deposit_received",
                Some(*trade_id),
            ),
        ],

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
            // An auction's parties hear of it as `auction_won` and `auction_sold` when the
            // auction closes, with what happens next.
            if *source == "auction" {
                return Ok(vec![]);
            }
            out.push(trading(
                *buyer_organization_id,
                "trade_bought",
                &args,
                link,
                None,
            ));
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
            let due = shanghai(*due_at);
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

        Event::DisputeOpened {
            trade,
            dispute_id,
            by,
            buyer_exchange,
            seller_exchange,
            reason,
        } => {
            let by_key = match by {
                TradeParty::Buyer => "disputes.party.buyer",
                TradeParty::Seller => "disputes.party.seller",
            };
            let link = format!("/trades/{}", trade.trade_id);
            let mut out = Vec::new();
            for org in [trade.buyer_organization_id, trade.seller_organization_id] {
                out.push(notice(
                    None,
                    Some(org),
                    "disputes.notify.opened",
                    &[
                        ("title", trade.listing_title.clone()),
                        ("reason", reason.clone()),
                    ],
                    Some(by_key),
                    link.clone(),
                    format!("dispute:{dispute_id}:opened:{org}"),
                ));
            }
            let mut exchanges = vec![buyer_exchange.as_str(), seller_exchange.as_str()];
            exchanges.dedup();
            for ex in exchanges {
                for admin in db::disputes::admins_of(conn, ex).await? {
                    out.push(notice(
                        Some(admin),
                        None,
                        "disputes.notify.queue",
                        &[
                            ("title", trade.listing_title.clone()),
                            ("reason", reason.clone()),
                        ],
                        Some(by_key),
                        "/admin/disputes".into(),
                        format!("dispute:{dispute_id}:queue:{admin}"),
                    ));
                }
            }
            out
        }
        Event::DisputeResolved {
            trade,
            dispute_id,
            outcome,
            seller_receives_fen,
            buyer_refund_fen,
            ..
        } => {
            let key = format!("disputes.notify.resolved_{}", outcome.code());
            let args = [
                ("title", trade.listing_title.clone()),
                ("seller_amount", format_yuan(*seller_receives_fen)),
                ("buyer_amount", format_yuan(*buyer_refund_fen)),
            ];
            [trade.buyer_organization_id, trade.seller_organization_id]
                .into_iter()
                .map(|org| {
                    notice(
                        None,
                        Some(org),
                        &key,
                        &args,
                        None,
                        format!("/trades/{}", trade.trade_id),
                        format!("dispute:{dispute_id}:resolved:{org}"),
                    )
                })
                .collect()
        }

        Event::PayoutRecorded {
            trade,
            number,
            payee,
            organization_id,
            amount_fen,
            bank_reference,
        } => vec![notice(
            None,
            Some(*organization_id),
            "payouts.notify.sent",
            &[
                ("title", trade.listing_title.clone()),
                ("number", number.clone()),
                ("amount", format_yuan(*amount_fen)),
                ("reference", bank_reference.clone()),
            ],
            None,
            format!("/trades/{}", trade.trade_id),
            format!("payout:{}:{}", trade.trade_id, payee.code()),
        )],

        Event::BuyerDefaulted {
            trade,
            number,
            buyer_name,
            buyer_exchange,
            timeout,
            reason,
            count,
        } => {
            let key = if *timeout {
                "cancel.notify.timeout"
            } else {
                "cancel.notify.repeated"
            };
            let args = [
                ("org", buyer_name.clone()),
                ("title", trade.listing_title.clone()),
                ("number", number.clone()),
                ("reason", reason.clone()),
                ("count", count.to_string()),
            ];
            let mut out = Vec::new();
            for admin in db::disputes::admins_of(conn, buyer_exchange).await? {
                out.push(notice(
                    Some(admin),
                    None,
                    key,
                    &args,
                    None,
                    "/admin/restrictions".into(),
                    format!("default:{}:{admin}", trade.trade_id),
                ));
            }
            out
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

        Event::Colleague(c) => colleague(c),
        Event::FeeScheduleRejected { .. } => super::fee_notices::notices(event),
        Event::BrokerEngagement(b) => super::brokers::notices(b),
        // Worded in `waiting`.
        Event::Organization(_) | Event::FeeDraftCreated { .. } => vec![],
    })
}

/// A colleague's change, to their organisation; a removed person is also told themselves (they
/// no longer see the organisation's notices).
fn colleague(c: &ColleagueChange) -> Vec<NewNotification<'static>> {
    let role = |r: &OrgRole| [("role_zh", r.name_zh()), ("role_en", r.name_en())];
    let (what, roles) = match &c.what {
        ColleagueWhat::Joined(r) => ("joined", Some(role(r))),
        ColleagueWhat::RoleSet(r) => ("role", Some(role(r))),
        ColleagueWhat::Removed => ("removed", None),
    };
    let args = |lang: Lang| {
        let mut a = vec![
            ("name", c.display_name.clone()),
            ("organization", c.organization_name.clone()),
        ];
        if let Some([(_, zh), (_, en)]) = roles {
            a.push(("role", if lang.is_zh() { zh } else { en }.to_string()));
        }
        a
    };
    let words = |key: &str| {
        (
            i18n::tf(Lang::Zh, key, &args(Lang::Zh)),
            i18n::tf(Lang::En, key, &args(Lang::En)),
        )
    };
    let (title_zh, title_en) = words(&format!("organization.notify.{what}"));
    let mut out = vec![NewNotification {
        user_id: None,
        organization_id: Some(c.organization_id),
        kind: "colleague",
        title_zh,
        title_en,
        body_zh: String::new(),
        body_en: String::new(),
        link: Some("/organization".into()),
        dedupe_key: None,
    }];
    if c.what == ColleagueWhat::Removed {
        let (title_zh, title_en) = words("organization.notify.you_were_removed");
        out.push(NewNotification {
            user_id: Some(c.user_id),
            organization_id: None,
            kind: "colleague",
            title_zh,
            title_en,
            body_zh: String::new(),
            body_en: String::new(),
            link: Some("/account".into()),
            dedupe_key: None,
        });
    }
    out
}

/// A moment as notices show it: Beijing time, to the minute.
fn shanghai(at: chrono::DateTime<chrono::Utc>) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Utc.fix());
    at.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string()
}

pub(super) fn title_price(title: &str, amount_fen: i64) -> [(&'static str, String); 2] {
    [
        ("title", title.to_string()),
        ("price", format_yuan(amount_fen)),
    ]
}

/// A trading notice to every member of `org`, in both languages, from the catalogue keys
/// `trading.notify.<kind>.title` / `.body`.
pub(super) fn trading(
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

/// A notice from the catalogue keys `<key>_title` / `<key>_body` to one user or every member of
/// an organisation; `by` names a catalogue key whose words fill `{by}`.
fn notice(
    user: Option<Uuid>,
    org: Option<Uuid>,
    key: &str,
    args: &[(&str, String)],
    by: Option<&str>,
    link: String,
    dedupe_key: String,
) -> NewNotification<'static> {
    let words = |lang: Lang, part: &str| {
        let mut a: Vec<(&str, String)> = args.to_vec();
        if let Some(by) = by {
            a.push(("by", i18n::t(lang, by).to_string()));
        }
        i18n::tf(lang, &format!("{key}_{part}"), &a)
    };
    NewNotification {
        user_id: user,
        organization_id: org,
        kind: "trade",
        title_zh: words(Lang::Zh, "title"),
        title_en: words(Lang::En, "title"),
        body_zh: words(Lang::Zh, "body"),
        body_en: words(Lang::En, "body"),
        link: Some(link),
        dedupe_key: Some(dedupe_key),
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
        for what in NOTES {
            keys.push(format!("trading.notify.note.{what}"));
        }
        for what in TRADE_STATES {
            keys.push(format!("settlement.notify.{what}_title"));
            keys.push(format!("settlement.notify.{what}_body"));
        }
        for key in [
            "disputes.notify.opened_title",
            "disputes.notify.opened_body",
            "disputes.notify.queue_title",
            "disputes.notify.queue_body",
            "disputes.notify.resolved_seller_title",
            "disputes.notify.resolved_seller_body",
            "disputes.notify.resolved_buyer_title",
            "disputes.notify.resolved_buyer_body",
            "disputes.notify.resolved_split_title",
            "disputes.notify.resolved_split_body",
            "payouts.notify.sent_title",
            "payouts.notify.sent_body",
            "cancel.notify.repeated_title",
            "cancel.notify.repeated_body",
            "cancel.notify.timeout_title",
            "cancel.notify.timeout_body",
            "settlement.notify.restricted_title",
            "settlement.notify.restricted_body",
            "settlement.notify.lifted_title",
            "organization.notify.joined",
            "organization.notify.role",
            "organization.notify.removed",
            "organization.notify.you_were_removed",
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
