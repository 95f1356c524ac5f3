//! Trades and settlement, the ledger, revenue, statements, credit restrictions, registration data.
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{Error, Result};
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiQuery, ApiUser};
use crate::http::state::AppState;
use crate::service::settlement::{
    self, Action, Balances, CancelInput, CertificateView, EntryView, Restriction, RestrictionInput,
    Revenue, Statement, TradeView, Verification, VerifyReport,
};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_trades))
        .routes(routes!(get_trade))
        .routes(routes!(payment_received))
        .routes(routes!(confirm_delivery))
        .routes(routes!(cancel))
        .routes(routes!(statement))
        .routes(routes!(certificate))
        .routes(routes!(verify_certificate))
        .routes(routes!(verify_ledger))
        .routes(routes!(balances))
        .routes(routes!(entries))
        .routes(routes!(revenue))
        .routes(routes!(restrict, lift))
        .routes(routes!(list_restrictions))
        .routes(routes!(registration_csv))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TradeListQuery {
    /// `buyer` or `seller` (members; both when absent). Admins see the trades involving their exchange.
    pub role: Option<String>,
    /// awaiting_payment | paid | settled | cancelled
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The caller's organisation's trades (admins: the trades involving their exchange), newest first.
#[utoipa::path(get, path = "/api/v1/trades", tag = "trades", security(("bearer" = [])),
    params(TradeListQuery),
    responses((status = 200, body = Page<TradeView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_trades(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<TradeListQuery>,
) -> Result<Json<Page<TradeView>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        settlement::list(
            &state.pool,
            &user,
            q.role.as_deref(),
            q.status.as_deref(),
            page,
        )
        .await?,
    ))
}

/// One trade: its parties and admins only (404 to others).
#[utoipa::path(get, path = "/api/v1/trades/{id}", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = TradeView), (status = 404, body = ErrorBody)))]
async fn get_trade(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<TradeView>> {
    let id = parse_id(&id)?;
    Ok(Json(
        settlement::get(&state.pool, &user, id, state.clock.now())
            .await?
            .0,
    ))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.to_string()))
            .map_err(|_| Error::bad_request("invalid_idempotency_key")),
    }
}

/// Runs a money-moving action to completion even if the client goes away.
async fn run_action(
    state: AppState,
    user: crate::auth::CurrentUser,
    id: String,
    headers: HeaderMap,
    action: Action,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    let (status, body) = settlement::act(&state.pool, &user, id, action, key.as_deref()).await?;
    Ok((status, Json(body)).into_response())
}

/// Records that the buyer's price plus buyer fee arrived in the settlement account of the buyer's
/// exchange (where the payment instructions sent it) → `paid`. An admin of the buyer's or the
/// listing's exchange (403 for others).
/// Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/trades/{id}/payment-received", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = TradeView), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_trade_state`, `idempotency_key_reused`, `idempotency_in_progress`")))]
async fn payment_received(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    run_action(state, user, id, headers, Action::PaymentReceived).await
}

/// The buyer confirms delivery → `settled`: the seller is owed price − seller fee, the buyer fee goes
/// to the buyer's exchange and the seller fee to the listing's. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/trades/{id}/confirm-delivery", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = TradeView), (status = 403, body = ErrorBody, description = "`buyer_only`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_trade_state`, `idempotency_key_reused`, `idempotency_in_progress`")))]
async fn confirm_delivery(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    run_action(state, user, id, headers, Action::ConfirmDelivery).await
}

