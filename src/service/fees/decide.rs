//! Maker–checker: an administrator of another exchange than the drafter's approves a draft under
//! its public name, or rejects it with a reason, which the drafter is told in their inbox.
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ScheduleView, NAME_MAX_CHARS, REASON_MAX_CHARS};
use crate::auth::CurrentUser;
use crate::db;
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::schedule_name;
use crate::error::{Error, Result};
use crate::service::admin;
use crate::service::events::{self, Event};

/// Maker–checker: only an administrator of another exchange than the drafter's may decide,
/// never the drafter. (A schedule without a drafter, like the installed v1, is not a draft anyway.)
pub fn may_decide(admin: &CurrentUser, s: &ScheduleView) -> Result<()> {
    let exchange = admin.require_admin()?;
    if let Some(by) = &s.created_by {
        if by.eq_ignore_ascii_case(&admin.email) {
            return Err(Error::Forbidden("fee_schedule_own_draft"));
        }
    }
    if s.created_by_exchange.as_deref() == Some(exchange.code()) {
        return Err(Error::Forbidden("fee_schedule_same_exchange"));
    }
    Ok(())
}

enum Decision<'a> {
    /// Under this public name (checked).
    Approve(Option<&'a str>),
    /// With this reason (checked: required).
    Reject(&'a str),
}

/// The public name a decision gives: the one typed, or the working title's suggestion; 422 at
/// `name` when it is empty, too long or still reads as a draft.
fn public_name(typed: Option<&str>, working_title: &str) -> Result<String> {
    let name = match typed.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => schedule_name::suggestion(working_title),
    };
    let mut errs = FieldErrors::new();
    check_text(&name, "name", 1, NAME_MAX_CHARS, &mut errs);
    if errs.is_empty() && schedule_name::reads_as_draft(&name) {
        errs.push("name", "err.fees.public_name_draft", vec![]);
    }
    errs.into_result()?;
    Ok(name)
}

fn check_reason(reason: Option<&str>) -> Result<&str> {
    let reason = reason.map(str::trim).unwrap_or_default();
    let mut errs = FieldErrors::new();
    check_text(reason, "reason", 1, REASON_MAX_CHARS, &mut errs);
    errs.into_result()?;
    Ok(reason)
}

async fn decide(
    pool: &PgPool,
    admin: &CurrentUser,
    id: Uuid,
    decision: Decision<'_>,
    now: DateTime<Utc>,
) -> Result<ScheduleView> {
    admin.require_admin()?;
    let mut tx = pool.begin().await?;
    // The lock makes concurrent decisions queue: the second one sees the first one's outcome.
    let row = db::fees::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let before = ScheduleView::from(&row);
    if row.created_by == Some(admin.id) {
        return Err(Error::Forbidden("fee_schedule_own_draft"));
    }
    may_decide(admin, &before)?;
    if !before.is_draft() {
        return Err(Error::Conflict {
            code: "fee_schedule_not_draft",
            args: vec![("status", before.status.clone())],
            extra: Some(serde_json::json!({ "status": before.status })),
        });
    }
    let action = match decision {
        Decision::Approve(typed) => {
            let name = public_name(typed, &row.name)?;
            // A moment already past takes effect at approval: no retroactive fees.
            let effective_at = match row.effective_from {
                Some(at) if at > now => at,
                _ => now,
            };
            db::fees::approve(&mut tx, id, admin.id, now, effective_at, &name).await?;
            // Every process's copy of the approved schedules goes at the commit.
            db::fees::notify_changed(&mut tx).await?;
            "fee_schedule.approve"
        }
        Decision::Reject(reason) => {
            db::fees::reject(&mut tx, id, admin.id, now, Some(reason)).await?;
            let rejected = Event::FeeScheduleRejected {
                schedule_id: id,
                working_title: row.name.clone(),
                drafter_id: row.created_by,
                reason: reason.to_string(),
            };
            events::emit(&mut tx, &rejected).await?;
            "fee_schedule.reject"
        }
    };
    let after_row = db::fees::get(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("schedule {id} vanished")))?;
    let after = ScheduleView::from(&after_row);
    admin::audit(
        &mut tx,
        admin,
        action,
        "fee_schedule",
        id,
        Some(serde_json::json!({
            "status": before.status, "effective_from": before.effective_from, "name": before.name,
        })),
        Some(serde_json::json!({
            "status": after.status,
            "name": after.name,
            "effective_from": after.effective_from,
            "decided_at": after.decided_at,
            "reject_reason": after.reject_reason,
        })),
    )
    .await?;
    tx.commit().await?;
    super::cache::invalidate(pool);
    Ok(after)
}

/// Approves a draft (admin of another exchange than the drafter's) under its public name: the one
/// given, or the working title without its drafting notes. Audited.
#[tracing::instrument(skip(pool, admin), fields(admin = %admin.email))]
pub async fn approve(
    pool: &PgPool,
    admin: &CurrentUser,
    id: Uuid,
    public_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ScheduleView> {
    decide(pool, admin, id, Decision::Approve(public_name), now).await
}

/// Rejects a draft (admin of another exchange than the drafter's) with a reason (422 without
/// one); the drafter is told in their inbox. Audited.
#[tracing::instrument(skip(pool, admin, reason), fields(admin = %admin.email))]
pub async fn reject(
    pool: &PgPool,
    admin: &CurrentUser,
    id: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ScheduleView> {
    let reason = check_reason(reason)?;
    decide(pool, admin, id, Decision::Reject(reason), now).await
}
