//! Colleagues in one organisation: members and their roles, invitations.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{parse_id, ApiJson, ApiUser};
use crate::http::state::AppState;
use crate::service::organization::{
    self, InvitationCreated, Invitations, InviteInput, MemberView, Members, RoleInput,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(members))
        .routes(routes!(set_role, remove))
        .routes(routes!(invite, invitations))
        .routes(routes!(revoke))
}

/// The people of the caller's organisation with their roles, owners first.
#[utoipa::path(get, path = "/api/v1/organization/members", tag = "organization", security(("bearer" = [])),
    responses((status = 200, body = Members), (status = 403, body = ErrorBody, description = "`organization_required`")))]
async fn members(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Members>> {
    Ok(Json(organization::members(&state, &user).await?))
}

/// Sets a colleague's role (an owner); the organisation always keeps an owner.
#[utoipa::path(patch, path = "/api/v1/organization/members/{user_id}", tag = "organization", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = RoleInput,
    responses((status = 200, body = MemberView), (status = 403, body = ErrorBody, description = "`organization_required`, `owner_required`"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`last_owner`")))]
async fn set_role(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Json<MemberView>> {
    Ok(Json(
        organization::set_role(&state, &user, parse_id(&id)?, input).await?,
    ))
}

/// Removes a colleague (an owner; never the last owner). Their sessions and tokens end at once.
#[utoipa::path(delete, path = "/api/v1/organization/members/{user_id}", tag = "organization", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "`organization_required`, `owner_required`"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`last_owner`")))]
async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    organization::remove(&state, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invites a colleague by e-mail address (an owner). `token` is shown this once: the link
/// `/join/{token}` works once, for 7 days, for that address only. A new invitation to the same
/// address replaces an unused one.
#[utoipa::path(post, path = "/api/v1/organization/invitations", tag = "organization", security(("bearer" = [])),
    request_body = InviteInput,
    responses((status = 201, body = InvitationCreated), (status = 403, body = ErrorBody, description = "`organization_required`, `owner_required`"),
        (status = 409, body = ErrorBody, description = "`already_member`")))]
async fn invite(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<InviteInput>,
) -> Result<(StatusCode, Json<InvitationCreated>)> {
    Ok(created(organization::invite(&state, &user, input).await?))
}

/// The organisation's invitations that can still be used (an owner), newest first.
#[utoipa::path(get, path = "/api/v1/organization/invitations", tag = "organization", security(("bearer" = [])),
    responses((status = 200, body = Invitations), (status = 403, body = ErrorBody, description = "`organization_required`, `owner_required`")))]
async fn invitations(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Invitations>> {
    Ok(Json(organization::invitations(&state, &user).await?))
}

/// Revokes an invitation that was not used yet (an owner): its link stops working.
#[utoipa::path(delete, path = "/api/v1/organization/invitations/{id}", tag = "organization", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "`organization_required`, `owner_required`"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invitation_invalid`")))]
async fn revoke(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    organization::revoke(&state, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
