//! Exchange administration: verifying organisations, the audit log.
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::error::{Error, Result};
use crate::service::accounts::OrgView;
use crate::service::events::{self, Event, OrganizationStep, OrganizationWhat};
use crate::service::settlement::count_cancellations;
use crate::service::{Page, PageQuery};

/// Writes one audit row for an admin action, inside the caller's transaction.
pub async fn audit(
    conn: &mut PgConnection,
    actor: &CurrentUser,
    action: &str,
    target_type: &str,
    target_id: impl ToString,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    db::audit::insert(
        conn,
        db::audit::NewAudit {
            actor_id: actor.person_id(),
            api_key_id: actor.api_key.as_ref().map(|k| k.id),
            // For a key, `email` reads `api-key:<name> (<id>)`.
            actor: &actor.email,
            action,
            target_type,
            target_id: target_id.to_string(),
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

/// Verifies an organisation filed with the admin's own exchange (403 for another exchange's).
#[tracing::instrument(skip(pool, admin))]
pub async fn verify_organization(
    pool: &PgPool,
    admin: &CurrentUser,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> Result<OrgView> {
    let exchange = admin.require_admin()?;
    admin.require_scope(crate::domain::interconnect::Scope::Review)?;
    let mut tx = pool.begin().await?;
    let before = db::organizations::get_for_update(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if before.exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    if before.verified_at.is_none() {
        db::organizations::set_verified(&mut tx, org_id, admin.person_id()).await?;
        let after = db::organizations::get(&mut tx, org_id)
            .await?
            .ok_or(Error::NotFound)?;
        let verified = Event::Organization(OrganizationStep {
            organization_id: org_id,
            name: after.name.clone(),
            exchange: after.exchange.clone(),
            what: OrganizationWhat::Verified,
        });
        events::emit(&mut tx, &verified).await?;
        audit(
            &mut tx,
            admin,
            "organization.verify",
            "organization",
            org_id,
            Some(serde_json::json!({"verified": false})),
            Some(serde_json::json!({"verified": true, "name": after.name, "exchange": after.exchange})),
        )
        .await?;
        let mut view = [OrgView::from(&after)];
        count_cancellations(&mut tx, &mut view, now).await?;
        tx.commit().await?;
        let [view] = view;
        return Ok(view);
    }
    let mut view = [OrgView::from(&before)];
    count_cancellations(&mut tx, &mut view, now).await?;
    tx.commit().await?;
    let [view] = view;
    Ok(view)
}

/// The longest reason for refusing an organisation.
pub const REFUSAL_MAX_CHARS: usize = 500;

/// Refuses to verify an organisation filed with the admin's own exchange, with a reason its
/// members are told (issue 18); it leaves the verification queue. 409 `organization_verified`
/// once verified. Audited.
#[tracing::instrument(skip(pool, admin, reason))]
pub async fn refuse_organization(
    pool: &PgPool,
    admin: &CurrentUser,
    org_id: Uuid,
    reason: &str,
) -> Result<()> {
    let exchange = admin.require_admin()?;
    admin.require_scope(crate::domain::interconnect::Scope::Review)?;
    let reason = reason.trim();
    let mut errs = crate::domain::error::FieldErrors::new();
    if reason.is_empty() {
        errs.push("reason", "err.text.required", vec![("min", "1".into())]);
    } else if reason.chars().count() > REFUSAL_MAX_CHARS {
        errs.push(
            "reason",
            "err.text.too_long",
            vec![("max", REFUSAL_MAX_CHARS.to_string())],
        );
    }
    errs.into_result()?;
    let mut tx = pool.begin().await?;
    let org = db::organizations::get_for_update(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if org.exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    if !db::organizations::set_refused(&mut tx, org_id, reason).await? {
        return Err(Error::conflict("organization_verified"));
    }
    let refused = Event::Organization(OrganizationStep {
        organization_id: org_id,
        name: org.name.clone(),
        exchange: org.exchange.clone(),
        what: OrganizationWhat::Refused {
            reason: reason.to_string(),
        },
    });
    events::emit(&mut tx, &refused).await?;
    audit(
        &mut tx,
        admin,
        "organization.refuse",
        "organization",
        org_id,
        Some(serde_json::json!({"verified": false})),
        Some(serde_json::json!({"refused": true, "reason": reason, "name": org.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What waits for an administrator: the counts of their exchange's queues (issue 18).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    pub queues: db::waiting::QueueCounts,
    /// Payouts due from the exchange's settlement account.
    pub payouts: i64,
}

impl Waiting {
    pub fn total(&self) -> i64 {
        let q = &self.queues;
        q.organizations + q.listings + q.fee_drafts + q.disputes + self.payouts
    }
}

/// The counts of what waits for `admin` in each queue.
pub async fn waiting(pool: &PgPool, admin: &CurrentUser) -> Result<Waiting> {
    let exchange = admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    let queues = db::waiting::counts(&mut conn, exchange.code(), admin.id).await?;
    let (_, payouts, _) = db::disputes::due(&mut conn, exchange.code(), 0, 0).await?;
    Ok(Waiting { queues, payouts })
}

/// The organisations of the admin's exchange, waiting ones first.
pub async fn organizations(
    pool: &PgPool,
    admin: &CurrentUser,
    only_unverified: bool,
    page: PageQuery,
    now: DateTime<Utc>,
) -> Result<Page<OrgView>> {
    let exchange = admin.require_admin()?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::organizations::list_for_exchange(
        &mut conn,
        exchange.code(),
        only_unverified,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    let mut items: Vec<OrgView> = rows.iter().map(OrgView::from).collect();
    count_cancellations(&mut conn, &mut items, now).await?;
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditItem {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The admin's e-mail.
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// The target's name as people know it (a listing's title, a trade's number…), for pages.
    #[serde(skip)]
    pub target_label: Option<String>,
    /// The name of the organisation the record names, for pages.
    #[serde(skip)]
    pub organization_name: Option<String>,
}

impl From<db::audit::AuditRow> for AuditItem {
    fn from(r: db::audit::AuditRow) -> Self {
        AuditItem {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before: r.before,
            after: r.after,
            target_label: None,
            organization_name: None,
        }
    }
}

pub async fn audit_log(
    pool: &PgPool,
    admin: &CurrentUser,
    target_type: Option<&str>,
    page: PageQuery,
) -> Result<Page<AuditItem>> {
    admin.require_admin()?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) =
        db::audit::list(&mut conn, target_type, per_page, (page - 1) * per_page).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| AuditItem {
                target_label: r.target_label,
                organization_name: r.organization_name,
                ..AuditItem::from(r.row)
            })
            .collect(),
        total,
        page,
        per_page,
    })
}
