//! Pages: the settlement account of an admin's exchange (`/admin/settlement-account`), where its
//! buyers are told to pay; the seller's delivery form of a trade.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::settlement::{
    self, DeliveryInput, SettlementAccountInput, SettlementAccountView,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/settlement-account",
            get(account_page).post(account_submit),
        )
        .route("/trades/{id}/delivery", post(delivery_submit))
}

/// The seller records delivery from the trade page.
async fn delivery_submit(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = Some(form.get("idem").to_string()).filter(|k| !k.is_empty());
    let input = DeliveryInput {
        note: form.get("note").to_string(),
    };
    let now = state.clock.now();
    let result = settlement::deliver(&state.pool, &user, id, input, key.as_deref(), now).await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/trades/{id}?done=delivered")).into_response()),
        Err(Error::Validation(_)) => {
            Ok(Redirect::to(&format!("/trades/{id}?error=delivery_note")).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "settlement/account.html")]
struct AccountPage {
    ctx: PageCtx,
    current: Option<SettlementAccountView>,
    input: SettlementAccountInput,
    errors: FormErrors,
    saved: bool,
}

async fn account_page(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
) -> Result<Response> {
    let current = settlement::settlement_account(&state.pool, &user).await?;
    let input = SettlementAccountInput {
        bank: current.as_ref().map(|a| a.bank.clone()).unwrap_or_default(),
        account_name: current
            .as_ref()
            .map(|a| a.account_name.clone())
            .unwrap_or_default(),
        account_number: current
            .as_ref()
            .map(|a| a.account_number.clone())
            .unwrap_or_default(),
    };
    let saved = ctx.query_param("saved").is_some();
    render(&AccountPage {
        ctx,
        current,
        input,
        errors: FormErrors::default(),
        saved,
    })
}

async fn account_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    let input = SettlementAccountInput {
        bank: form.get("bank").to_string(),
        account_name: form.get("account_name").to_string(),
        account_number: form.get("account_number").to_string(),
    };
    let now = state.clock.now();
    match settlement::set_settlement_account(&state.pool, &user, input.clone(), now).await {
        Ok(_) => Ok(Redirect::to("/admin/settlement-account?saved=1").into_response()),
        Err(e @ Error::Validation(_)) => {
            let current = settlement::settlement_account(&state.pool, &user).await?;
            let errors = FormErrors::from_error(ctx.lang, &e);
            let mut resp = render(&AccountPage {
                ctx,
                current,
                input,
                errors,
                saved: false,
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}
