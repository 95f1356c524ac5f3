//! Who hears of a fee schedule decision, in which words (`fees.notify.<what>_title|_body`).
use crate::db::notifications::NewNotification;
use crate::i18n::{self, Lang};

use super::Event;

/// The notices of `event` (none for other events): a rejected draft's reason to its drafter.
pub(super) fn notices(event: &Event) -> Vec<NewNotification<'static>> {
    let Event::FeeScheduleRejected {
        schedule_id,
        working_title,
        drafter_id: Some(drafter),
        reason,
    } = event
    else {
        return vec![];
    };
    let args = |lang: Lang| {
        vec![
            (
                "name",
                crate::domain::schedule_name::in_lang(working_title, lang.is_zh()),
            ),
            ("reason", reason.clone()),
        ]
    };
    let words = |key: &str| {
        (
            i18n::tf(Lang::Zh, key, &args(Lang::Zh)),
            i18n::tf(Lang::En, key, &args(Lang::En)),
        )
    };
    let (title_zh, title_en) = words("fees.notify.rejected_title");
    let (body_zh, body_en) = words("fees.notify.rejected_body");
    vec![NewNotification {
        user_id: Some(*drafter),
        organization_id: None,
        kind: "fee_schedule_rejected",
        title_zh,
        title_en,
        body_zh,
        body_en,
        link: Some(format!("/admin/fees/{schedule_id}")),
        dedupe_key: Some(format!("fee_schedule:{schedule_id}:rejected")),
    }]
}
