//! The listing workflow: create, edit, submit, withdraw, review (approve or reject), and reading
//! listings (one, mine, the review queue).
use std::sync::Arc;

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::listings::ListingRow;
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::listing::ListingStatus;
use crate::error::{Error, Result};
use crate::service::events::{self, Event};
use crate::service::{guards, Page, PageQuery};

use super::answers::{self, Generations};
use super::details;
use super::search::bad_param;
use super::{
    canonical_numbers, input_of, is_insider, search_changed, validate, view, ListingInput,
    ListingPatch, ListingView, ReviewInput, REASON_MAX,
};

fn status_of(row: &ListingRow) -> Result<ListingStatus> {
    ListingStatus::parse(&row.status)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown listing status {}", row.status)))
}

/// May `viewer` see `row` at all? Drafts only to their owner and admins (API.md); every other
/// listing is public at its address — a buyer's trade or offer keeps pointing at a listing that was
/// later withdrawn. Search shows only `listed` ones, and a reject reason stays with insiders.
pub fn can_see(viewer: Option<&CurrentUser>, row: &ListingRow) -> bool {
    status_of(row).map(|s| s.is_public()).unwrap_or(false) || is_insider(viewer, row)
}

/// The owner's organisation, or 404 (can't see it) / 403 (can see it, not theirs).
fn require_owner(user: &CurrentUser, row: &ListingRow) -> Result<()> {
    if user.organization_id == Some(row.organization_id) {
        return Ok(());
    }
    if can_see(Some(user), row) {
        Err(Error::Forbidden("not_listing_owner"))
    } else {
        Err(Error::NotFound)
    }
}

async fn org_of(conn: &mut PgConnection, org: Uuid) -> Result<db::organizations::OrgRow> {
    db::organizations::get(conn, org)
        .await?
        .ok_or(Error::Forbidden("organization_required"))
}

async fn member_audit(
    conn: &mut PgConnection,
    user: &CurrentUser,
    action: &str,
    id: Uuid,
    before: &str,
    after: &str,
) -> Result<()> {
    db::audit::insert(
        conn,
        db::audit::NewAudit {
            actor_id: user.person_id(),
            api_key_id: user.api_key.as_ref().map(|k| k.id),
            actor: &user.email,
            action,
            target_type: "listing",
            target_id: id.to_string(),
            before: Some(serde_json::json!({ "status": before })),
            after: Some(serde_json::json!({ "status": after })),
        },
    )
    .await?;
    Ok(())
}

async fn reload(conn: &mut PgConnection, id: Uuid, user: &CurrentUser) -> Result<ListingView> {
    let row = db::listings::get(conn, id).await?.ok_or(Error::NotFound)?;
    Ok(view(&row, Some(user)))
}

/// Drafts a listing for the member's organisation (verification not needed to draft).
#[tracing::instrument(skip(pool, user, input), fields(user = %user.id))]
pub async fn create(pool: &PgPool, user: &CurrentUser, input: ListingInput) -> Result<ListingView> {
    let org_id = user.require_org()?;
    let content = validate(&input, Utc::now())?;
    let mut tx = pool.begin().await?;
    let org = org_of(&mut tx, org_id).await?;
    let id = Uuid::now_v7();
    db::listings::insert(
        &mut tx,
        id,
        org_id,
        user.id,
        &org.exchange,
        &org.province,
        &content,
    )
    .await?;
    store_profile(&mut tx, id, &content).await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    Ok(v)
}

/// Changes a draft or rejected listing of the member's organisation; the whole result is re-validated.
#[tracing::instrument(skip(pool, user, patch), fields(user = %user.id))]
pub async fn update(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    patch: ListingPatch,
) -> Result<ListingView> {
    let mut tx = pool.begin().await?;
    // Auction before listing, the market's lock order (the update may rewrite the auction terms).
    db::listings::lock_auction(&mut tx, id).await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    require_owner(user, &row)?;
    let input = patch.apply(input_of(&row));
    let content = validate(&input, Utc::now())?;
    if !status_of(&row)?.can_edit() {
        return Err(Error::conflict("listing_not_editable"));
    }
    db::listings::update_content(&mut tx, id, &content).await?;
    store_profile(&mut tx, id, &content).await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    Ok(v)
}

