//! Who hears of a broker engagement's steps, in which words (`broker.notify.<step>.title|body`):
//! the broker of a proposal; the engaging side's organisation of the broker's answer.
use crate::db::notifications::NewNotification;
use crate::domain::money::format_yuan;
use crate::i18n::{self, Lang};

use super::BrokerFacts;

/// Every step's catalogue name (checked by a test).
#[cfg(test)]
pub const STEPS: &[&str] = &["proposed", "accepted", "declined"];

pub(super) fn notices(b: &BrokerFacts) -> Vec<NewNotification<'static>> {
    let args = vec![
        ("number", b.trade_number.clone()),
        ("broker", b.broker_name.clone()),
        ("amount", format_yuan(b.commission_fen)),
    ];
    let (user, org, link) = match b.step {
        "proposed" => (
            Some(b.broker_user_id),
            None,
            format!("/brokers/{}", b.broker_id),
        ),
        _ => (
            None,
            Some(b.side_organization_id),
            format!("/trades/{}", b.trade_id),
        ),
    };
    let title = format!("broker.notify.{}.title", b.step);
    let body = format!("broker.notify.{}.body", b.step);
    vec![NewNotification {
        user_id: user,
        organization_id: org,
        kind: "broker",
        title_zh: i18n::tf(Lang::Zh, &title, &args),
        title_en: i18n::tf(Lang::En, &title, &args),
        body_zh: i18n::tf(Lang::Zh, &body, &args),
        body_en: i18n::tf(Lang::En, &body, &args),
        link: Some(link),
        dedupe_key: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_broker_notice_has_its_words_in_both_languages() {
        for step in STEPS {
            for part in ["title", "body"] {
                for lang in [Lang::Zh, Lang::En] {
                    let key = format!("broker.notify.{step}.{part}");
                    assert!(i18n::catalog(lang).contains_key(&key), "{key}");
                }
            }
        }
    }
}
