//! Paying in (API.md "Trades and settlement"): payment instructions and each exchange's
//! settlement account.
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{Error, Result};
use crate::http::api::ErrorBody;
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiUser};
use crate::http::state::AppState;
use crate::service::settlement::{
    self, DeliveryInput, PaymentInstructions, SettlementAccountInput, SettlementAccountView,
    TradeView,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(payment_instructions))
        .routes(routes!(set_settlement_account, get_settlement_account))
        .routes(routes!(deliver))
}

/// The seller records delivery of a paid trade → `delivered`; the buyer's acceptance period (the
/// listing's exchange's, default 15 days) starts. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/trades/{id}/delivery", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DeliveryInput,
    responses((status = 200, body = TradeView), (status = 403, body = ErrorBody, description = "`seller_only`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_trade_state`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody)))]
async fn deliver(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DeliveryInput>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = crate::http::api::trading::idempotency_key(&headers)?;
    let now = state.clock.now();
    let (status, body) =
        settlement::deliver(&state.pool, &user, id, input, key.as_deref(), now).await?;
    Ok((status, Json(body)).into_response())
}

/// Where the buyer pays: the settlement account of the buyer's exchange, the amount (price + buyer
/// fee), the trade number as reference and the due date. The buyer and admins (the seller: 403).
#[utoipa::path(get, path = "/api/v1/trades/{id}/payment-instructions", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PaymentInstructions), (status = 403, body = ErrorBody, description = "`buyer_only`"), (status = 404, body = ErrorBody)))]
async fn payment_instructions(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PaymentInstructions>> {
    let id = parse_id(&id)?;
    Ok(Json(
        settlement::payment_instructions(&state.pool, &user, id).await?,
    ))
}

/// Sets the settlement account of the caller's exchange (where its buyers pay). Audited.
#[utoipa::path(put, path = "/api/v1/admin/settlement-account", tag = "admin", security(("bearer" = [])),
    request_body = SettlementAccountInput,
    responses((status = 200, body = SettlementAccountView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_settlement_account(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(input): ApiJson<SettlementAccountInput>,
) -> Result<Json<SettlementAccountView>> {
    let now = state.clock.now();
    Ok(Json(
        settlement::set_settlement_account(&state.pool, &user, input, now).await?,
    ))
}

/// The settlement account of the caller's exchange.
#[utoipa::path(get, path = "/api/v1/admin/settlement-account", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = SettlementAccountView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_settlement_account(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> Result<Json<SettlementAccountView>> {
    settlement::settlement_account(&state.pool, &user)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}
