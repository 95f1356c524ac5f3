//! Offers, purchases and auctions (API.md "Offers, purchases and auctions").
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{Error, Result};
use crate::http::api::created;
use crate::http::api::ErrorBody;
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiQuery, ApiUser, MaybeApiUser};
use crate::http::state::AppState;
use crate::service::trading::{
    self, AuctionView, BidInput, BidPlaced, BuyInput, CounterInput, DepositInput, DepositView,
    OfferInput, OfferView, TradeCreated,
};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(make_offer, listing_offers))
        .routes(routes!(get_offer))
        .routes(routes!(my_offers))
        .routes(routes!(counter))
        .routes(routes!(accept))
        .routes(routes!(reject))
        .routes(routes!(withdraw))
        .routes(routes!(buy))
        .routes(routes!(bid))
        .routes(routes!(auction))
        .routes(routes!(record_deposit, deposits))
}

/// The `Idempotency-Key` header, if sent (400 if it is not text).
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.to_string()))
            .map_err(|_| Error::bad_request("invalid_idempotency_key")),
    }
}

type Replay = (StatusCode, Json<Value>);

fn replay((status, body): trading::Replayable) -> Replay {
    (status, Json(body))
}

/// Makes an offer on a negotiable listing (`Idempotency-Key` honoured).
#[utoipa::path(post, path = "/api/v1/listings/{id}/offers", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = OfferInput,
    responses((status = 201, body = OfferView), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`, `own_listing`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_pricing_mode`, `listing_not_available`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody, description = "`amount_outlier`: the amount is above 10× the reference price (current price, listed price or the offer answered) and `confirm_outlier` was not true; `fields.amount_fen` names the factor, also as `factor` with `reference_fen`")))]
async fn make_offer(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<OfferInput>,
) -> Result<Replay> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    Ok(replay(
        trading::make_offer(&state.pool, &user, id, input, key).await?,
    ))
}

/// The offers on a listing: all threads to the seller, its own to a buyer; 404 to anyone else.
#[utoipa::path(get, path = "/api/v1/listings/{id}/offers", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = Page<OfferView>), (status = 404, body = ErrorBody)))]
async fn listing_offers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<OfferView>>> {
    let id = parse_id(&id)?;
    Ok(Json(
        trading::listing_offers(&state.pool, &user, id, page).await?,
    ))
}

/// One offer (its parties only).
#[utoipa::path(get, path = "/api/v1/offers/{id}", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OfferView), (status = 404, body = ErrorBody)))]
async fn get_offer(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<OfferView>> {
    let id = parse_id(&id)?;
    Ok(Json(trading::get_offer(&state.pool, &user, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyOffersQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The caller's negotiation threads (as buyer or seller), each shown by its latest offer.
#[utoipa::path(get, path = "/api/v1/offers", tag = "trading", security(("bearer" = [])),
    params(MyOffersQuery),
    responses((status = 200, body = Page<OfferView>), (status = 403, body = ErrorBody, description = "`organization_required`")))]
async fn my_offers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<MyOffersQuery>,
) -> Result<Json<Page<OfferView>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(trading::my_threads(&state.pool, &user, page).await?))
}

