//! Fees: quotes, schedule versions, maker–checker approval, simulation (API.md "Fees").
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{parse_id, parse_json, ApiAdmin, ApiJson, ApiQuery};
use crate::http::state::AppState;
use crate::service::fees::{self, NewScheduleInput, QuoteView, ScheduleView, Simulation};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .routes(routes!(list))
        .routes(routes!(current))
        .routes(routes!(get_one))
        .routes(routes!(create))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(simulate))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// The price in fen, 1 ≤ amount_fen ≤ 10^14.
    pub amount_fen: i64,
}

/// Both parties' fees on an amount under the unified schedule in force now, beside what the
/// legacy Sichuan and Chongqing rules would have charged. Public.
#[utoipa::path(get, operation_id = "quote_fees", path = "/api/v1/fees/quote", tag = "fees", params(QuoteQuery),
    responses((status = 200, body = QuoteView), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn quote(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Json<QuoteView>> {
    Ok(Json(
        fees::quote(&state.pool, q.amount_fen, Utc::now()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only `draft`, `approved` or `rejected` versions.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Every schedule version, newest first. Public.
#[utoipa::path(get, operation_id = "list_fee_schedules", path = "/api/v1/fee-schedules", tag = "fees", params(ListQuery),
    responses((status = 200, body = Page<ScheduleView>), (status = 400, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<ScheduleView>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        fees::list(&state.pool, q.status.as_deref(), page).await?,
    ))
}

/// The schedule in force now. Public.
#[utoipa::path(get, operation_id = "current_fee_schedule", path = "/api/v1/fee-schedules/current", tag = "fees",
    responses((status = 200, body = ScheduleView)))]
async fn current(State(state): State<AppState>) -> Result<Json<ScheduleView>> {
    Ok(Json(fees::in_force(&state.pool, Utc::now()).await?))
}

/// One schedule version. Public.
#[utoipa::path(get, operation_id = "get_fee_schedule", path = "/api/v1/fee-schedules/{id}", tag = "fees",
    params(("id" = String, Path)),
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>> {
    let id = parse_id(&id)?;
    Ok(Json(fees::get(&state.pool, id).await?))
}

/// Drafts a new version (any exchange administrator). 422 names the exact field
/// (`seller.bands[2].rate_ppm`).
#[utoipa::path(post, operation_id = "create_fee_schedule", path = "/api/v1/admin/fee-schedules", tag = "fees", security(("bearer" = [])),
    request_body = NewScheduleInput,
    responses((status = 201, body = ScheduleView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(input): ApiJson<NewScheduleInput>,
) -> Result<(StatusCode, Json<ScheduleView>)> {
    Ok(created(
        fees::create(&state.pool, &user, input, Utc::now()).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ApproveInput {
    /// The public name (1–200 characters, not reading as a draft); absent: the working title
    /// without its drafting notes (`（草案：…）`, `(draft: …)`).
    pub name: Option<String>,
}

/// Approves a draft under its public name: an administrator of another exchange than the drafter's
/// (403 otherwise, also for the drafter); 409 unless it is a draft; 422 for a name that reads as a draft.
#[utoipa::path(post, operation_id = "approve_fee_schedule", path = "/api/v1/admin/fee-schedules/{id}/approve", tag = "fees", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Option<ApproveInput>, description = "optional"),
    responses((status = 200, body = ScheduleView), (status = 403, body = ErrorBody, description = "`admin_required`, `fee_schedule_own_draft`, `fee_schedule_same_exchange`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`fee_schedule_not_draft`"), (status = 422, body = ErrorBody)))]
async fn approve(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ScheduleView>> {
    // The body is optional: no body (or only whitespace) means the suggested name.
    let input: ApproveInput = optional_json(&body)?;
    let id = parse_id(&id)?;
    Ok(Json(
        fees::approve(&state.pool, &user, id, input.name.as_deref(), Utc::now()).await?,
    ))
}

/// An optional JSON body: none (or only whitespace) is the default. Read before the id, as every
/// route reads its body first (a malformed body is 400 whatever the id).
fn optional_json<T: Default + serde::de::DeserializeOwned>(body: &Bytes) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(body)
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RejectInput {
    /// Why (1–1000 characters, required: the drafter is told it).
    pub reason: Option<String>,
}

/// Rejects a draft with a reason (422 without one; same rules as approval); the drafter is told.
#[utoipa::path(post, operation_id = "reject_fee_schedule", path = "/api/v1/admin/fee-schedules/{id}/reject", tag = "fees", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RejectInput,
    responses((status = 200, body = ScheduleView), (status = 403, body = ErrorBody, description = "`admin_required`, `fee_schedule_own_draft`, `fee_schedule_same_exchange`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`fee_schedule_not_draft`"), (status = 422, body = ErrorBody, description = "`reason` missing or too long")))]
async fn reject(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ScheduleView>> {
    let input: RejectInput = optional_json(&body)?;
    let id = parse_id(&id)?;
    Ok(Json(
        fees::reject(&state.pool, &user, id, input.reason.as_deref(), Utc::now()).await?,
    ))
}

/// The fee revenue of the trades recorded so far (cancelled excluded) under this schedule against
/// the schedule in force now, in total and by exchange (any exchange administrator).
#[utoipa::path(get, operation_id = "simulate_fee_schedule", path = "/api/v1/admin/fee-schedules/{id}/simulate", tag = "fees", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Simulation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn simulate(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
) -> Result<Json<Simulation>> {
    let id = parse_id(&id)?;
    Ok(Json(
        fees::simulate(&state.pool, &user, id, Utc::now()).await?,
    ))
}
