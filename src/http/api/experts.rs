//! The expert pool and evaluations (API.md "Experts and evaluations"), and (added) deactivating an
//! expert, one evaluation by id.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::ErrorBody;
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiQuery, ApiUser};
use crate::http::state::AppState;
use crate::service::experts::{
    self, EvaluationInput, EvaluationView, ExpertInput, ExpertQuery, ExpertView, ScoreInput,
    SuggestQuery, Suggestion,
};
use crate::service::Page;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(directory))
        .routes(routes!(deactivate))
        .routes(routes!(suggest))
        .routes(routes!(open))
        .routes(routes!(get_one))
        .routes(routes!(decline))
        .routes(routes!(score))
        .routes(routes!(listing_evaluation))
}

/// Any exchange's administrator registers a member as an expert (one pool for all four).
#[utoipa::path(post, operation_id = "register_expert", path = "/api/v1/admin/experts", tag = "experts", security(("bearer" = [])),
    request_body = ExpertInput,
    responses((status = 201, body = ExpertView), (status = 403, body = ErrorBody, description = "`admin_required`"), (status = 422, body = ErrorBody, description = "`validation_failed`: `user_id` must be a member who is not an active expert; `fields` 1–15 codes")))]
async fn register(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    ApiJson(input): ApiJson<ExpertInput>,
) -> Result<(StatusCode, Json<ExpertView>)> {
    Ok((
        StatusCode::CREATED,
        Json(experts::register(&state, &admin, input).await?),
    ))
}

/// The public expert directory: active experts, by field and free text (no contact data).
#[utoipa::path(get, operation_id = "list_experts", path = "/api/v1/experts", tag = "experts",
    params(ExpertQuery),
    responses((status = 200, body = Page<ExpertView>), (status = 400, body = ErrorBody)))]
async fn directory(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExpertQuery>,
) -> Result<Json<Page<ExpertView>>> {
    Ok(Json(experts::directory(&state.pool, &q).await?))
}

/// Any exchange's administrator deactivates an expert; past evaluations keep their name.
#[utoipa::path(post, operation_id = "deactivate_expert", path = "/api/v1/admin/experts/{id}/deactivate", tag = "experts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ExpertView), (status = 403, body = ErrorBody, description = "`admin_required`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`expert_inactive`")))]
async fn deactivate(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    Path(id): Path<String>,
) -> Result<Json<ExpertView>> {
    let id = parse_id(&id)?;
    Ok(Json(experts::deactivate(&state, &admin, id).await?))
}

/// Active experts for a listing's panel, free of conflicts with its owner: field fit first, then
/// the least busy.
#[utoipa::path(get, operation_id = "suggest_experts", path = "/api/v1/admin/experts/suggest", tag = "experts", security(("bearer" = [])),
    params(SuggestQuery),
    responses((status = 200, body = Vec<Suggestion>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody, description = "`admin_required`"), (status = 404, body = ErrorBody)))]
async fn suggest(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    ApiQuery(q): ApiQuery<SuggestQuery>,
) -> Result<Json<Vec<Suggestion>>> {
    Ok(Json(
        experts::suggest(&state.pool, &admin, q.listing_id).await?,
    ))
}

/// An administrator of the listing's exchange opens an evaluation with 3–7 experts and a due date.
#[utoipa::path(post, operation_id = "open_evaluation", path = "/api/v1/admin/listings/{id}/evaluations", tag = "experts", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = EvaluationInput,
    responses((status = 201, body = EvaluationView), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`evaluation_in_progress`, `listing_not_evaluable`"), (status = 422, body = ErrorBody, description = "`validation_failed`; `expert_conflict` (field `expert_ids[i]`): an expert of the owner's organisation or of one that has traded with it")))]
async fn open(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EvaluationInput>,
) -> Result<(StatusCode, Json<EvaluationView>)> {
    let id = parse_id(&id)?;
    Ok((
        StatusCode::CREATED,
        Json(experts::open(&state, &admin, id, input).await?),
    ))
}

/// One evaluation: its panel, the listing's owner and administrators see it while in progress
/// (without anyone's scores but the caller's own); anyone once published.
#[utoipa::path(get, operation_id = "get_evaluation", path = "/api/v1/evaluations/{id}", tag = "experts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EvaluationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<EvaluationView>> {
    let id = parse_id(&id)?;
    Ok(Json(
        experts::evaluation(&state.pool, Some(&user), id).await?,
    ))
}

/// An invited expert declines.
#[utoipa::path(post, operation_id = "decline_evaluation", path = "/api/v1/evaluations/{id}/decline", tag = "experts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EvaluationView), (status = 403, body = ErrorBody, description = "`not_on_panel`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`evaluation_closed`, `already_answered`")))]
async fn decline(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<EvaluationView>> {
    let id = parse_id(&id)?;
    Ok(Json(experts::decline(&state, &user, id).await?))
}

/// An invited expert scores, once; nobody sees another's scores before the panel closes.
#[utoipa::path(post, operation_id = "score_evaluation", path = "/api/v1/evaluations/{id}/scores", tag = "experts", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ScoreInput,
    responses((status = 201, body = EvaluationView), (status = 403, body = ErrorBody, description = "`not_on_panel`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`evaluation_closed`, `already_answered`"), (status = 422, body = ErrorBody)))]
async fn score(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ScoreInput>,
) -> Result<(StatusCode, Json<EvaluationView>)> {
    let id = parse_id(&id)?;
    Ok((
        StatusCode::CREATED,
        Json(experts::score(&state, &user, id, input).await?),
    ))
}

/// The listing's latest published evaluation (public).
#[utoipa::path(get, operation_id = "listing_evaluation", path = "/api/v1/listings/{id}/evaluation", tag = "experts",
    params(("id" = String, Path)),
    responses((status = 200, body = EvaluationView), (status = 404, body = ErrorBody)))]
async fn listing_evaluation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EvaluationView>> {
    let id = parse_id(&id)?;
    Ok(Json(experts::published_for_listing(&state.pool, id).await?))
}
