//! The words of auction and deposit notices (the outbid notice, which the bid's own statement
//! writes, and the deposit notices), beside `inbox.rs`, which decides who is told of what.
use uuid::Uuid;

use super::inbox::{title_price, trading};
use super::DepositFacts;
use crate::db::notifications::{NewNotification, NoticeWords};
use crate::domain::money::format_yuan;
use crate::i18n::{self, Lang};

/// The outbid notice's words for a bid of `amount_fen` on `listing_title`. The bid's own statement
/// writes it to the organisation it took the lead from (`db::trading::take_bid*`), so that it
/// commits with the bid at no extra round trip: the one notice not written by `inbox::send`.
pub fn outbid(listing_id: Uuid, listing_title: &str, amount_fen: i64) -> NoticeWords {
    let args = title_price(listing_title, amount_fen);
    let (title, body) = ("trading.notify.outbid.title", "trading.notify.outbid.body");
    NoticeWords {
        title_zh: i18n::tf(Lang::Zh, title, &args),
        title_en: i18n::tf(Lang::En, title, &args),
        body_zh: i18n::tf(Lang::Zh, body, &args),
        body_en: i18n::tf(Lang::En, body, &args),
        link: format!("/listings/{listing_id}"),
    }
}

/// A deposit notice to `org` (the depositor, or the seller receiving a forfeited deposit).
pub(super) fn deposit(
    d: &DepositFacts,
    org: Uuid,
    kind: &'static str,
    trade_id: Option<Uuid>,
) -> NewNotification<'static> {
    let args = [
        ("title", d.listing_title.clone()),
        ("deposit", format_yuan(d.amount_fen)),
    ];
    let link = match trade_id {
        Some(t) => format!("/trades/{t}"),
        None => format!("/listings/{}", d.listing_id),
    };
    let key = format!(
        "deposit:{}:{}:{kind}:{org}",
        d.listing_id, d.organization_id
    );
    trading(org, kind, &args, link, Some(key))
}
