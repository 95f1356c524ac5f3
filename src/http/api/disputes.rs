//! Disputes and payouts (API.md "Trades and settlement"): a party opens a dispute, the admins of
//! either party's exchange see their queue and decide; payouts to sellers and refunds to buyers
//! out of the settlement account, and their CSV for the bank.
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::trading::idempotency_key;
use crate::http::api::ErrorBody;
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiQuery, ApiUser};
use crate::http::state::AppState;
use crate::service::settlement::{
    self, DisputeInput, PayoutInput, PayoutList, PayoutView, ResolveInput, TradeView,
};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_dispute))
        .routes(routes!(resolve))
        .routes(routes!(queue))
        .routes(routes!(list_payouts, record_payout))
        .routes(routes!(payouts_csv))
}

/// A party of a paid trade opens a dispute → `disputed` (a delivered trade: within its acceptance
/// period). 201 with the trade, its `dispute` filled in. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/trades/{id}/disputes", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DisputeInput,
    responses((status = 201, body = TradeView), (status = 403, body = ErrorBody, description = "`party_only`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_trade_state`, `acceptance_period_over`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody)))]
async fn open_dispute(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DisputeInput>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    let now = state.clock.now();
    let (status, body) =
        settlement::open_dispute(&state.pool, &user, id, input, key.as_deref(), now).await?;
    Ok((status, Json(body)).into_response())
}

/// An admin of the buyer's or the seller's exchange decides an open dispute: `seller` →
/// `settled`; `buyer` → `refunded` (price and buyer fee back); `split` → `settled`, with
/// `seller_share_fen` of the price to the seller (the seller fee comes out of it) and the rest of
/// the price back to the buyer. All through the ledger; audited. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/disputes/{id}/resolve", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ResolveInput,
    responses((status = 200, body = TradeView), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`dispute_not_open`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody)))]
async fn resolve(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ResolveInput>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    let now = state.clock.now();
    let (status, body) =
        settlement::resolve_dispute(&state.pool, &user, id, input, key.as_deref(), now).await?;
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open` | `resolved` (both when absent).
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The admin's queue: disputes on trades involving their exchange (as the buyer's or the
/// seller's), open ones first and oldest first, each as its trade with `dispute` filled in.
#[utoipa::path(get, path = "/api/v1/admin/disputes", tag = "admin", security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, body = Page<TradeView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn queue(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Page<TradeView>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        settlement::dispute_queue(&state.pool, &user, q.status.as_deref(), page).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayoutQuery {
    /// `due` (default: what the exchange's settlement account still owes sellers and buyers) or
    /// `paid` (the transfers recorded).
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// What the settlement account of the admin's exchange (where its buyers pay in) owes: sellers'
/// proceeds of settled trades and buyers' refunds decided in disputes (`status=due`, oldest
/// first), or what was paid out (`status=paid`), with `total_amount_fen` over the whole list.
#[utoipa::path(get, path = "/api/v1/admin/payouts", tag = "admin", security(("bearer" = [])),
    params(PayoutQuery),
    responses((status = 200, body = PayoutList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_payouts(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiQuery(q): ApiQuery<PayoutQuery>,
) -> Result<Json<PayoutList>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        settlement::payouts(&state.pool, &user, q.status.as_deref(), page).await?,
    ))
}

/// Records a bank transfer out of the settlement account of the admin's exchange (the buyer's
/// exchange of the trade; others get 403 `other_exchange`) to the trade's seller or buyer, with the
/// bank's reference: `amount_fen` must be what is due (422), 409 `nothing_due` when nothing is (paid
/// out already). The ledger's payable of that party for the trade goes to zero. Audited. Honours
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/payouts", tag = "admin", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = PayoutInput,
    responses((status = 201, body = PayoutView), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`"), (status = 409, body = ErrorBody, description = "`nothing_due`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody)))]
async fn record_payout(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PayoutInput>,
) -> Result<Response> {
    let key = idempotency_key(&headers)?;
    let now = state.clock.now();
    let (status, body) =
        settlement::record_payout(&state.pool, &user, input, key.as_deref(), now).await?;
    Ok((status, Json(body)).into_response())
}

/// The payouts due from the admin's exchange's settlement account, for the bank: CSV, UTF-8 with
/// a BOM, one row per transfer (trade number, payee and its credit code, amount in yuan and fen,
/// the reference to quote, due date in Asia/Shanghai).
#[utoipa::path(get, path = "/api/v1/admin/payouts.csv", tag = "admin", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody)))]
async fn payouts_csv(State(state): State<AppState>, ApiAdmin(user): ApiAdmin) -> Result<Response> {
    let csv = settlement::payouts_csv(&state.pool, &user).await?;
    Ok(crate::http::respond::csv_download(csv, "payouts.csv"))
}
