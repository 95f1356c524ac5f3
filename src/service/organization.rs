//! Colleagues in one organisation: its people and their roles, invitations (a link that works once,
//! for 7 days, for its e-mail address only), joining through one, role changes and removal.
//!
//! Only an owner invites, sets roles and removes; the organisation always keeps an owner. Each use
//! case locks the organisation's row first, so that two owners demoting each other at once cannot
//! leave it without one, and checks the caller's own role again under that lock (a colleague removed
//! or demoted a moment ago is refused). Every change is in the audit log under the person who made
//! it, and the organisation hears of it (`events::Event::Colleague`) in the same transaction.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::{password, token, CurrentUser};
use crate::db;
use crate::db::invitations::InvitationRow;
use crate::domain::codes::{OrgRole, Role};
use crate::domain::error::FieldErrors;
use crate::domain::organization::{self as rules, Change, Invitation, InvitationProblem};
use crate::error::{Error, OnConstraint, Result};
use crate::service::accounts::{self, OrgView, Registered, UserView};
use crate::service::admin::audit;
use crate::service::events::{self, ColleagueChange, ColleagueWhat, Event};
use crate::service::AppState;

/// The prefix of an invitation link's secret.
pub const TOKEN_PREFIX: &str = "inv_";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    /// owner | member
    pub role: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Members {
    pub items: Vec<MemberView>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct InviteInput {
    pub email: String,
    /// owner | member
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RoleInput {
    /// owner | member
    pub role: String,
}

/// A new invitation: `token` is shown this once (the link is `/join/{token}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvitationCreated {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// An invitation not used yet, as its organisation's owners see it (without its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    /// The display name of the owner who invited.
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitations {
    pub items: Vec<InvitationView>,
}

/// What the invitee sees on `/join/{token}` before joining.
#[derive(Debug, Clone)]
pub struct InvitationPreview {
    pub organization: OrgView,
    pub email: String,
    pub role: OrgRole,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
}

impl From<&db::users::UserRow> for MemberView {
    fn from(u: &db::users::UserRow) -> Self {
        MemberView {
            user_id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.org_role.clone().unwrap_or_default(),
        }
    }
}

impl From<&InvitationRow> for InvitationView {
    fn from(i: &InvitationRow) -> Self {
        InvitationView {
            id: i.id,
            email: i.email.clone(),
            role: i.role.clone(),
            invited_by: i.created_by_name.clone(),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// 409 `invitation_invalid`, saying why in `reason` (`unknown`, `used`, `revoked`, `expired`,
/// `other_email`).
pub fn invalid(p: InvitationProblem) -> Error {
    Error::Conflict {
        code: "invitation_invalid",
        args: Vec::new(),
        extra: Some(serde_json::json!({ "reason": p.code() })),
    }
}

fn problem_of(row: &InvitationRow) -> Invitation<'_> {
    Invitation {
        email: &row.email,
        expires_at: row.expires_at,
        accepted: row.accepted_at.is_some(),
        revoked: row.revoked_at.is_some(),
    }
}

fn role_of(row: &InvitationRow) -> Result<OrgRole> {
    OrgRole::parse(&row.role)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown role {}", row.role)))
}

fn parse_role(text: &str, path: &str, errs: &mut FieldErrors) -> Option<OrgRole> {
    let role = OrgRole::parse(text.trim());
    if role.is_none() {
        errs.push(path, "err.code.unknown", vec![("value", text.to_string())]);
    }
    role
}

/// Locks the caller's organisation and checks, under the lock, that they still own it: their
/// organisation's id, or 403 `organization_required` / `owner_required`.
async fn lock_as_owner(conn: &mut PgConnection, user: &CurrentUser) -> Result<Uuid> {
    user.require_person()?;
    let org = user.require_org()?;
    db::organizations::get_for_update(conn, org)
        .await?
        .ok_or(Error::Forbidden("organization_required"))?;
    let me = db::users::member_for_update(conn, org, user.id)
        .await?
        .ok_or(Error::Forbidden("organization_required"))?;
    if me.org_role.as_deref() != Some(OrgRole::Owner.code()) {
        return Err(Error::Forbidden("owner_required"));
    }
    Ok(org)
}

async fn org_name(conn: &mut PgConnection, org: Uuid) -> Result<String> {
    Ok(db::organizations::get(conn, org)
        .await?
        .ok_or(Error::NotFound)?
        .name)
}

/// The caller's colleagues (themselves included), owners first.
#[tracing::instrument(skip_all)]
pub async fn members(state: &AppState, user: &CurrentUser) -> Result<Members> {
    let org = user.require_org()?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::users::members_of(&mut conn, org).await?;
    Ok(Members {
        items: rows.iter().map(MemberView::from).collect(),
    })
}

/// An owner invites a colleague by e-mail address: a link that works once, for 7 days, for that
/// address only. An earlier unused invitation to the same address stops working.
#[tracing::instrument(skip_all)]
pub async fn invite(
    state: &AppState,
    user: &CurrentUser,
    input: InviteInput,
) -> Result<InvitationCreated> {
    // Who may is decided before what was sent is looked at (a member learns 403, not 422).
    user.require_org()?;
    if !user.is_owner() {
        return Err(Error::Forbidden("owner_required"));
    }
    let mut errs = FieldErrors::default();
    if !accounts::valid_email(&input.email) {
        errs.push("email", "err.email.invalid", vec![]);
    }
    let role = parse_role(&input.role, "role", &mut errs);
    errs.into_result()?;
    let role = role.ok_or_else(|| Error::Validation(FieldErrors::default()))?;
    let email = input.email.trim().to_string();
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let org = lock_as_owner(&mut tx, user).await?;
    let members = db::users::members_of(&mut tx, org).await?;
    if members.iter().any(|m| rules::same_email(&m.email, &email)) {
        return Err(Error::conflict("already_member"));
    }
    db::invitations::revoke_for_email(&mut tx, org, &email, user.id, now).await?;
    let secret = token::generate(TOKEN_PREFIX);
    let id = Uuid::now_v7();
    let expires_at = rules::invitation_expires(now);
    db::invitations::insert(
        &mut tx,
        &db::invitations::NewInvitation {
            id,
            organization_id: org,
            email: &email,
            role: role.code(),
            token_hash: &token::hash(&secret),
            created_by: user.id,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    let after = serde_json::json!({ "organization_id": org, "email": email, "role": role.code() });
    audit(
        &mut tx,
        user,
        "organization.invite",
        "organization_invitation",
        id,
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(InvitationCreated {
        id,
        email,
        role: role.code().to_string(),
        token: secret,
        expires_at,
    })
}

/// The organisation's invitations that can still be used (owners only).
pub async fn invitations(state: &AppState, user: &CurrentUser) -> Result<Invitations> {
    let org = user.require_org()?;
    if !user.is_owner() {
        return Err(Error::Forbidden("owner_required"));
    }
    let mut conn = state.pool.acquire().await?;
    let rows = db::invitations::pending(&mut conn, org, state.clock.now()).await?;
    Ok(Invitations {
        items: rows.iter().map(InvitationView::from).collect(),
    })
}

/// An owner revokes an invitation not used yet (404 for another organisation's, 409
/// `invitation_invalid` for one used or revoked already).
#[tracing::instrument(skip(state, user))]
pub async fn revoke(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<()> {
    user.require_org()?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let org = lock_as_owner(&mut tx, user).await?;
    let inv = db::invitations::get_for_update(&mut tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    if inv.accepted_at.is_some() {
        return Err(invalid(InvitationProblem::Used));
    }
    if inv.revoked_at.is_some() {
        return Err(invalid(InvitationProblem::Revoked));
    }
    db::invitations::set_revoked(&mut tx, id, user.id, now).await?;
    let before = serde_json::json!({ "email": inv.email, "role": inv.role });
    audit(
        &mut tx,
        user,
        "organization.invitation_revoke",
        "organization_invitation",
        id,
        Some(before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An owner sets a colleague's role (never taking the last owner's away: 409 `last_owner`).
#[tracing::instrument(skip(state, user, input))]
pub async fn set_role(
    state: &AppState,
    user: &CurrentUser,
    target: Uuid,
    input: RoleInput,
) -> Result<MemberView> {
    user.require_org()?;
    if !user.is_owner() {
        return Err(Error::Forbidden("owner_required"));
    }
    let mut errs = FieldErrors::default();
    let role = parse_role(&input.role, "role", &mut errs);
    errs.into_result()?;
    let role = role.ok_or_else(|| Error::Validation(FieldErrors::default()))?;
    let mut tx = state.pool.begin().await?;
    let org = lock_as_owner(&mut tx, user).await?;
    let row = db::users::member_for_update(&mut tx, org, target)
        .await?
        .ok_or(Error::NotFound)?;
    let current = row.org_role.as_deref().and_then(OrgRole::parse);
    let current =
        current.ok_or_else(|| Error::Internal(anyhow::anyhow!("member {target} has no role")))?;
    if current != role {
        let owners = usize::try_from(db::users::count_owners(&mut tx, org).await?).unwrap_or(0);
        if !rules::keeps_an_owner(owners, current, Change::SetRole(role)) {
            return Err(Error::conflict("last_owner"));
        }
        db::users::set_org_role(&mut tx, target, role.code()).await?;
        audit(
            &mut tx,
            user,
            "organization.member_role",
            "user",
            target,
            Some(serde_json::json!({ "organization_id": org, "role": current.code() })),
            Some(serde_json::json!({ "organization_id": org, "role": role.code() })),
        )
        .await?;
        let name = org_name(&mut tx, org).await?;
        let change = colleague(org, name, &row, ColleagueWhat::RoleSet(role));
        events::emit(&mut tx, &Event::Colleague(change)).await?;
    }
    let after = db::users::get(&mut tx, target)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(MemberView::from(&after))
}

/// An owner removes a colleague (themselves too, while another owner remains). From the commit on,
/// the person's sessions and tokens are gone and they belong to no organisation: nothing they send
/// acts for it.
#[tracing::instrument(skip(state, user))]
pub async fn remove(state: &AppState, user: &CurrentUser, target: Uuid) -> Result<()> {
    user.require_org()?;
    if !user.is_owner() {
        return Err(Error::Forbidden("owner_required"));
    }
    let mut tx = state.pool.begin().await?;
    let org = lock_as_owner(&mut tx, user).await?;
    let row = db::users::member_for_update(&mut tx, org, target)
        .await?
        .ok_or(Error::NotFound)?;
    let role = row.org_role.as_deref().and_then(OrgRole::parse);
    let role =
        role.ok_or_else(|| Error::Internal(anyhow::anyhow!("member {target} has no role")))?;
    let owners = usize::try_from(db::users::count_owners(&mut tx, org).await?).unwrap_or(0);
    if !rules::keeps_an_owner(owners, role, Change::Remove) {
        return Err(Error::conflict("last_owner"));
    }
    db::users::leave_org(&mut tx, target).await?;
    audit(
        &mut tx,
        user,
        "organization.member_remove",
        "user",
        target,
        Some(
            serde_json::json!({ "organization_id": org, "role": role.code(), "email": row.email }),
        ),
        None,
    )
    .await?;
    let name = org_name(&mut tx, org).await?;
    let change = colleague(org, name, &row, ColleagueWhat::Removed);
    events::emit(&mut tx, &Event::Colleague(change)).await?;
    tx.commit().await?;
    Ok(())
}

fn colleague(
    org: Uuid,
    organization_name: String,
    row: &db::users::UserRow,
    what: ColleagueWhat,
) -> ColleagueChange {
    ColleagueChange {
        organization_id: org,
        organization_name,
        user_id: row.id,
        display_name: row.display_name.clone(),
        what,
    }
}

/// What the link `/join/{token}` invites to, or why it cannot be used (409 `invitation_invalid`).
pub async fn preview(state: &AppState, secret: &str) -> Result<InvitationPreview> {
    let mut conn = state.pool.acquire().await?;
    let row = find(&mut conn, secret, false).await?;
    rules::check_open(&problem_of(&row), state.clock.now()).map_err(invalid)?;
    let org = db::organizations::get(&mut conn, row.organization_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(InvitationPreview {
        organization: OrgView::from(&org),
        email: row.email.clone(),
        role: role_of(&row)?,
        invited_by: row.created_by_name.clone(),
        expires_at: row.expires_at,
    })
}

async fn find(conn: &mut PgConnection, secret: &str, lock: bool) -> Result<InvitationRow> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        return Err(invalid(InvitationProblem::Unknown));
    }
    db::invitations::by_token(conn, &token::hash(secret), lock)
        .await?
        .ok_or(invalid(InvitationProblem::Unknown))
}

/// Uses the invitation inside `tx` for `user` (just made, or signed in), who must be the person it
/// was made out to; writes the audit row and tells the organisation.
async fn use_invitation(
    tx: &mut PgConnection,
    row: &InvitationRow,
    user: &db::users::UserRow,
    now: DateTime<Utc>,
) -> Result<()> {
    db::invitations::set_accepted(tx, row.id, user.id, now).await?;
    let actor = CurrentUser::from(user);
    audit(
        tx,
        &actor,
        "organization.join",
        "organization_invitation",
        row.id,
        None,
        Some(serde_json::json!({ "organization_id": row.organization_id, "role": row.role })),
    )
    .await?;
    let name = org_name(tx, row.organization_id).await?;
    let change = colleague(
        row.organization_id,
        name,
        user,
        ColleagueWhat::Joined(role_of(row)?),
    );
    events::emit(tx, &Event::Colleague(change)).await?;
    Ok(())
}

/// A new account made through an invitation (`POST /auth/register` with `invitation`): it joins
/// the inviting organisation with the invited role. Called by `accounts::register` once the input
/// is valid.
pub(crate) async fn register_invited(
    state: &AppState,
    email: &str,
    display_name: &str,
    password_text: String,
    secret: &str,
) -> Result<Registered> {
    let now = state.clock.now();
    // A link that cannot be used is said so before a password is hashed for nothing.
    {
        let mut conn = state.pool.acquire().await?;
        let row = find(&mut conn, secret, false).await?;
        rules::check_use(&problem_of(&row), email, now).map_err(invalid)?;
    }
    let hash = password::hash(password_text)
        .await
        .map_err(accounts::hashing_failed)?;
    let mut tx = state.pool.begin().await?;
    let row = find(&mut tx, secret, true).await?;
    rules::check_use(&problem_of(&row), email, now).map_err(invalid)?;
    let role = role_of(&row)?;
    let user_id = Uuid::now_v7();
    db::users::insert(
        &mut tx,
        &db::users::NewUser {
            id: user_id,
            email,
            password_hash: &hash,
            display_name,
            role: Role::Member.code(),
            organization_id: Some(row.organization_id),
            org_role: Some(role.code()),
            admin_exchange: None,
        },
    )
    .await
    .on_constraint("users_email_key", "duplicate_email")?;
    let user = db::users::get(&mut tx, user_id)
        .await?
        .ok_or(Error::NotFound)?;
    use_invitation(&mut tx, &row, &user, now).await?;
    let org = db::organizations::get(&mut tx, row.organization_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(Registered {
        user: UserView::from(&user),
        organization: OrgView::from(&org),
    })
}

/// A signed-in member without an organisation (a colleague removed earlier, say) joins through an
/// invitation made out to their address. Someone who belongs to an organisation already gets 409
/// `already_member` (this one) or `already_in_organization` (another: its owner removes them first).
#[tracing::instrument(skip_all)]
pub async fn accept(state: &AppState, user: &CurrentUser, secret: &str) -> Result<OrgView> {
    user.require_person()?;
    if user.role != Role::Member {
        return Err(Error::Forbidden("organization_required"));
    }
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let row = find(&mut tx, secret, true).await?;
    rules::check_use(&problem_of(&row), &user.email, now).map_err(invalid)?;
    db::organizations::get_for_update(&mut tx, row.organization_id)
        .await?
        .ok_or(Error::NotFound)?;
    let me = db::users::get(&mut tx, user.id)
        .await?
        .ok_or(Error::Unauthorized("invalid_token"))?;
    match me.organization_id {
        Some(o) if o == row.organization_id => return Err(Error::conflict("already_member")),
        Some(_) => return Err(Error::conflict("already_in_organization")),
        None => {}
    }
    if !db::users::join_org(&mut tx, user.id, row.organization_id, &row.role).await? {
        return Err(Error::conflict("already_in_organization"));
    }
    let me = db::users::get(&mut tx, user.id)
        .await?
        .ok_or(Error::Unauthorized("invalid_token"))?;
    use_invitation(&mut tx, &row, &me, now).await?;
    let org = db::organizations::get(&mut tx, row.organization_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(OrgView::from(&org))
}
