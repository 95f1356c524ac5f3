//! Who hears of a pledge request's steps, in which words (`pledge.notify.<step>.title|body`).
use crate::db::notifications::NewNotification;
use crate::domain::money::format_yuan;
use crate::i18n::{self, Lang};

use super::{PledgeFacts, PledgeStep};

/// Every step's catalogue name (checked by a test).
#[cfg(test)]
pub const STEPS: &[&str] = &[
    "requested",
    "approved",
    "rejected",
    "released",
    "consented",
    "auction_blocked",
];

pub(super) fn notices(p: &PledgeFacts) -> Vec<NewNotification<'static>> {
    let mut args = vec![
        ("title", p.listing_title.clone()),
        ("lender", p.lender_name.clone()),
        ("amount", format_yuan(p.amount_fen)),
    ];
    let pledge_link = format!("/finance/pledges/{}", p.request_id);
    let (step, to): (&str, Vec<(uuid::Uuid, String)>) = match &p.step {
        PledgeStep::Requested => (
            "requested",
            vec![(p.lender_organization_id, pledge_link.clone())],
        ),
        PledgeStep::Approved { registration_no } => {
            args.push(("registration_no", registration_no.clone()));
            ("approved", vec![(p.owner_organization_id, pledge_link)])
        }
        PledgeStep::Rejected { reason } => {
            args.push(("reason", reason.clone()));
            ("rejected", vec![(p.owner_organization_id, pledge_link)])
        }
        PledgeStep::Released => ("released", vec![(p.owner_organization_id, pledge_link)]),
        PledgeStep::Consented { mode } => {
            args.push(("mode", mode.clone()));
            ("consented", vec![(p.owner_organization_id, pledge_link)])
        }
        PledgeStep::AuctionBlocked { winner } => {
            let link = format!("/listings/{}", p.listing_id);
            (
                "auction_blocked",
                vec![(p.owner_organization_id, link.clone()), (*winner, link)],
            )
        }
    };
    let title = format!("pledge.notify.{step}.title");
    let body = format!("pledge.notify.{step}.body");
    to.into_iter()
        .map(|(org, link)| NewNotification {
            user_id: None,
            organization_id: Some(org),
            kind: "pledge",
            title_zh: i18n::tf(Lang::Zh, &title, &args),
            title_en: i18n::tf(Lang::En, &title, &args),
            body_zh: i18n::tf(Lang::Zh, &body, &args),
            body_en: i18n::tf(Lang::En, &body, &args),
            link: Some(link),
            dedupe_key: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pledge_notice_has_its_words_in_both_languages() {
        for step in STEPS {
            for part in ["title", "body"] {
                for lang in [Lang::Zh, Lang::En] {
                    let key = format!("pledge.notify.{step}.{part}");
                    assert!(i18n::catalog(lang).contains_key(&key), "{key}");
                }
            }
        }
    }
}
