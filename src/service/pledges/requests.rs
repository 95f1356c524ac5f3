//! Pledge requests: the owner applies; the lender's members see their queue, approve with the
//! 质押登记 number or reject with a reason, later release the pledge, and consent to trades.
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::pledges::PledgeRow;
use crate::domain::codes::{IpType, TransactionMode};
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::pledge::{self, REASON_MAX, REGISTRATION_NO_MAX};
use crate::error::{Error, OnConstraint, Result};
use crate::service::admin::audit;
use crate::service::events::{self, Event, PledgeFacts, PledgeStep};
use crate::service::{guards, AppState, Page, PageQuery};

use super::{pledged, valuation, PledgeView};

/// `POST /listings/{id}/pledge-requests`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PledgeInput {
    /// A verified financial institution.
    pub lender_organization_id: Uuid,
    pub amount_fen: i64,
    /// 1 to 360.
    pub term_months: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ApproveInput {
    /// The 质押登记 registration number (up to 64 characters).
    pub registration_no: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RejectInput {
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ConsentInput {
    /// A transaction mode code (`transfer`, `exclusive_license`, `nonexclusive_license`, …).
    pub trade_mode: String,
}

/// `?role=lender|owner&status=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PledgeQuery {
    /// `owner` (default: the caller's own requests) or `lender` (the caller's queue).
    pub role: Option<String>,
    /// `submitted` | `active` | `rejected` | `released`
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn facts(p: &PledgeRow, step: PledgeStep) -> Event {
    Event::Pledge(PledgeFacts {
        request_id: p.id,
        listing_id: p.listing_id,
        listing_title: p.listing_title.clone(),
        owner_organization_id: p.owner_organization_id,
        lender_organization_id: p.lender_organization_id,
        lender_name: p.lender_name.clone(),
        amount_fen: p.amount_fen,
        step,
    })
}

fn snapshot(p: &PledgeRow) -> serde_json::Value {
    serde_json::json!({"status": p.status, "registration_no": p.registration_no,
                       "consented_modes": p.consented_modes})
}

/// The owner applies to a lender for an amount and a term against a listed patent-type or
/// software listing; the valuation reference is computed now.
pub async fn apply(
    state: &AppState,
    user: &CurrentUser,
    listing_id: Uuid,
    input: PledgeInput,
) -> Result<PledgeView> {
    let org = user.require_org()?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let listing = match db::trading::listing_for_update(&mut tx, listing_id).await? {
        Some(l) if l.status != "draft" || l.organization_id == org => l,
        _ => return Err(Error::NotFound),
    };
    if listing.organization_id != org {
        return Err(Error::Forbidden("not_listing_owner"));
    }
    guards::require_active_org_locked(&mut tx, org).await?;
    let mut errs = FieldErrors::new();
    pledge::check_request(input.amount_fen, input.term_months, &mut errs);
    let lender = db::pledges::lender(&mut tx, input.lender_organization_id).await?;
    if lender.is_none() || input.lender_organization_id == org {
        errs.push("lender_organization_id", "err.pledge.lender", vec![]);
    }
    errs.into_result()?;
    let full = db::listings::get(&mut tx, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    let pledgeable = IpType::parse(&full.ip_type).is_some_and(pledge::pledgeable);
    if full.status != "listed" || !pledgeable {
        return Err(Error::conflict("listing_not_pledgeable"));
    }
    if let Some(active) = db::pledges::active_for_listing(&mut tx, listing_id).await? {
        return Err(pledged(&active));
    }
    let v = valuation::compute(
        &mut tx,
        valuation::Subject {
            listing_id,
            owner_org: org,
            field: &full.field,
            ip_type: &full.ip_type,
            price_fen: full.price_fen,
        },
        now,
    )
    .await?;
    let v = serde_json::to_value(&v).map_err(|e| Error::Internal(e.into()))?;
    let id = Uuid::now_v7();
    db::pledges::insert(
        &mut tx,
        &db::pledges::NewPledge {
            id,
            listing_id,
            owner_org: org,
            lender_org: input.lender_organization_id,
            amount_fen: input.amount_fen,
            // Checked above: 1..=360.
            term_months: i32::try_from(input.term_months).unwrap_or(1),
            valuation: &v,
            created_by: user.id,
            now,
        },
    )
    .await?;
    let row = db::pledges::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit(
        &mut tx,
        user,
        "pledge.request",
        "pledge_request",
        id,
        None,
        Some(snapshot(&row)),
    )
    .await?;
    events::emit(&mut tx, &facts(&row, PledgeStep::Requested)).await?;
    tx.commit().await?;
    PledgeView::from_row(&row)
}

/// One request, to its owner's and its lender's members (404 to anyone else).
pub async fn get(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<PledgeView> {
    let org = user.require_org().map_err(|_| Error::NotFound)?;
    let mut conn = pool.acquire().await?;
    let row = db::pledges::get(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    if row.owner_organization_id != org && row.lender_organization_id != org {
        return Err(Error::NotFound);
    }
    PledgeView::from_row(&row)
}

/// The caller's requests (`role=owner`, the default) or its queue as a lender (`role=lender`).
pub async fn list(pool: &PgPool, user: &CurrentUser, q: &PledgeQuery) -> Result<Page<PledgeView>> {
    let mut errs = FieldErrors::new();
    let as_lender = match q.role.as_deref().map(str::trim) {
        None | Some("") | Some("owner") => false,
        Some("lender") => true,
        Some(other) => {
            errs.push(
                "role",
                "err.code.unknown",
                vec![("value", other.chars().take(40).collect())],
            );
            false
        }
    };
    let status = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = status {
        if ![
            pledge::SUBMITTED,
            pledge::ACTIVE,
            pledge::REJECTED,
            pledge::RELEASED,
        ]
        .contains(&s)
        {
            errs.push(
                "status",
                "err.code.unknown",
                vec![("value", s.chars().take(40).collect())],
            );
        }
    }
    if !errs.0.is_empty() {
        return Err(Error::BadRequest {
            code: "invalid_query",
            fields: Some(errs),
        });
    }
    let (page, per_page) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve_or_400()?;
    let Some(org) = user.organization_id else {
        return Ok(Page {
            items: vec![],
            total: 0,
            page,
            per_page,
        });
    };
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::pledges::list(
        &mut conn,
        org,
        as_lender,
        status,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Page {
        items: rows
            .iter()
            .map(PledgeView::from_row)
            .collect::<Result<_>>()?,
        total,
        page,
        per_page,
    })
}

/// Begins a lender's step: the request (404 unless the caller is its owner or lender; 403
/// `not_lender` for the owner), its listing's row locked, then the request's, read again.
async fn lender_step(conn: &mut PgConnection, user: &CurrentUser, id: Uuid) -> Result<PledgeRow> {
    let org = user.require_org()?;
    let first = db::pledges::get(conn, id).await?.ok_or(Error::NotFound)?;
    if first.lender_organization_id != org {
        return Err(if first.owner_organization_id == org {
            Error::Forbidden("not_lender")
        } else {
            Error::NotFound
        });
    }
    db::trading::listing_for_update(conn, first.listing_id).await?;
    db::pledges::lock(conn, id).await?;
    db::pledges::get(conn, id).await?.ok_or(Error::NotFound)
}

fn require_status(p: &PledgeRow, status: &str, code: &'static str) -> Result<()> {
    if p.status != status {
        return Err(Error::conflict(code));
    }
    Ok(())
}

/// The lender approves with the 质押登记 number: the pledge is active and the listing locked.
pub async fn approve(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: ApproveInput,
) -> Result<PledgeView> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let p = lender_step(&mut tx, user, id).await?;
    guards::require_active_org(&mut tx, p.lender_organization_id).await?;
    let mut errs = FieldErrors::new();
    check_text(
        &input.registration_no,
        "registration_no",
        1,
        REGISTRATION_NO_MAX,
        &mut errs,
    );
    errs.into_result()?;
    require_status(&p, pledge::SUBMITTED, "pledge_not_submitted")?;
    let listing = db::trading::listing(&mut tx, p.listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    if listing.status != "listed" {
        return Err(Error::conflict("listing_not_available"));
    }
    if let Some(active) = db::pledges::active_for_listing(&mut tx, p.listing_id).await? {
        return Err(pledged(&active));
    }
    let reg = input.registration_no.trim();
    db::pledges::approve(&mut tx, id, reg, user.id, now)
        .await
        .on_constraint("pledge_requests_one_active", "ip_pledged")?;
    finish(
        tx,
        user,
        &p,
        "pledge.approve",
        PledgeStep::Approved {
            registration_no: reg.to_string(),
        },
    )
    .await
}

/// The lender rejects a submitted request with a reason.
pub async fn reject(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: RejectInput,
) -> Result<PledgeView> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let p = lender_step(&mut tx, user, id).await?;
    let mut errs = FieldErrors::new();
    check_text(&input.reason, "reason", 1, REASON_MAX, &mut errs);
    errs.into_result()?;
    require_status(&p, pledge::SUBMITTED, "pledge_not_submitted")?;
    let reason = input.reason.trim().to_string();
    db::pledges::reject(&mut tx, id, &reason, user.id, now).await?;
    finish(
        tx,
        user,
        &p,
        "pledge.reject",
        PledgeStep::Rejected { reason },
    )
    .await
}

/// The lender releases an active pledge: the listing trades freely again.
pub async fn release(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<PledgeView> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let p = lender_step(&mut tx, user, id).await?;
    require_status(&p, pledge::ACTIVE, "pledge_not_active")?;
    db::pledges::release(&mut tx, id, now).await?;
    finish(tx, user, &p, "pledge.release", PledgeStep::Released).await
}

/// The lender consents to trades of the pledged listing in one mode (民法典 art. 444).
pub async fn consent(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: ConsentInput,
) -> Result<PledgeView> {
    let mut tx = state.pool.begin().await?;
    let p = lender_step(&mut tx, user, id).await?;
    let Some(mode) = TransactionMode::parse(input.trade_mode.trim()) else {
        let mut errs = FieldErrors::new();
        errs.push(
            "trade_mode",
            "err.code.unknown",
            vec![("value", input.trade_mode.chars().take(40).collect())],
        );
        return Err(Error::Validation(errs));
    };
    require_status(&p, pledge::ACTIVE, "pledge_not_active")?;
    db::pledges::consent(&mut tx, id, mode.code()).await?;
    finish(
        tx,
        user,
        &p,
        "pledge.consent",
        PledgeStep::Consented {
            mode: mode.code().to_string(),
        },
    )
    .await
}

/// Audits the step (before and after), tells the other side, commits; the request as it is now.
async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    user: &CurrentUser,
    before: &PledgeRow,
    action: &str,
    step: PledgeStep,
) -> Result<PledgeView> {
    let after = db::pledges::get(&mut tx, before.id)
        .await?
        .ok_or(Error::NotFound)?;
    audit(
        &mut tx,
        user,
        action,
        "pledge_request",
        before.id,
        Some(snapshot(before)),
        Some(snapshot(&after)),
    )
    .await?;
    events::emit(&mut tx, &facts(&after, step)).await?;
    tx.commit().await?;
    PledgeView::from_row(&after)
}
