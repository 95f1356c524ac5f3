use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::audit::{self, AuditLine};
use crate::http::web::render;
use crate::service::accounts::OrgView;
use crate::service::admin::{self, AuditItem};
use crate::service::{Page, PageQuery};

#[derive(Template)]
#[template(path = "admin/index.html")]
struct AdminPage {
    ctx: PageCtx,
    exchange: String,
    orgs: Page<OrgView>,
}

pub async fn index(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
) -> Result<Response> {
    let exchange = user.require_admin()?;
    let orgs = admin::organizations(
        &state.pool,
        &user,
        false,
        PageQuery {
            page: Some(1),
            per_page: Some(100),
        },
        state.clock.now(),
    )
    .await?;
    render(&AdminPage {
        ctx,
        exchange: exchange.code().to_string(),
        orgs,
    })
}

pub async fn verify(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    admin::verify_organization(&state.pool, &user, id, state.clock.now()).await?;
    Ok(Redirect::to("/admin?done=verified").into_response())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    items: Page<AuditItem>,
    /// The records in words (`http::web::audit`).
    lines: Vec<AuditLine>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    page: Option<i64>,
}

pub async fn audit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<AuditQuery>,
) -> Result<Response> {
    let items = admin::audit_log(
        &state.pool,
        &user,
        None,
        PageQuery {
            page: q.page,
            per_page: Some(50),
        },
    )
    .await?;
    let lines = audit::lines(&ctx, &items.items);
    render(&AuditPage { ctx, items, lines })
}
