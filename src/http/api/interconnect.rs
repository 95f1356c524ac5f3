//! The exchanges' own systems: API keys, webhooks and their deliveries, the change feed.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{Error, Result};
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{parse_id, ApiAdmin, ApiJson, ApiQuery, ApiUser};
use crate::http::state::AppState;
use crate::service::interconnect::keys::{self, CreatedKey, KeyInput, KeyView};
use crate::service::interconnect::webhooks::{
    self, CreatedWebhook, DeliveryView, WebhookInput, WebhookView,
};
use crate::service::interconnect::{self as ic, EventFeed};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(disable_webhook))
        .routes(routes!(deliveries))
        .routes(routes!(redeliver))
        .routes(routes!(events))
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyView>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

/// Issues an API key for the admin's exchange; `key` is shown this once (only a hash is kept).
/// Keys cannot issue keys.
#[utoipa::path(post, path = "/api/v1/admin/api-keys", tag = "interconnection", security(("bearer" = [])),
    request_body = KeyInput,
    responses((status = 201, body = CreatedKey), (status = 403, body = ErrorBody, description = "`admin_required`, `scope_missing`")))]
async fn create_key(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(input): ApiJson<KeyInput>,
) -> Result<(StatusCode, Json<CreatedKey>)> {
    Ok(created(keys::create(&state, &user, input).await?))
}

/// The API keys of the admin's exchange with their last use (live ones first).
#[utoipa::path(get, path = "/api/v1/admin/api-keys", tag = "interconnection", security(("bearer" = [])),
    responses((status = 200, body = KeyList), (status = 403, body = ErrorBody, description = "`admin_required`, `scope_missing`")))]
async fn list_keys(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> Result<Json<KeyList>> {
    Ok(Json(KeyList {
        items: keys::list(&state, &user).await?,
    }))
}

/// Revokes a key: from now on it gets 401.
#[utoipa::path(delete, path = "/api/v1/admin/api-keys/{id}", tag = "interconnection", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`, `scope_missing`"), (status = 404, body = ErrorBody)))]
async fn revoke_key(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    keys::revoke(&state, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Registers a webhook for the caller's exchange; `secret` (shown this once) signs every delivery.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "interconnection", security(("bearer" = [])),
    request_body = WebhookInput,
    responses((status = 201, body = CreatedWebhook), (status = 403, body = ErrorBody, description = "`admin_required`, `scope_missing`"),
        (status = 422, body = ErrorBody, description = "`validation_failed`, `webhook_target_refused` (the URL's address is not allowed by `TECHMARKET_WEBHOOK_ALLOW`)")))]
async fn create_webhook(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(input): ApiJson<WebhookInput>,
) -> Result<(StatusCode, Json<CreatedWebhook>)> {
    Ok(created(webhooks::create(&state, &user, input).await?))
}

/// The webhooks of the caller's exchange.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "interconnection", security(("bearer" = [])),
    responses((status = 200, body = WebhookList), (status = 403, body = ErrorBody, description = "`admin_required`, `scope_missing`")))]
async fn list_webhooks(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
) -> Result<Json<WebhookList>> {
    Ok(Json(WebhookList {
        items: webhooks::list(&state, &user).await?,
    }))
}

/// Stops a webhook: nothing more is sent to it.
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", tag = "interconnection", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`, `scope_missing`"), (status = 404, body = ErrorBody)))]
async fn disable_webhook(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    webhooks::disable(&state, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A webhook's deliveries, newest event first, each with its attempts (time, duration, status,
/// the start of the answer).
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}/deliveries", tag = "interconnection", security(("bearer" = [])),
    params(("id" = String, Path), PageParams),
    responses((status = 200, body = Page<DeliveryView>), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`, `scope_missing`"), (status = 404, body = ErrorBody)))]
async fn deliveries(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Page<DeliveryView>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        webhooks::deliveries(&state, &user, parse_id(&id)?, page).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Redelivery {
    pub id: i64,
    /// `pending`: it goes out again within a second or so.
    pub status: String,
}

/// Sends a delivery again, whatever became of it (due now, 24 h of retries from now).
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "interconnection", security(("bearer" = [])),
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 200, body = Redelivery), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`, `scope_missing`"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`webhook_disabled`")))]
async fn redeliver(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Json<Redelivery>> {
    let delivery: i64 = delivery.parse().map_err(|_| Error::NotFound)?;
    webhooks::redeliver(&state, &user, parse_id(&id)?, delivery).await?;
    Ok(Json(Redelivery {
        id: delivery,
        status: "pending".into(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The last event id seen (none: from the start).
    pub after: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// The events that concern the caller's exchange, oldest first: the same events, in the same
/// order, as its webhooks receive. An exchange's admin or an API key with `read`.
#[utoipa::path(get, path = "/api/v1/events", tag = "interconnection", security(("bearer" = [])),
    params(FeedQuery),
    responses((status = 200, body = EventFeed), (status = 403, body = ErrorBody, description = "`admin_required`, `scope_missing`")))]
async fn events(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Result<Json<EventFeed>> {
    Ok(Json(
        ic::feed(&state, &user, q.after.as_deref(), q.limit).await?,
    ))
}
