//! Pages: the settlement account of an admin's exchange (`/admin/settlement-account`), where its
//! buyers are told to pay; the seller's delivery form of a trade and the files attached to it.
use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin, WebUser};
use crate::http::state::AppState;
use crate::http::web::listings::documents::read_upload;
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
        .route(
            "/trades/{id}/delivery/attachments/{aid}",
            get(attachment_download),
        )
        .merge(
            // Attachments may be up to 10 MiB: this route's body limit only (the framing on top).
            Router::new()
                .route("/trades/{id}/delivery/attachments", post(attachment_upload))
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::domain::documents::MAX_BYTES + 64 * 1024,
                )),
        )
}

/// The seller attaches a file to its delivery from the trade page (multipart with the CSRF token,
/// checked before anything else is looked at). A refusal comes back to the trade page as a
/// sentence (`?attach_error=`).
async fn attachment_upload(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let back = |why: &str| {
        Ok(Redirect::to(&format!("/trades/{id}?attach_error={why}#delivery")).into_response())
    };
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        // Read as an ordinary form, so a missing token is still 403.
        Form::from_request(req, &state).await?;
        return back("missing");
    }
    let sent = match Multipart::from_request(req, &state).await {
        Ok(m) => read_upload(m).await,
        Err(_) => Err(Error::bad_request("invalid_multipart")),
    };
    let sent = match sent {
        Ok(s) => s,
        // Too large or malformed: nothing was stored (a token cannot be read from a body that was
        // not read to its end, so none is needed to say so).
        Err(Error::PayloadTooLarge) => return back("too_large"),
        Err(_) => return back("missing"),
    };
    if ctx.csrf.is_empty() || !crate::auth::token::same(&sent.csrf, &ctx.csrf) {
        return Err(Error::Forbidden("csrf_failed"));
    }
    let Some((name, data)) = sent.file else {
        return back("missing");
    };
    match settlement::attach(&state, &user, id, &name, &data).await {
        Ok(_) => Ok(Redirect::to(&format!("/trades/{id}?done=attached#delivery")).into_response()),
        Err(Error::PayloadTooLarge) => back("too_large"),
        Err(Error::Validation(f)) => {
            if f.iter().any(|e| e.key == "err.document.empty") {
                back("empty")
            } else {
                back("type")
            }
        }
        Err(Error::Conflict {
            code: "too_many_attachments",
            ..
        }) => back("too_many"),
        Err(Error::Conflict { .. }) => back("state"),
        Err(e) => Err(e),
    }
}

/// A delivery attachment as a download (the parties and the admins of their exchanges).
async fn attachment_download(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response> {
    let (id, aid) = (parse_id(&id)?, parse_id(&aid)?);
    let (d, data) = settlement::download_attachment(&state, &user, id, aid).await?;
    Ok(crate::http::respond::document_response(&d, data))
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