/// Either party cancels while the payment is awaited, with a reason (422 without one); an
/// exclusive listing is listed again. A buyer's cancellation counts against its organisation
/// (`buyer_cancellations_90d`); after payment only a dispute can undo a trade (409
/// `invalid_trade_state`). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/trades/{id}/cancel", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CancelInput,
    responses((status = 200, body = TradeView), (status = 403, body = ErrorBody, description = "`party_only`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_trade_state`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CancelInput>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    let (status, body) = settlement::cancel(&state.pool, &user, id, input, key.as_deref()).await?;
    Ok((status, Json(body)).into_response())
}

/// The settlement statement (结算单) of a trade: parties, listing, fees with the schedule version,
/// what each party pays and receives, and what the old rules would have charged. Parties and admins.
#[utoipa::path(get, path = "/api/v1/trades/{id}/statement", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Statement), (status = 404, body = ErrorBody)))]
async fn statement(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Statement>> {
    let id = parse_id(&id)?;
    Ok(Json(settlement::statement(&state.pool, &user, id).await?))
}

/// The transaction certificate (交易鉴证书) of a settled trade: its number, the ledger hash of the
/// settlement and the public verification address (parties and admins; 404 before settlement).
#[utoipa::path(get, path = "/api/v1/trades/{id}/certificate", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CertificateView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn certificate(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<CertificateView>> {
    let id = parse_id(&id)?;
    Ok(Json(settlement::for_trade(&state, &user, id).await?))
}

/// Public verification of a certificate by its number: `genuine` and, only if genuine, what the
/// certificate shows. 404 for an unknown number.
#[utoipa::path(get, path = "/api/v1/certificates/{number}", tag = "trades",
    params(("number" = String, Path)),
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody)))]
async fn verify_certificate(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<Verification>> {
    Ok(Json(settlement::verify(&state, &number).await?))
}

/// Recomputes the ledger's hash chain from the first entry (any exchange admin).
#[utoipa::path(get, path = "/api/v1/admin/ledger/verify", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = VerifyReport), (status = 403, body = ErrorBody)))]
async fn verify_ledger(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> Result<Json<VerifyReport>> {
    Ok(Json(settlement::verify_ledger(&state.pool, &user).await?))
}

/// Account balances: settlement bank accounts, escrow, what is owed to sellers, fee revenue.
#[utoipa::path(get, path = "/api/v1/admin/ledger/balances", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Balances), (status = 403, body = ErrorBody)))]
async fn balances(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> Result<Json<Balances>> {
    Ok(Json(settlement::balances(&state.pool, &user).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    pub page: Option<i64>,
    /// 1–100, default 20.
    pub per_page: Option<i64>,
    /// Another name for `per_page` (1–100).
    pub limit: Option<i64>,
}

/// The ledger entries, newest first, with their hashes (hex), in the list format.
#[utoipa::path(get, path = "/api/v1/admin/ledger/entries", tag = "ledger", security(("bearer" = [])),
    params(EntriesQuery),
    responses((status = 200, body = Page<EntryView>)))]
async fn entries(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Json<Page<EntryView>>> {
    if q.limit.is_some_and(|l| !(1..=100).contains(&l)) {
        let mut f = crate::domain::error::FieldErrors::new();
        f.push("limit", "err.per_page.range", vec![]);
        return Err(Error::BadRequest {
            code: "invalid_query",
            fields: Some(f),
        });
    }
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page.or(q.limit),
    };
    Ok(Json(
        settlement::ledger_entries(&state.pool, &user, page).await?,
    ))
}

/// Each exchange's fee revenue: buyer fees of its members' purchases, seller fees of its listings.
#[utoipa::path(get, path = "/api/v1/admin/revenue", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Revenue), (status = 403, body = ErrorBody)))]
async fn revenue(State(state): State<AppState>, ApiAdmin(user): ApiAdmin) -> Result<Json<Revenue>> {
    Ok(Json(settlement::revenue(&state.pool, &user).await?))
}

/// Sets a credit restriction (信用惩戒) on an organisation; it holds in all four exchanges.
#[utoipa::path(post, path = "/api/v1/admin/organizations/{id}/restrictions", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RestrictionInput,
    responses((status = 201, body = Restriction), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`organization_already_restricted`"), (status = 422, body = ErrorBody)))]
async fn restrict(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RestrictionInput>,
) -> Result<(StatusCode, Json<Restriction>)> {
    let id = parse_id(&id)?;
    Ok(created(
        settlement::restrict(&state.pool, &user, id, input).await?,
    ))
}

/// Lifts the organisation's credit restriction.
#[utoipa::path(delete, path = "/api/v1/admin/organizations/{id}/restrictions", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Restriction), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`organization_not_restricted`")))]
async fn lift(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
) -> Result<Json<Restriction>> {
    let id = parse_id(&id)?;
    Ok(Json(settlement::lift(&state.pool, &user, id).await?))
}

/// The credit restrictions in force, newest first (any exchange admin).
#[utoipa::path(get, path = "/api/v1/admin/restrictions", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<Restriction>), (status = 403, body = ErrorBody)))]
async fn list_restrictions(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> Result<Json<Vec<Restriction>>> {
    Ok(Json(
        settlement::active_restrictions(&state.pool, &user).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    /// Only trades involving this exchange (as the buyer's or the listing's).
    pub exchange: Option<String>,
}

/// 技术合同认定登记: settled trades as CSV (UTF-8 with BOM) for technology contract registration offices:
/// contract type code and name, both parties' names, credit codes and regions, the technology transaction
/// amount (yuan with two decimals, and fen), signed and settled dates (Asia/Shanghai), trade id, listing title.
#[utoipa::path(get, path = "/api/v1/admin/trades/registration.csv", tag = "trades", security(("bearer" = [])),
    params(RegistrationQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn registration_csv(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiQuery(q): ApiQuery<RegistrationQuery>,
) -> Result<Response> {
    let csv = settlement::registration_csv(&state.pool, &user, q.exchange.as_deref()).await?;
    Ok(crate::http::respond::csv_response(csv))
}
