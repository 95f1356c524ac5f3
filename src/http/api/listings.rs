//! Listings (科技成果): drafting, the review workflow, and the public search.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{Error, Result};
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiQuery, ApiUser, MaybeApiUser};
use crate::http::state::AppState;
use crate::service::listings::{
    self, ListingInput, ListingPatch, ListingView, ReviewInput, SearchParams,
};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search, create))
        .routes(routes!(get_listing, update))
        .routes(routes!(submit))
        .routes(routes!(withdraw))
        .routes(routes!(mine))
        .routes(routes!(review))
        .routes(routes!(admin_queue))
}

/// Drafts a listing for the caller's organisation (verification is not needed to draft).
#[utoipa::path(post, operation_id = "create_listing", path = "/api/v1/listings", tag = "listings", security(("bearer" = [])),
    request_body = ListingInput,
    responses((status = 201, body = ListingView), (status = 403, body = ErrorBody, description = "`organization_required`"), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<ListingInput>,
) -> Result<(StatusCode, Json<ListingView>)> {
    Ok(created(listings::create(&state.pool, &user, input).await?))
}

/// Searches listed listings. `q` matches title, summary, description, keywords and IP numbers
/// (Chinese by any run of two or more characters, English words case-insensitively, patent numbers in any
/// spelling). Default sort: `relevance` with `q` (title and IP-number hits first: ts_rank with weights
/// title 1.0, summary/keywords 0.4, description 0.1; then newest), else `newest`. Totals are exact. Broad
/// searches (500 or more matches) are served from a cache in the server that every change to the listings
/// invalidates (a database-side generation checked on each search), so they stay exact too.
#[utoipa::path(get, operation_id = "search_listings", path = "/api/v1/listings", tag = "listings", security((), ("bearer" = [])), params(SearchParams),
    responses((status = 200, body = Page<ListingView>), (status = 400, body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    MaybeApiUser(user): MaybeApiUser,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> Result<Response> {
    if user.is_none() {
        // Anonymous answers are the same for everyone: served whole while still current.
        let bytes = listings::search_answer(&state.read_pool, &q, |page| {
            serde_json::to_vec(page).map_err(|e| Error::Internal(e.into()))
        })
        .await?;
        return Ok((
            [(header::CONTENT_TYPE, "application/json")],
            Bytes::from_owner(bytes),
        )
            .into_response());
    }
    Ok(Json(listings::search(&state.read_pool, user.as_ref(), &q).await?).into_response())
}

/// One listing. Listed and sold ones are public; drafts and listings pending review, rejected or withdrawn
/// only to the owner's organisation and admins (404 to others).
#[utoipa::path(get, operation_id = "get_listing", path = "/api/v1/listings/{id}", tag = "listings", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ListingView), (status = 404, body = ErrorBody)))]
async fn get_listing(
    State(state): State<AppState>,
    MaybeApiUser(user): MaybeApiUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    if user.is_none() {
        // A stranger's answer is the same for everyone: kept with the listing's row while current.
        let bytes = listings::public_answer(&state.pool, id, |view| {
            serde_json::to_vec(view).map_err(|e| Error::Internal(e.into()))
        })
        .await?;
        return Ok((
            [(header::CONTENT_TYPE, "application/json")],
            Bytes::from_owner(bytes),
        )
            .into_response());
    }
    Ok(Json(listings::get(&state.pool, user.as_ref(), id).await?).into_response())
}

/// Changes a draft or rejected listing (any subset of the fields; `pricing` is replaced whole).
#[utoipa::path(patch, operation_id = "update_listing", path = "/api/v1/listings/{id}", tag = "listings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ListingPatch,
    responses((status = 200, body = ListingView), (status = 403, body = ErrorBody, description = "`organization_required`, `not_listing_owner`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`listing_not_editable`, `duplicate_ip`"), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ListingPatch>,
) -> Result<Json<ListingView>> {
    let id = parse_id(&id)?;
    Ok(Json(listings::update(&state.pool, &user, id, patch).await?))
}

/// Submits a draft or rejected listing for review (verified, unrestricted organisation).
#[utoipa::path(post, operation_id = "submit_listing", path = "/api/v1/listings/{id}/submit", tag = "listings", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ListingView), (status = 403, body = ErrorBody, description = "`organization_unverified`, `organization_restricted`, `not_listing_owner`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`listing_not_submittable`, `duplicate_ip`")))]
async fn submit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ListingView>> {
    let id = parse_id(&id)?;
    Ok(Json(listings::submit(&state.pool, &user, id).await?))
}

/// Withdraws a listing (draft, pending review, listed or rejected).
#[utoipa::path(post, operation_id = "withdraw_listing", path = "/api/v1/listings/{id}/withdraw", tag = "listings", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ListingView), (status = 403, body = ErrorBody, description = "`not_listing_owner`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`listing_not_withdrawable`")))]
async fn withdraw(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ListingView>> {
    let id = parse_id(&id)?;
    Ok(Json(listings::withdraw(&state.pool, &user, id).await?))
}

/// The caller's organisation's listings, all statuses, newest first.
#[utoipa::path(get, operation_id = "my_listings", path = "/api/v1/my/listings", tag = "listings", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<ListingView>), (status = 403, body = ErrorBody, description = "`organization_required`")))]
async fn mine(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<ListingView>>> {
    Ok(Json(listings::mine(&state.pool, &user, page).await?))
}

/// Approves (→ `listed`; an auction opens) or rejects (→ `rejected`, reason required) a listing pending
/// review: only an admin of the listing's home exchange (403 for others).
#[utoipa::path(post, operation_id = "review_listing", path = "/api/v1/admin/listings/{id}/review", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReviewInput,
    responses((status = 200, body = ListingView), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`listing_not_pending`, `duplicate_ip`"), (status = 422, body = ErrorBody)))]
async fn review(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<ListingView>> {
    let id = parse_id(&id)?;
    Ok(Json(listings::review(&state.pool, &user, id, input).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Default `pending_review` (the review queue, oldest first).
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The listings of the admin's exchange in one status (default: waiting for review).
#[utoipa::path(get, operation_id = "admin_listings", path = "/api/v1/admin/listings", tag = "admin", security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, body = Page<ListingView>), (status = 403, body = ErrorBody)))]
async fn admin_queue(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Page<ListingView>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        listings::admin_queue(&state.pool, &user, q.status.as_deref(), page).await?,
    ))
}
