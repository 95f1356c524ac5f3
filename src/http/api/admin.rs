use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::ErrorBody;
use crate::http::extract::{parse_id, ApiAdmin, ApiQuery};
use crate::http::state::AppState;
use crate::service::accounts::OrgView;
use crate::service::admin::{self, AuditItem};
use crate::service::{Page, PageQuery};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_organization))
        .routes(routes!(list_organizations))
        .routes(routes!(audit))
}

/// Verifies an organisation filed with the admin's exchange (403 for another exchange's).
#[utoipa::path(post, path = "/api/v1/admin/organizations/{id}/verify", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OrgView), (status = 403, body = ErrorBody, description = "`admin_required`, `other_exchange`"), (status = 404, body = ErrorBody)))]
async fn verify_organization(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    Path(id): Path<String>,
) -> Result<Json<OrgView>> {
    let id = parse_id(&id)?;
    Ok(Json(
        admin::verify_organization(&state.pool, &user, id, state.clock.now()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgListQuery {
    /// Only those waiting for verification.
    pub unverified: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The organisations of the admin's exchange, waiting ones first.
#[utoipa::path(get, path = "/api/v1/admin/organizations", tag = "admin", security(("bearer" = [])),
    params(OrgListQuery),
    responses((status = 200, body = Page<OrgView>), (status = 403, body = ErrorBody)))]
async fn list_organizations(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiQuery(q): ApiQuery<OrgListQuery>,
) -> Result<Json<Page<OrgView>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        admin::organizations(
            &state.pool,
            &user,
            q.unverified.unwrap_or(false),
            page,
            state.clock.now(),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `fee_schedule`, `listing`, `organization`, `trade`
    pub target_type: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Page<AuditItem>), (status = 403, body = ErrorBody)))]
async fn audit(
    State(state): State<AppState>,
    ApiAdmin(user): ApiAdmin,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditItem>>> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        admin::audit_log(&state.pool, &user, q.target_type.as_deref(), page).await?,
    ))
}
