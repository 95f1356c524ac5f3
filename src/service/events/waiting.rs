//! Notices of the steps that wait on someone (issue 18): an organisation waiting for verification
//! (to its exchange's administrators) and the outcome (to its members, a refusal with its reason);
//! a listing waiting for review (to its exchange's administrators); a fee draft waiting for
//! approval (to the administrators of the other exchanges, who alone may decide it); a bid on an
//! auction (to the seller, written by the bid's own statement: [`seller_bid`]).
//! Written by [`super::inbox::send`], so in the transaction of the change.
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Event, OrganizationStep, OrganizationWhat};
use crate::db;
use crate::db::notifications::{BidNotices, NewNotification, NoticeWords};
use crate::domain::money::format_yuan;
use crate::error::Result;
use crate::i18n::{self, Lang};

/// Every kind of notice written here (their words `waiting.notify.<kind>_title` / `_body` are
/// checked by a test).
pub const KINDS: &[&str] = &[
    "organization_waiting",
    "organization_verified",
    "organization_refused",
    "listing_waiting",
    "fee_draft_waiting",
    "bid_received",
];

/// Emits [`Event::FeeDraftCreated`] (in the draft's transaction `conn`).
pub async fn fee_drafted(
    conn: &mut PgConnection,
    schedule_id: Uuid,
    name: &str,
    exchange: crate::domain::codes::Exchange,
) -> Result<()> {
    let drafted = Event::FeeDraftCreated {
        schedule_id,
        name: name.to_string(),
        exchange,
    };
    super::emit(conn, &drafted).await
}

/// The notices that follow from `event` (none for most events).
pub async fn notices(
    conn: &mut PgConnection,
    event: &Event,
) -> Result<Vec<NewNotification<'static>>> {
    Ok(match event {
        Event::Organization(step) => organization(conn, step).await?,
        Event::ListingSubmitted { listing_id, .. } => {
            let Some((title, exchange)) =
                db::waiting::listing_for_review(conn, *listing_id).await?
            else {
                return Ok(vec![]);
            };
            let args = [("title", title)];
            // A listing returned and submitted again waits again: no dedupe key.
            db::disputes::admins_of(conn, &exchange)
                .await?
                .into_iter()
                .map(|admin| {
                    words(
                        Some(admin),
                        None,
                        "listing_waiting",
                        &args,
                        format!("/admin/listings/{listing_id}"),
                        None,
                    )
                })
                .collect()
        }
        Event::FeeDraftCreated {
            schedule_id,
            name,
            exchange,
        } => {
            let args = [
                ("name", name.clone()),
                ("exchange_zh", exchange.name_zh().to_string()),
                ("exchange_en", exchange.name_en().to_string()),
            ];
            db::waiting::admins_of_other_exchanges(conn, exchange.code())
                .await?
                .into_iter()
                .map(|admin| {
                    words(
                        Some(admin),
                        None,
                        "fee_draft_waiting",
                        &args,
                        format!("/admin/fees/{schedule_id}"),
                        Some(format!("fee_draft:{schedule_id}:{admin}")),
                    )
                })
                .collect()
        }
        _ => vec![],
    })
}

async fn organization(
    conn: &mut PgConnection,
    step: &OrganizationStep,
) -> Result<Vec<NewNotification<'static>>> {
    let org = step.organization_id;
    let mut args = vec![("name", step.name.clone())];
    Ok(match &step.what {
        OrganizationWhat::Registered => db::disputes::admins_of(conn, &step.exchange)
            .await?
            .into_iter()
            .map(|admin| {
                words(
                    Some(admin),
                    None,
                    "organization_waiting",
                    &args,
                    "/admin#orgs".into(),
                    Some(format!("organization:{org}:waiting:{admin}")),
                )
            })
            .collect(),
        OrganizationWhat::Verified => vec![words(
            None,
            Some(org),
            "organization_verified",
            &args,
            "/account".into(),
            Some(format!("organization:{org}:verified")),
        )],
        OrganizationWhat::Refused { reason } => {
            args.push(("reason", reason.clone()));
            vec![words(
                None,
                Some(org),
                "organization_refused",
                &args,
                "/account".into(),
                None,
            )]
        }
    })
}

/// A notice of `kind` to one person (`user`) or every member of `org`, in both languages.
fn words(
    user: Option<Uuid>,
    org: Option<Uuid>,
    kind: &'static str,
    args: &[(&str, String)],
    link: String,
    dedupe_key: Option<String>,
) -> NewNotification<'static> {
    let [title_zh, title_en, body_zh, body_en] = texts(kind, args);
    NewNotification {
        user_id: user,
        organization_id: org,
        kind,
        title_zh,
        title_en,
        body_zh,
        body_en,
        link: Some(link),
        dedupe_key,
    }
}

fn texts(kind: &str, args: &[(&str, String)]) -> [String; 4] {
    let (title, body) = (
        format!("waiting.notify.{kind}_title"),
        format!("waiting.notify.{kind}_body"),
    );
    [
        i18n::tf(Lang::Zh, &title, args),
        i18n::tf(Lang::En, &title, args),
        i18n::tf(Lang::Zh, &body, args),
        i18n::tf(Lang::En, &body, args),
    ]
}

/// The seller's notice of a bid of `amount_fen` on its auction. The bid's own statement writes it
/// (`db::trading::take_bid*`, beside the outbid notice): one notice per auction, which each bid
/// renews (new words, unread again, first in the inbox) under one key ([`bid_notices`]), so a busy
/// auction does not bury the seller's inbox.
pub fn seller_bid(listing_id: Uuid, listing_title: &str, amount_fen: i64) -> NoticeWords {
    let args = [
        ("title", listing_title.to_string()),
        ("price", format_yuan(amount_fen)),
    ];
    let [title_zh, title_en, body_zh, body_en] = texts("bid_received", &args);
    NoticeWords {
        title_zh,
        title_en,
        body_zh,
        body_en,
        link: format!("/listings/{listing_id}"),
    }
}

/// The notices the statement taking a bid of `amount_fen` on `seller`'s auction writes: the
/// outbid notice and the seller's one notice per auction.
pub fn bid_notices(
    listing_id: Uuid,
    listing_title: &str,
    amount_fen: i64,
    seller: Uuid,
) -> BidNotices {
    BidNotices {
        outbid: super::inbox::outbid(listing_id, listing_title, amount_fen),
        seller,
        to_seller: seller_bid(listing_id, listing_title, amount_fen),
        seller_key: format!("auction:{listing_id}:bids"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waiting_notice_has_its_words_in_both_languages() {
        for kind in KINDS {
            for part in ["title", "body"] {
                let key = format!("waiting.notify.{kind}_{part}");
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
}
