use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{parse_id, ApiJson, ApiQuery, ApiUser, Ctx, MaybeApiUser};
use crate::http::state::AppState;
use crate::service::demands::{
    self, DemandInput, DemandMatch, DemandQuery, DemandView, ListingMatch, Matches,
};
use crate::service::Page;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one))
        .routes(routes!(close))
        .routes(routes!(demand_matches))
        .routes(routes!(listing_matches))
}

/// Posts a technology demand (verified, unrestricted organisation).
#[utoipa::path(post, operation_id = "create_demand", path = "/api/v1/demands", tag = "demands", security(("bearer" = [])), request_body = DemandInput,
    responses((status = 201, body = DemandView), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`"), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<DemandInput>,
) -> Result<(StatusCode, Json<DemandView>)> {
    Ok(created(
        demands::create(&state.pool, &user, input, ctx.lang).await?,
    ))
}

/// Open demands, newest first; `q` searches Chinese and English like listings.
#[utoipa::path(get, operation_id = "list_demands", path = "/api/v1/demands", tag = "demands", params(DemandQuery),
    responses((status = 200, body = Page<DemandView>), (status = 400, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DemandQuery>,
) -> Result<Json<Page<DemandView>>> {
    Ok(Json(demands::list(&state.read_pool, &q).await?))
}

/// One demand (closed ones only to their organisation and admins).
#[utoipa::path(get, operation_id = "get_demand", path = "/api/v1/demands/{id}", tag = "demands", security((), ("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = DemandView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    MaybeApiUser(user): MaybeApiUser,
    Path(id): Path<String>,
) -> Result<Json<DemandView>> {
    Ok(Json(
        demands::get(&state.pool, user.as_ref(), parse_id(&id)?).await?,
    ))
}

/// Closes a demand (its organisation).
#[utoipa::path(post, operation_id = "close_demand", path = "/api/v1/demands/{id}/close", tag = "demands", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = DemandView), (status = 403, body = ErrorBody, description = "`not_owner`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`demand_closed`")))]
async fn close(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<DemandView>> {
    Ok(Json(
        demands::close(&state.pool, &user, parse_id(&id)?).await?,
    ))
}

/// Listings that fit the demand, best first, with scores and reasons (owner only).
#[utoipa::path(get, path = "/api/v1/demands/{id}/matches", tag = "demands", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Matches<ListingMatch>), (status = 403, body = ErrorBody, description = "`other_exchange`"), (status = 404, body = ErrorBody)))]
async fn demand_matches(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Matches<ListingMatch>>> {
    Ok(Json(
        demands::matches_for_demand_read(&state, &user, parse_id(&id)?, ctx.lang, false).await?,
    ))
}

/// Open demands that fit the listing, best first (owner only).
#[utoipa::path(get, path = "/api/v1/listings/{id}/matches", tag = "demands", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Matches<DemandMatch>), (status = 403, body = ErrorBody, description = "`other_exchange`"), (status = 404, body = ErrorBody)))]
async fn listing_matches(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Matches<DemandMatch>>> {
    Ok(Json(
        demands::matches_for_listing_read(&state, &user, parse_id(&id)?, ctx.lang).await?,
    ))
}
