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
    waiting: admin::Waiting,
    /// A refusal that failed: the organisation, and why.
    refuse_error: Option<(String, String)>,
}

impl AdminPage {
    /// The queues with what waits in them: (words key, count, link).
    fn queues(&self) -> Vec<(&'static str, i64, &'static str)> {
        let q = &self.waiting.queues;
        vec![
            (
                "waiting.admin.organizations",
                q.organizations,
                "/admin#orgs",
            ),
            ("waiting.admin.listings", q.listings, "/admin/listings"),
            ("waiting.admin.fee_drafts", q.fee_drafts, "/admin/fees"),
            ("waiting.admin.disputes", q.disputes, "/admin/disputes"),
            (
                "waiting.admin.payouts",
                self.waiting.payouts,
                "/admin/payouts",
            ),
        ]
    }

    fn refuse_error_for(&self, id: &uuid::Uuid) -> &str {
        match &self.refuse_error {
            Some((org, msg)) if *org == id.to_string() => msg,
            _ => "",
        }
    }
}

pub async fn index(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
) -> Result<Response> {
    index_page(&state, user, ctx, None).await
}

async fn index_page(
    state: &AppState,
    user: crate::auth::CurrentUser,
    ctx: PageCtx,
    refuse_error: Option<(String, String)>,
) -> Result<Response> {
    let exchange = user.require_admin()?;
    let waiting = admin::waiting(&state.pool, &user).await?;
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
        waiting,
        refuse_error,
    })
}

/// Refuses to verify an organisation, with the reason it is told; a missing or too long reason
/// shows the page again with the error beside that organisation's form (422).
pub async fn refuse(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match admin::refuse_organization(&state.pool, &user, id, form.get("reason")).await {
        Ok(()) => Ok(Redirect::to("/admin?done=refused").into_response()),
        Err(e @ crate::error::Error::Validation(_)) => {
            let msg = crate::http::web::FormErrors::from_error(ctx.lang, &e)
                .get("reason")
                .to_string();
            let mut resp = index_page(&state, user, ctx, Some((id.to_string(), msg))).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
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
