//! The inbox (API.md "Organisation members and notifications").
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::ErrorBody;
use crate::http::extract::{ApiQuery, ApiUser, Ctx};
use crate::http::state::AppState;
use crate::service::notifications::{self, InboxQuery, NotificationView};
use crate::service::Page;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read))
}

/// The caller's inbox (its own notices and its organisation's), newest first, in the request's
/// language; `unread=true` for unread ones only.
#[utoipa::path(get, operation_id = "list_notifications", path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, body = Page<NotificationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> Result<Json<Page<NotificationView>>> {
    Ok(Json(
        notifications::list(&state.pool, &user, &q, ctx.lang).await?,
    ))
}

/// Marks one notice read (a notice already read keeps its time); 404 for one not in the caller's inbox.
#[utoipa::path(post, operation_id = "read_notification", path = "/api/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    notifications::mark_read(&state.pool, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
