//! Technology brokers (API.md "Technology brokers"): certification by any exchange admin, the list
//! of active brokers, a party's engagement of a broker for its side of a trade, the broker's answer;
//! added: revoking, declining, and a broker's deals with the commission earned and pending.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::ErrorBody;
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiQuery, ApiUser};
use crate::http::state::AppState;
use crate::service::brokers::{
    self, BrokerDeals, BrokerView, CertifyInput, EngageInput, EngagementView, RevokeInput,
};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(certify))
        .routes(routes!(revoke))
        .routes(routes!(list))
        .routes(routes!(deals))
        .routes(routes!(engage))
        .routes(routes!(accept))
        .routes(routes!(decline))
}

/// Any exchange admin certifies a member as a technology broker (one status for all four
/// exchanges; audited). A revoked broker certified again keeps their id.
#[utoipa::path(post, operation_id = "certify_broker", path = "/api/v1/admin/brokers", tag = "brokers", security(("bearer" = [])),
    request_body = CertifyInput,
    responses((status = 201, body = BrokerView), (status = 403, body = ErrorBody, description = "`admin_required`"), (status = 409, body = ErrorBody, description = "`broker_exists`, `certificate_no_taken`"), (status = 422, body = ErrorBody, description = "`validation_failed`: `user_id` must be a member, `certificate_no` 1–64 characters")))]
async fn certify(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(input): ApiJson<CertifyInput>,
) -> Result<(StatusCode, Json<BrokerView>)> {
    let now = state.clock.now();
    Ok((
        StatusCode::CREATED,
        Json(brokers::certify(&state.pool, &user, input, now).await?),
    ))
}

/// Any exchange admin revokes a broker's certification with a reason (audited). Accepted
/// engagements stand; proposals can no longer be accepted.
#[utoipa::path(post, operation_id = "revoke_broker", path = "/api/v1/admin/brokers/{id}/revoke", tag = "brokers", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RevokeInput,
    responses((status = 200, body = BrokerView), (status = 403, body = ErrorBody, description = "`admin_required`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`broker_not_active`"), (status = 422, body = ErrorBody)))]
async fn revoke(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RevokeInput>,
) -> Result<Json<BrokerView>> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    Ok(Json(
        brokers::revoke(&state.pool, &user, id, input, now).await?,
    ))
}

/// The active brokers, by name (any signed-in caller).
#[utoipa::path(get, operation_id = "list_brokers", path = "/api/v1/brokers", tag = "brokers", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<BrokerView>), (status = 400, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    ApiUser(_user): ApiUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<BrokerView>>> {
    Ok(Json(brokers::list(&state.pool, false, page).await?))
}

/// A broker's deals (engagements, newest first) with the commission earned and pending: the
/// broker themself and exchange admins.
#[utoipa::path(get, operation_id = "broker_deals", path = "/api/v1/brokers/{id}/deals", tag = "brokers", security(("bearer" = [])),
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = BrokerDeals), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody, description = "`broker_only`"), (status = 404, body = ErrorBody)))]
async fn deals(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<BrokerDeals>> {
    let id = parse_id(&id)?;
    Ok(Json(brokers::deals(&state.pool, &user, id, page).await?))
}

/// A party of a trade awaiting payment engages a broker for its own side → `proposed`. The
/// commission is `floor((price_fen × commission_ppm + 500000) / 1000000)`, paid by that side.
#[utoipa::path(post, operation_id = "engage_broker", path = "/api/v1/trades/{id}/broker", tag = "brokers", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = EngageInput,
    responses((status = 201, body = EngagementView), (status = 403, body = ErrorBody, description = "`party_only`, `not_your_side`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_trade_state`, `broker_already_engaged`"), (status = 422, body = ErrorBody, description = "`validation_failed`: `side`, `commission_ppm` (≤ 100 000, a seller's within its proceeds), `broker_id` (an active broker not of the other party)")))]
async fn engage(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EngageInput>,
) -> Result<(StatusCode, Json<EngagementView>)> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    Ok((
        StatusCode::CREATED,
        Json(brokers::engage(&state.pool, &user, id, input, now).await?),
    ))
}

/// The broker accepts a proposed engagement while the trade awaits payment: it becomes part of the
/// trade (`trade.brokers`).
#[utoipa::path(post, operation_id = "accept_broker_engagement", path = "/api/v1/broker-engagements/{id}/accept", tag = "brokers", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EngagementView), (status = 403, body = ErrorBody, description = "`broker_only`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`engagement_not_proposed`, `invalid_trade_state`, `broker_not_active`")))]
async fn accept(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<EngagementView>> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    Ok(Json(
        brokers::answer(&state.pool, &user, id, true, now).await?,
    ))
}

/// The broker declines a proposed engagement (the side may then engage another).
#[utoipa::path(post, operation_id = "decline_broker_engagement", path = "/api/v1/broker-engagements/{id}/decline", tag = "brokers", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EngagementView), (status = 403, body = ErrorBody, description = "`broker_only`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`engagement_not_proposed`")))]
async fn decline(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<EngagementView>> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    Ok(Json(
        brokers::answer(&state.pool, &user, id, false, now).await?,
    ))
}
