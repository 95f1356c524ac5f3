//! The administrator's page of an auction's deposits (`/admin/listings/{id}/deposits`): the rule,
//! the deposits recorded so far and their state, and the form that records one as received.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::render;
use crate::service::trading::{self, DepositInput, DepositView};

use super::error_text;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/admin/listings/{id}/deposits",
        get(deposits_page).post(deposit_submit),
    )
}

#[derive(Template)]
#[template(path = "trading/deposits.html")]
struct DepositsPage {
    ctx: PageCtx,
    listing_id: Uuid,
    title: String,
    deposit_fen: Option<i64>,
    items: Vec<DepositView>,
    /// The text typed in the form, shown again after an error.
    typed: String,
    notice: String,
    error: String,
}

impl DepositsPage {
    fn state_name(&self, status: &str) -> &'static str {
        self.ctx.t(match status {
            "held" => "trading.deposit.admin.status.held",
            "refunded" => "trading.deposit.admin.status.refunded",
            "applied" => "trading.deposit.admin.status.applied",
            _ => "trading.deposit.admin.status.forfeited",
        })
    }
}

async fn page(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    ctx: PageCtx,
    id: Uuid,
    typed: String,
    error: String,
) -> Result<Response> {
    let (title, deposit_fen) = trading::deposit_rule(&state.pool, id).await?;
    let items = trading::deposits_of(&state.pool, Some(user), id).await?;
    let notice = if ctx.query_param("done").is_some() {
        ctx.t("trading.deposit.admin.recorded").to_string()
    } else {
        String::new()
    };
    render(&DepositsPage {
        ctx,
        listing_id: id,
        title,
        deposit_fen,
        items,
        typed,
        notice,
        error,
    })
}

async fn deposits_page(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    page(&state, &user, ctx, id, String::new(), String::new()).await
}

/// Records a deposit: the organisation by its 统一社会信用代码 or its id.
async fn deposit_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let typed = form.get("organization").trim().to_string();
    let result = match trading::find_organization(&state.pool, &typed).await? {
        None => Err(Error::conflict("deposit_unknown_organization")),
        Some(org) => {
            let input = DepositInput {
                organization_id: org,
            };
            trading::record_deposit(&state.pool, &user, id, input).await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/listings/{id}/deposits?done=1")).into_response()),
        Err(Error::NotFound) => Err(Error::NotFound),
        Err(e) => {
            let status = e.status();
            let msg = error_text(&ctx, e.code(), &[]);
            let mut resp = page(&state, &user, ctx, id, typed, msg).await?;
            *resp.status_mut() = status;
            Ok(resp)
        }
    }
}
