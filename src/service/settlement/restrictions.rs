//! Credit restrictions: any exchange administrator sets or lifts one for all four exchanges; they
//! expire at their end date.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::settlement as sdb;
use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};
use crate::service::accounts::OrgView;
use crate::service::admin::audit;
use crate::service::events::{self, Event};
use crate::service::trading;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RestrictionInput {
    /// 2–500 characters.
    pub reason: String,
    /// Optional end date (in the future); without it the restriction holds until lifted.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Restriction {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub credit_code: Option<String>,
    pub reason: String,
    pub until: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_by_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by: Option<Uuid>,
}

impl From<sdb::RestrictionRow> for Restriction {
    fn from(r: sdb::RestrictionRow) -> Self {
        Restriction {
            id: r.id,
            organization_id: r.organization_id,
            organization_name: r.organization_name,
            credit_code: r.credit_code,
            reason: r.reason,
            until: r.until,
            created_by: r.created_by,
            created_by_email: r.created_by_email,
            created_at: r.created_at,
            lifted_at: r.lifted_at,
            lifted_by: r.lifted_by,
        }
    }
}

fn validate_restriction(input: &RestrictionInput, now: DateTime<Utc>) -> Result<()> {
    let mut errs = FieldErrors::default();
    let reason = input.reason.trim();
    let n = reason.chars().count();
    if n < 2 {
        errs.push("reason", "err.text.required", vec![("min", "2".into())]);
    } else if n > 500 {
        errs.push("reason", "err.text.too_long", vec![("max", "500".into())]);
    } else if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errs.push("reason", "err.text.control_chars", vec![]);
    }
    if let Some(until) = input.until {
        if until <= now {
            errs.push("until", "err.settlement.until_past", vec![]);
        }
    }
    errs.into_result().map_err(Error::Validation)
}

/// Sets a credit restriction (any exchange admin; it holds in all four exchanges).
#[tracing::instrument(skip(pool, admin, input))]
pub async fn restrict(
    pool: &PgPool,
    admin: &CurrentUser,
    org_id: Uuid,
    input: RestrictionInput,
) -> Result<Restriction> {
    admin.require_admin()?;
    validate_restriction(&input, Utc::now())?;
    let mut tx = pool.begin().await?;
    // The auctions it has bid in first, then the organisation (the market's lock order).
    let auctions = trading::lock_auctions_bid_on_by(&mut tx, org_id).await?;
    let org = db::organizations::get_for_update(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !sdb::active_restrictions_of(&mut tx, org_id)
        .await?
        .is_empty()
    {
        return Err(Error::conflict("organization_already_restricted"));
    }
    let row = sdb::insert_restriction(
        &mut tx,
        Uuid::now_v7(),
        org_id,
        &input.reason,
        input.until,
        admin.id,
    )
    .await?;
    audit(
        &mut tx,
        admin,
        "organization.restrict",
        "organization",
        org_id,
        Some(serde_json::json!({"restricted": false, "name": org.name})),
        Some(serde_json::json!({
            "restricted": true, "restriction_id": row.id, "reason": row.reason, "until": row.until,
        })),
    )
    .await?;
    let restricted = Event::OrganizationRestricted {
        restriction_id: row.id,
        organization_id: org_id,
        reason: row.reason.clone(),
        until: row.until,
    };
    events::emit(&mut tx, &restricted).await?;
    trading::void_bids_of_restricted(&mut tx, &auctions, org_id, row.created_at).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// Lifts the organisation's restriction (any exchange admin); 409 when none is in force.
#[tracing::instrument(skip(pool, admin))]
pub async fn lift(pool: &PgPool, admin: &CurrentUser, org_id: Uuid) -> Result<Restriction> {
    admin.require_admin()?;
    let mut tx = pool.begin().await?;
    db::organizations::get_for_update(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let before = sdb::active_restrictions_of(&mut tx, org_id).await?;
    if before.is_empty() {
        return Err(Error::conflict("organization_not_restricted"));
    }
    let lifted = sdb::lift_restrictions(&mut tx, org_id, admin.id).await?;
    // The expiry job does not take the organisation's lock: a restriction that reached its end
    // date between the read above and the update is no longer in force, as for any other 409.
    let first = lifted
        .into_iter()
        .next()
        .ok_or_else(|| Error::conflict("organization_not_restricted"))?;
    audit(
        &mut tx,
        admin,
        "organization.lift_restriction",
        "organization",
        org_id,
        Some(serde_json::json!({
            "restricted": true,
            "restrictions": before.iter().map(|r| serde_json::json!({"id": r.id, "reason": r.reason, "until": r.until})).collect::<Vec<_>>(),
        })),
        Some(serde_json::json!({"restricted": false, "lifted_at": first.lifted_at})),
    )
    .await?;
    let lifted = Event::RestrictionLifted {
        restriction_id: first.id,
        organization_id: org_id,
    };
    events::emit(&mut tx, &lifted).await?;
    tx.commit().await?;
    Ok(first.into())
}

/// Restrictions in force (any admin).
pub async fn active_restrictions(pool: &PgPool, admin: &CurrentUser) -> Result<Vec<Restriction>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    Ok(sdb::active_restrictions(&mut conn, 500)
        .await?
        .into_iter()
        .map(Restriction::from)
        .collect())
}

/// Stamps restrictions whose end date has passed by `now` as lifted (they stopped applying at that
/// date).
pub async fn expire_restrictions(pool: &PgPool, now: DateTime<Utc>) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let expired = sdb::stamp_expired_restrictions(&mut tx, now).await?;
    for (id, org) in &expired {
        db::audit::insert(
            &mut tx,
            db::audit::NewAudit {
                actor_id: None,
                api_key_id: None,
                actor: "system",
                action: "organization.restriction_expired",
                target_type: "organization",
                target_id: org.to_string(),
                before: Some(serde_json::json!({"restricted": true, "restriction_id": id})),
                after: Some(serde_json::json!({"restricted": false})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(expired.len())
}

/// Organisations of any exchange whose name or credit code contains `q` (at most `limit`, newest
/// first), each with its cancellations of the last 90 days up to `now`: what an admin weighs
/// before restricting (any exchange admin may restrict any organisation).
pub async fn find_organizations(
    pool: &PgPool,
    admin: &CurrentUser,
    q: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<OrgView>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    let mut found: Vec<OrgView> = db::organizations::search_all(&mut conn, q, limit)
        .await?
        .iter()
        .map(OrgView::from)
        .collect();
    super::count_cancellations(&mut conn, &mut found, now).await?;
    Ok(found)
}
