//! The inbox: what a person's organisation (and the person) has been told, for the `/inbox` page
//! and `GET /api/v1/notifications`. What is written, and to whom, is `service::events::inbox`'s.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::notifications::NotificationRow;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::service::{Page, PageQuery};

/// `GET /notifications?unread=&page=&per_page=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `true`: unread notices only.
    pub unread: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One notice (API.md "Organisation members and notifications").
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// `outbid`, `auction_won`, `auction_lost`, `auction_sold`, `auction_unsold`, `deposit_paid`,
    /// `deposit_refunded`, `deposit_forfeited`, `deposit_received`, `offer_received`, …,
    /// `trade_paid`, `trade_settled`, `trade_cancelled`, `listing_approved`, `listing_rejected`, …
    pub kind: String,
    /// What happened and what follows, in the request's language.
    pub text: String,
    /// The notice's headline, in the request's language.
    pub title: String,
    /// `listing` | `trade` | `offer` | `demand` | null
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// The API's kind of a stored notice. Older rows (and the settlement notices) store a broader
/// kind; their dedupe key says which state they announce.
pub fn api_kind(kind: &str, dedupe_key: Option<&str>) -> String {
    match kind {
        "listing.approved" => "listing_approved".into(),
        "listing.rejected" => "listing_rejected".into(),
        "trade" => {
            // `trade:{id}:{state}[:{org}]`
            let state = dedupe_key.and_then(|k| k.split(':').nth(2)).unwrap_or("");
            match state {
                "paid" | "settled" | "cancelled" | "delivered" | "payment_due" => {
                    format!("trade_{state}")
                }
                "expired" => "trade_cancelled".into(),
                _ => "trade".into(),
            }
        }
        other => other.to_string(),
    }
}

/// What a notice's link points at: `(subject_type, subject_id)`.
fn subject(link: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(link) = link else {
        return (None, None);
    };
    let mut parts = link.trim_start_matches('/').split('/');
    let kind = match parts.next() {
        Some("listings") => "listing",
        Some("trades") => "trade",
        Some("offers") => "offer",
        Some("demands") => "demand",
        _ => return (None, None),
    };
    match parts.next().and_then(|id| Uuid::parse_str(id).ok()) {
        Some(id) => (Some(kind.into()), Some(id.to_string())),
        None => (None, None),
    }
}

pub fn view(n: &NotificationRow, lang: Lang) -> NotificationView {
    let (title, body) = match lang {
        Lang::Zh => (&n.title_zh, &n.body_zh),
        Lang::En => (&n.title_en, &n.body_en),
    };
    let (subject_type, subject_id) = subject(n.link.as_deref());
    NotificationView {
        id: n.id.to_string(),
        kind: api_kind(&n.kind, n.dedupe_key.as_deref()),
        text: if body.is_empty() {
            title.clone()
        } else {
            body.clone()
        },
        title: title.clone(),
        subject_type,
        subject_id,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

/// A page of the caller's inbox, newest first.
pub async fn list(
    pool: &PgPool,
    user: &CurrentUser,
    query: &InboxQuery,
    lang: Lang,
) -> Result<Page<NotificationView>> {
    let (page, per_page) = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::notifications::page_for_user(
        &mut conn,
        user.id,
        user.organization_id,
        query.unread.unwrap_or(false),
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Page {
        items: rows.iter().map(|n| view(n, lang)).collect(),
        total,
        page,
        per_page,
    })
}

/// Marks one notice of the caller's inbox read; 404 for any other id.
pub async fn mark_read(pool: &PgPool, user: &CurrentUser, id: &str) -> Result<()> {
    let id: i64 = id.trim().parse().map_err(|_| Error::NotFound)?;
    let mut conn = pool.acquire().await?;
    if db::notifications::mark_read(&mut conn, user.id, user.organization_id, id, Utc::now())
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The latest notices of the caller's inbox, for the `/inbox` page.
pub async fn latest(pool: &PgPool, user: &CurrentUser) -> Result<Vec<NotificationRow>> {
    let mut conn = pool.acquire().await?;
    Ok(db::notifications::list_for_user(&mut conn, user.id, user.organization_id, 200).await?)
}

/// Marks the whole inbox read.
pub async fn mark_all_read(pool: &PgPool, user: &CurrentUser) -> Result<()> {
    let mut conn = pool.acquire().await?;
    Ok(db::notifications::mark_all_read(&mut conn, user.id, user.organization_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_map_to_the_api_kinds() {
        let t = "trade:0190b5a4-0000-7000-8000-000000000000";
        for (kind, key, want) in [
            ("outbid", None, "outbid".to_string()),
            ("listing.approved", None, "listing_approved".into()),
            ("trade", Some(format!("{t}:paid:x")), "trade_paid".into()),
            (
                "trade",
                Some(format!("{t}:expired:x")),
                "trade_cancelled".into(),
            ),
            (
                "trade",
                Some(format!("{t}:payment_due")),
                "trade_payment_due".into(),
            ),
            ("trade", None, "trade".into()),
        ] {
            assert_eq!(api_kind(kind, key.as_deref()), want, "{kind} {key:?}");
        }
    }

    #[test]
    fn links_name_their_subject() {
        let id = "0190b5a4-0000-7000-8000-000000000000";
        assert_eq!(
            subject(Some(&format!("/trades/{id}"))),
            (Some("trade".into()), Some(id.into()))
        );
        assert_eq!(subject(Some("/account")), (None, None));
        assert_eq!(subject(Some("/listings/x/matches")), (None, None));
        assert_eq!(subject(None), (None, None));
    }
}