/// Answers an open offer with another amount: the new offer is open, the old one `countered`.
#[utoipa::path(post, operation_id = "counter_offer", path = "/api/v1/offers/{id}/counter", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CounterInput,
    responses((status = 201, body = OfferView), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`, `offer_wrong_party`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`offer_not_open`, `offer_expired`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody, description = "`amount_outlier`: the amount is above 10× the reference price (current price, listed price or the offer answered) and `confirm_outlier` was not true; `fields.amount_fen` names the factor, also as `factor` with `reference_fen`")))]
async fn counter(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CounterInput>,
) -> Result<Replay> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    Ok(replay(
        trading::counter(&state.pool, &user, id, input, key).await?,
    ))
}

/// Accepts an open offer made by the other party → the trade.
#[utoipa::path(post, operation_id = "accept_offer", path = "/api/v1/offers/{id}/accept", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TradeCreated), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`, `offer_wrong_party`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`offer_not_open`, `offer_expired`, `listing_not_available`, `counterparty_restricted`, `ip_pledged` (the listing is pledged and the lender has not consented to the mode), `idempotency_key_reused`, `idempotency_in_progress`")))]
async fn accept(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Replay> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    Ok(replay(trading::accept(&state.pool, &user, id, key).await?))
}

/// Rejects an open offer made by the other party.
#[utoipa::path(post, operation_id = "reject_offer", path = "/api/v1/offers/{id}/reject", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OfferView), (status = 403, body = ErrorBody, description = "`organization_required`, `offer_wrong_party`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`offer_not_open`, `offer_expired`")))]
async fn reject(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<OfferView>> {
    let id = parse_id(&id)?;
    Ok(Json(trading::decline(&state.pool, &user, id, false).await?))
}

/// Withdraws one's own open offer.
#[utoipa::path(post, operation_id = "withdraw_offer", path = "/api/v1/offers/{id}/withdraw", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OfferView), (status = 403, body = ErrorBody, description = "`organization_required`, `offer_wrong_party`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`offer_not_open`, `offer_expired`")))]
async fn withdraw(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<OfferView>> {
    let id = parse_id(&id)?;
    Ok(Json(trading::decline(&state.pool, &user, id, true).await?))
}

/// Buys a fixed-price listing at its price (`Idempotency-Key` honoured). Exclusive modes: one buyer.
#[utoipa::path(post, operation_id = "buy_listing", path = "/api/v1/listings/{id}/buy", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = BuyInput,
    responses((status = 201, body = TradeCreated), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`, `own_listing`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_pricing_mode`, `listing_not_available`, `counterparty_restricted`, `ip_pledged` (the listing is pledged and the lender has not consented to the mode), `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody)))]
async fn buy(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<BuyInput>,
) -> Result<Replay> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    Ok(replay(
        trading::buy(&state.pool, &user, id, input, key).await?,
    ))
}

/// Bids in a listing's auction (`Idempotency-Key` honoured). 409 `bid_too_low` carries `min_bid_fen`.
#[utoipa::path(post, operation_id = "place_bid", path = "/api/v1/listings/{id}/bids", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = BidInput,
    responses((status = 201, body = BidPlaced), (status = 403, body = ErrorBody, description = "`organization_required`, `organization_unverified`, `organization_restricted`, `own_listing`, `deposit_required` (the auction requires a deposit and none is recorded for the bidder)"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`bid_too_low`, `auction_closed` (also before the auction opens at `pricing.auction.starts_at`, an extension: the message says when, `opens_at` carries it), `wrong_pricing_mode`, `listing_not_available`, `idempotency_key_reused`, `idempotency_in_progress`"), (status = 422, body = ErrorBody, description = "`amount_outlier`: the amount is above 10× the reference price (current price, listed price or the offer answered) and `confirm_outlier` was not true; `fields.amount_fen` names the factor, also as `factor` with `reference_fen`")))]
async fn bid(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<BidInput>,
) -> Result<Replay> {
    let id = parse_id(&id)?;
    let key = idempotency_key(&headers)?;
    Ok(replay(
        trading::place_bid(&state, &user, id, input, key).await?,
    ))
}

/// Records a bidder organisation's deposit (保证金) for the listing's auction as received in the
/// admin's exchange's settlement account (admin of the listing's or the bidder's exchange; audited;
/// through the ledger: bank → the deposit held for the organisation).
#[utoipa::path(post, operation_id = "record_deposit", path = "/api/v1/admin/listings/{id}/deposits", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = DepositInput,
    responses((status = 201, body = DepositView), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`, `own_listing`, `scope_missing`"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`deposit_not_required`, `deposit_exists`, `auction_closed`"), (status = 422, body = ErrorBody)))]
async fn record_deposit(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DepositInput>,
) -> Result<(StatusCode, Json<DepositView>)> {
    let id = parse_id(&id)?;
    Ok(created(
        trading::record_deposit(&state.pool, &user, id, input).await?,
    ))
}

/// The deposits recorded for a listing's auction: all of them to admins, its own to a member.
#[utoipa::path(get, operation_id = "list_deposits", path = "/api/v1/admin/listings/{id}/deposits", tag = "trading", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<DepositView>), (status = 403, body = ErrorBody)))]
async fn deposits(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
) -> Result<Json<Vec<DepositView>>> {
    let id = parse_id(&id)?;
    Ok(Json(
        trading::deposits_of(&state.pool, Some(&user), id).await?,
    ))
}

/// The public state of a listing's auction; bidders appear only as pseudonyms.
#[utoipa::path(get, operation_id = "get_auction", path = "/api/v1/listings/{id}/auction", tag = "trading", security((), ("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = AuctionView), (status = 404, body = ErrorBody)))]
async fn auction(
    State(state): State<AppState>,
    MaybeApiUser(user): MaybeApiUser,
    Path(id): Path<String>,
) -> Result<Json<AuctionView>> {
    let id = parse_id(&id)?;
    let org = user.and_then(|u| u.organization_id);
    Ok(Json(trading::auction_view(&state.pool, org, id).await?))
}
