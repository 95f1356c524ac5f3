//! Technology finance (API.md "Pledge financing"): pledge requests, and (added) financing products.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use crate::error::Result;
use crate::http::api::ErrorBody;
use crate::http::extract::{parse_id, ApiJson, ApiQuery, ApiUser};
use crate::http::state::AppState;
use crate::service::pledges::{
    self, ApproveInput, ConsentInput, PledgeInput, PledgeQuery, PledgeView, ProductInput,
    ProductView, RejectInput,
};
use crate::service::{Page, PageQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply))
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(release))
        .routes(routes!(consent))
        .routes(routes!(create_product, products))
}

/// The owner of a listed patent-type or software listing applies to a lender; the valuation
/// reference is computed now.
#[utoipa::path(post, operation_id = "apply_pledge", path = "/api/v1/listings/{id}/pledge-requests", tag = "pledges", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = PledgeInput,
    responses((status = 201, body = PledgeView), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`, `not_listing_owner`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`listing_not_pledgeable`, `ip_pledged`"), (status = 422, body = ErrorBody, description = "`validation_failed`: `lender_organization_id` must be a verified financial institution")))]
async fn apply(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PledgeInput>,
) -> Result<(StatusCode, Json<PledgeView>)> {
    let id = parse_id(&id)?;
    Ok((
        StatusCode::CREATED,
        Json(pledges::apply(&state, &user, id, input).await?),
    ))
}

/// The caller's pledge requests (`role=owner`, the default) or its lender's queue (`role=lender`).
#[utoipa::path(get, operation_id = "list_pledges", path = "/api/v1/pledge-requests", tag = "pledges", security(("bearer" = [])),
    params(PledgeQuery),
    responses((status = 200, body = Page<PledgeView>), (status = 400, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<PledgeQuery>,
) -> Result<Json<Page<PledgeView>>> {
    Ok(Json(pledges::list(&state.pool, &user, &q).await?))
}

/// One pledge request (its owner's and its lender's members only).
#[utoipa::path(get, operation_id = "get_pledge", path = "/api/v1/pledge-requests/{id}", tag = "pledges", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PledgeView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PledgeView>> {
    let id = parse_id(&id)?;
    Ok(Json(pledges::get(&state.pool, &user, id).await?))
}

/// The lender approves with the 质押登记 number → `active`: the listing is locked.
#[utoipa::path(post, operation_id = "approve_pledge", path = "/api/v1/pledge-requests/{id}/approve", tag = "pledges", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ApproveInput,
    responses((status = 200, body = PledgeView), (status = 403, body = ErrorBody, description = "`organization_required`, `not_lender`, `organization_unverified`, `organization_restricted`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`pledge_not_submitted`, `listing_not_available`, `ip_pledged`"), (status = 422, body = ErrorBody)))]
async fn approve(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ApproveInput>,
) -> Result<Json<PledgeView>> {
    let id = parse_id(&id)?;
    Ok(Json(pledges::approve(&state, &user, id, input).await?))
}

/// The lender rejects a submitted request with a reason → `rejected`.
#[utoipa::path(post, operation_id = "reject_pledge", path = "/api/v1/pledge-requests/{id}/reject", tag = "pledges", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RejectInput,
    responses((status = 200, body = PledgeView), (status = 403, body = ErrorBody, description = "`organization_required`, `not_lender`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`pledge_not_submitted`"), (status = 422, body = ErrorBody)))]
async fn reject(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RejectInput>,
) -> Result<Json<PledgeView>> {
    let id = parse_id(&id)?;
    Ok(Json(pledges::reject(&state, &user, id, input).await?))
}

/// The lender releases an active pledge → `released`.
#[utoipa::path(post, operation_id = "release_pledge", path = "/api/v1/pledge-requests/{id}/release", tag = "pledges", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PledgeView), (status = 403, body = ErrorBody, description = "`organization_required`, `not_lender`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`pledge_not_active`")))]
async fn release(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PledgeView>> {
    let id = parse_id(&id)?;
    Ok(Json(pledges::release(&state, &user, id).await?))
}

/// The lender consents to trades of the pledged listing in one mode (民法典 art. 444).
#[utoipa::path(post, operation_id = "consent_pledge", path = "/api/v1/pledge-requests/{id}/consent", tag = "pledges", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ConsentInput,
    responses((status = 200, body = PledgeView), (status = 403, body = ErrorBody, description = "`organization_required`, `not_lender`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`pledge_not_active`"), (status = 422, body = ErrorBody)))]
async fn consent(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> Result<Json<PledgeView>> {
    let id = parse_id(&id)?;
    Ok(Json(pledges::consent(&state, &user, id, input).await?))
}

/// A member of a verified financial institution publishes a financing product.
#[utoipa::path(post, path = "/api/v1/financing-products", tag = "pledges", security(("bearer" = [])),
    request_body = ProductInput,
    responses((status = 201, body = ProductView), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`, `not_financial_institution`"), (status = 422, body = ErrorBody)))]
async fn create_product(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<(StatusCode, Json<ProductView>)> {
    Ok((
        StatusCode::CREATED,
        Json(pledges::create_product(&state, &user, input).await?),
    ))
}

/// The financing products of verified financial institutions, newest first (public).
#[utoipa::path(get, path = "/api/v1/financing-products", tag = "pledges",
    params(PageQuery),
    responses((status = 200, body = Page<ProductView>), (status = 400, body = ErrorBody)))]
async fn products(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<ProductView>>> {
    Ok(Json(pledges::products(&state.pool, page).await?))
}