/// The matching profile of the texts just written (same transaction).
async fn store_profile(
    conn: &mut PgConnection,
    id: Uuid,
    c: &db::listings::ListingContent,
) -> Result<()> {
    super::profiles::store(conn, id, &c.title, &c.summary, &c.description, &c.keywords).await
}

/// 409 `duplicate_ip` when another active listing names one of these patent numbers.
async fn check_duplicate_ip(conn: &mut PgConnection, id: Uuid, canonical: &[String]) -> Result<()> {
    db::listings::lock_ip_numbers(conn, canonical).await?;
    if let Some(other) = db::listings::find_active_with_ip(conn, id, canonical).await? {
        return Err(Error::Conflict {
            code: "duplicate_ip",
            args: Vec::new(),
            extra: Some(serde_json::json!({ "listing_id": other })),
        });
    }
    Ok(())
}

/// Sends a draft or rejected listing for review by its home exchange.
#[tracing::instrument(skip(pool, user), fields(user = %user.id))]
pub async fn submit(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<ListingView> {
    let mut tx = pool.begin().await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    require_owner(user, &row)?;
    guards::require_active_org(&mut tx, row.organization_id).await?;
    let status = status_of(&row)?;
    if status.can_submit() {
        // An auction end may have passed since the draft was saved.
        validate(&input_of(&row), Utc::now())?;
    } else {
        return Err(Error::conflict("listing_not_submittable"));
    }
    let canonical = canonical_numbers(&row.ip_numbers);
    check_duplicate_ip(&mut tx, id, &canonical).await?;
    db::listings::set_submitted(&mut tx, id).await?;
    let submitted = Event::ListingSubmitted {
        listing_id: id,
        organization_id: row.organization_id,
    };
    events::emit(&mut tx, &submitted).await?;
    member_audit(
        &mut tx,
        user,
        "listing.submit",
        id,
        status.code(),
        "pending_review",
    )
    .await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    Ok(v)
}

/// Takes a listing off the market (draft, pending, listed or rejected; not once sold).
#[tracing::instrument(skip(pool, user), fields(user = %user.id))]
pub async fn withdraw(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<ListingView> {
    let mut tx = pool.begin().await?;
    // Lock order of the market: auction before listing (bids take them in that order), so a bid
    // racing a withdrawal neither deadlocks nor slips in after the "no bids" check.
    db::listings::lock_auction(&mut tx, id).await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    require_owner(user, &row)?;
    let status = status_of(&row)?;
    if !status.can_withdraw() {
        return Err(Error::conflict("listing_not_withdrawable"));
    }
    if db::listings::has_live_trade_or_bids(&mut tx, id).await? {
        return Err(Error::conflict("listing_not_withdrawable"));
    }
    db::listings::set_withdrawn(&mut tx, id).await?;
    crate::service::trading::close_offers_of_withdrawn(&mut tx, id, &row.title).await?;
    let refunded =
        crate::service::trading::refund_deposits_of_withdrawn(&mut tx, id, &row.title).await?;
    member_audit(
        &mut tx,
        user,
        "listing.withdraw",
        id,
        status.code(),
        "withdrawn",
    )
    .await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    if refunded {
        if let Err(e) = crate::service::settlement::flush(pool).await {
            tracing::warn!(error = ?e, "ledger flush failed; postings stay pending");
        }
    }
    search_changed(pool).await;
    Ok(v)
}

/// Approves or rejects a pending listing: only an admin of its home exchange.
#[tracing::instrument(skip(pool, admin, input), fields(admin = %admin.id))]
pub async fn review(
    pool: &PgPool,
    admin: &CurrentUser,
    id: Uuid,
    input: ReviewInput,
) -> Result<ListingView> {
    let exchange = admin.require_admin()?;
    admin.require_scope(crate::domain::interconnect::Scope::Review)?;
    let mut tx = pool.begin().await?;
    // Auction before listing, the market's lock order (approval opens the auction).
    db::listings::lock_auction(&mut tx, id).await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if row.exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    let mut errs = FieldErrors::new();
    let approve = match input.decision.trim() {
        "approve" => true,
        "reject" => false,
        other => {
            errs.push(
                "decision",
                "err.code.unknown",
                vec![("value", other.to_string())],
            );
            false
        }
    };
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    if !approve && errs.is_empty() {
        check_text(&reason, "reason", 1, REASON_MAX, &mut errs);
    } else if reason.chars().count() > REASON_MAX {
        errs.push(
            "reason",
            "err.text.too_long",
            vec![("max", REASON_MAX.to_string())],
        );
    }
    errs.into_result()?;
    let status = status_of(&row)?;
    if !status.can_review() {
        return Err(Error::conflict("listing_not_pending"));
    }
    let after = ListingStatus::after_review(approve);
    if approve {
        // An auction whose end has passed while it waited cannot open.
        validate(&input_of(&row), Utc::now())?;
        let canonical = canonical_numbers(&row.ip_numbers);
        check_duplicate_ip(&mut tx, id, &canonical).await?;
        db::listings::set_listed(&mut tx, id, admin.person_id()).await?;
        // Owners of open demands this listing fits well hear of it (once per pair).
        crate::service::demands::on_listing_listed(&mut tx, id).await?;
    } else {
        db::listings::set_rejected(&mut tx, id, admin.person_id(), &reason).await?;
    }
    crate::service::admin::audit(
        &mut tx,
        admin,
        if approve {
            "listing.approve"
        } else {
            "listing.reject"
        },
        "listing",
        id,
        Some(serde_json::json!({ "status": status.code() })),
        Some(serde_json::json!({
            "status": after.code(),
            "title": row.title,
            "reason": if approve { None } else { Some(&reason) },
        })),
    )
    .await?;
    let reviewed = if approve {
        Event::ListingApproved {
            listing_id: id,
            organization_id: row.organization_id,
            title: row.title.clone(),
            exchange,
        }
    } else {
        Event::ListingRejected {
            listing_id: id,
            organization_id: row.organization_id,
            title: row.title.clone(),
            reason: reason.clone(),
        }
    };
    events::emit(&mut tx, &reviewed).await?;
    let v = reload(&mut tx, id, admin).await?;
    tx.commit().await?;
    search_changed(pool).await;
    Ok(v)
}

/// One listing: listed and sold ones to anyone, the others only to the owner and admins (else 404).
pub async fn get(pool: &PgPool, viewer: Option<&CurrentUser>, id: Uuid) -> Result<ListingView> {
    Ok(detail(pool, viewer, id).await?.view)
}

/// A listing as its page shows it: the view (with its pledge and evaluation summary) and the row
/// it was made from (the page's panel, evaluation and documents need no other read of the listing).
#[derive(Debug, Clone)]
pub struct ListingDetail {
    pub view: ListingView,
    pub row: db::listing_detail::ListingDetailRow,
}

/// [`get`], with the row: one statement (`db::listing_detail`), same visibility.
pub async fn detail(
    pool: &PgPool,
    viewer: Option<&CurrentUser>,
    id: Uuid,
) -> Result<ListingDetail> {
    let row = detail_row(pool, id).await?;
    if !can_see(viewer, &row.listing) {
        return Err(Error::NotFound);
    }
    Ok(detail_view(row, viewer))
}

/// The view of a detail row for `viewer` (who may see it).
fn detail_view(
    row: db::listing_detail::ListingDetailRow,
    viewer: Option<&CurrentUser>,
) -> ListingDetail {
    let mut v = view(&row.listing, viewer);
    v.pledge = crate::service::pledges::pledge_of_detail(&row);
    v.evaluation = row
        .evaluation()
        .as_ref()
        .and_then(crate::service::experts::summary_of);
    ListingDetail { view: v, row }
}

/// [`get`] for a stranger (nobody signed in), as the JSON `render` makes of it, kept with the
/// listing's row ([`super::details`]): while the row is current, one statement and no rendering.
pub async fn public_answer<F>(pool: &PgPool, id: Uuid, render: F) -> Result<Arc<[u8]>>
where
    F: FnOnce(&ListingView) -> Result<Vec<u8>>,
{
    let key = detail_key(pool, id);
    let (row, generations) = {
        let mut conn = pool.acquire().await?;
        read_detail(&mut conn, &key, id, |generations| {
            details::answer(&key, generations)
        })
        .await?
    };
    let row = match row {
        Kept::Ready(bytes) => return Ok(bytes),
        Kept::Row(row) => row,
    };
    if !can_see(None, &row.listing) {
        return Err(Error::NotFound);
    }
    let bytes: Arc<[u8]> = render(&detail_view(*row, None).view)?.into();
    details::put_answer(&key, generations, bytes.clone());
    Ok(bytes)
}

/// What [`read_detail`] found: something ready made from a kept row, or the row.
enum Kept<T> {
    Ready(T),
    Row(Box<db::listing_detail::ListingDetailRow>),
}

fn detail_key(pool: &PgPool, id: Uuid) -> String {
    format!("{}|detail|{id}", db::database_key(pool))
}

/// The detail row of `id` and the generations it belongs to: if a copy is kept, the generations are
/// read and `ready` asked first, then the kept row; else (or if the copy is stale) the row is read
/// together with the generations and kept.
async fn read_detail<T>(
    conn: &mut PgConnection,
    key: &str,
    id: Uuid,
    ready: impl FnOnce(Generations) -> Option<T>,
) -> Result<(Kept<T>, Generations)> {
    if details::holds(key) {
        let (search, pages) = db::listing_search::answer_generations(conn).await?;
        let generations = answers::generations(search, pages);
        if let Some(t) = ready(generations) {
            return Ok((Kept::Ready(t), generations));
        }
        if let Some(row) = details::get(key, generations) {
            return Ok((Kept::Row(Box::new(row)), generations));
        }
    }
    let read = db::listing_detail::get_with_generations(conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    let generations = answers::generations(read.search_generation, read.pages_generation);
    details::put(key, generations, read.detail.clone());
    Ok((Kept::Row(Box::new(read.detail)), generations))
}

/// The detail row of listing `id`, kept between requests while nothing in it can have changed
/// ([`super::details`]): one statement, the generations' check when a copy is kept, else the row read
/// with them.
async fn detail_row(pool: &PgPool, id: Uuid) -> Result<db::listing_detail::ListingDetailRow> {
    let key = detail_key(pool, id);
    let mut conn = pool.acquire().await?;
    match read_detail(&mut conn, &key, id, |_| None::<std::convert::Infallible>)
        .await?
        .0
    {
        Kept::Row(row) => Ok(*row),
        Kept::Ready(never) => match never {},
    }
}

/// The raw row, for pages that need more than the view (same visibility as [`get`]).
pub async fn get_row(pool: &PgPool, viewer: Option<&CurrentUser>, id: Uuid) -> Result<ListingRow> {
    let mut conn = pool.acquire().await?;
    let row = db::listings::get(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !can_see(viewer, &row) {
        return Err(Error::NotFound);
    }
    Ok(row)
}

/// The listings of the member's organisation, all statuses, newest first.
pub async fn mine(pool: &PgPool, user: &CurrentUser, page: PageQuery) -> Result<Page<ListingView>> {
    let org = user.require_org()?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) =
        db::listings::list_for_org(&mut conn, org, per_page, (page - 1) * per_page).await?;
    Ok(Page {
        items: rows.iter().map(|r| view(r, Some(user))).collect(),
        total,
        page,
        per_page,
    })
}

/// The admin's exchange's listings in one status (default: the review queue, oldest first).
pub async fn admin_queue(
    pool: &PgPool,
    admin: &CurrentUser,
    status: Option<&str>,
    page: PageQuery,
) -> Result<Page<ListingView>> {
    let exchange = admin.require_admin()?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => ListingStatus::PendingReview,
        Some(s) => ListingStatus::parse(s).ok_or_else(|| bad_param("status", s))?,
    };
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::listings::list_for_exchange(
        &mut conn,
        exchange.code(),
        status.code(),
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Page {
        items: rows.iter().map(|r| view(r, Some(admin))).collect(),
        total,
        page,
        per_page,
    })
}
