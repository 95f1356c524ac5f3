//! Who hears of an expert evaluation's steps, in which words (`experts.notify.<step>.title|body`):
//! an opened panel's experts (each in person, with the link to their scoring form), and at the
//! close the listing's owner and the panel.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::notifications::NewNotification;
use crate::i18n::{self, Lang};

/// What evaluation events carry.
#[derive(Debug, Clone)]
pub struct EvaluationFacts {
    pub evaluation_id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub owner_organization_id: Uuid,
    pub due_at: DateTime<Utc>,
    /// The panel: each expert's user and organisation.
    pub experts: Vec<(Uuid, Option<Uuid>)>,
    pub step: EvaluationStep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvaluationStep {
    /// An administrator opened it: the experts are invited.
    Opened,
    /// It closed with a report (the owner and the panel are told).
    Published,
    /// It closed with fewer than three scores.
    Failed,
}

/// Every step's catalogue name (checked by a test).
#[cfg(test)]
pub const STEPS: &[&str] = &["invited", "published", "failed"];

pub(super) fn notices(e: &EvaluationFacts) -> Vec<NewNotification<'static>> {
    let args = vec![
        ("title", e.listing_title.clone()),
        ("due", e.due_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    ];
    let form = format!("/evaluations/{}", e.evaluation_id);
    let listing = format!("/listings/{}", e.listing_id);
    let (step, kind) = match e.step {
        EvaluationStep::Opened => ("invited", "evaluation_invited"),
        EvaluationStep::Published => ("published", "evaluation_published"),
        EvaluationStep::Failed => ("failed", "evaluation_failed"),
    };
    let title = format!("experts.notify.{step}.title");
    let body = format!("experts.notify.{step}.body");
    let notice = |user_id: Option<Uuid>, org: Option<Uuid>, link: &str| NewNotification {
        user_id,
        organization_id: org,
        kind,
        title_zh: i18n::tf(Lang::Zh, &title, &args),
        title_en: i18n::tf(Lang::En, &title, &args),
        body_zh: i18n::tf(Lang::Zh, &body, &args),
        body_en: i18n::tf(Lang::En, &body, &args),
        link: Some(link.to_string()),
        dedupe_key: None,
    };
    let mut out: Vec<NewNotification<'static>> = e
        .experts
        .iter()
        .map(|(user, org)| {
            let link = if e.step == EvaluationStep::Opened {
                &form
            } else {
                &listing
            };
            notice(Some(*user), *org, link)
        })
        .collect();
    if e.step != EvaluationStep::Opened {
        out.push(notice(None, Some(e.owner_organization_id), &listing));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_evaluation_notice_has_its_words_in_both_languages() {
        for step in STEPS {
            for part in ["title", "body"] {
                for lang in [Lang::Zh, Lang::En] {
                    let key = format!("experts.notify.{step}.{part}");
                    assert!(i18n::catalog(lang).contains_key(&key), "{key}");
                }
            }
        }
    }
}
