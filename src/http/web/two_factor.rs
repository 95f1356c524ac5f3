//! The two-factor sign-in page (`/account/two-factor`): enrolment with a QR code, the ten recovery
//! codes shown once, new recovery codes, turning it off (members only).
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::qr::QrSvg;
use crate::http::web::render;
use crate::service::two_factor::{self, Status};

pub fn router() -> Router<AppState> {
    Router::new().route("/account/two-factor", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "accounts/two_factor.html")]
struct TwoFactorPage {
    ctx: PageCtx,
    status: Status,
    /// While enrolling: the QR code of the otpauth URI and the secret to type in.
    qr: Option<QrSvg>,
    secret: String,
    /// Recovery codes just made (shown once).
    codes: Vec<String>,
    message: String,
}

async fn show(
    state: &AppState,
    ctx: PageCtx,
    codes: Vec<String>,
    message: String,
) -> Result<Response> {
    let user = ctx
        .user
        .clone()
        .ok_or(Error::Unauthorized("unauthorized"))?;
    let status = two_factor::status(&state.pool, &user).await?;
    let (qr, secret) = if status.enabled {
        (None, String::new())
    } else {
        let e = two_factor::begin(&state.pool, &user).await?;
        let qr = QrSvg::new(&e.otpauth_uri, 180)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("otpauth URI too long")))?;
        (Some(qr), e.secret_base32)
    };
    render(&TwoFactorPage {
        ctx,
        status,
        qr,
        secret,
        codes,
        message,
    })
}

async fn page(State(state): State<AppState>, WebUser(_, ctx): WebUser) -> Result<Response> {
    show(&state, ctx, Vec::new(), String::new()).await
}

async fn submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    form: Form,
) -> Result<Response> {
    let code = form.get("otp").trim().to_string();
    let now = state.clock.now();
    let done = match form.get("action") {
        "confirm" => two_factor::confirm(&state.pool, &user, &code, now).await,
        "renew" => two_factor::renew_recovery(&state.pool, &user, &code, now).await,
        "disable" => two_factor::disable(&state.pool, &user, &code, now)
            .await
            .map(|_| Vec::new()),
        _ => return Err(Error::bad_request("invalid_action")),
    };
    match done {
        Ok(codes) if codes.is_empty() => {
            Ok(Redirect::to("/account/two-factor?done=two_factor_off").into_response())
        }
        Ok(codes) => show(&state, ctx, codes, String::new()).await,
        Err(e @ (Error::Validation(_) | Error::Forbidden(_) | Error::Conflict { .. })) => {
            let message = match &e {
                Error::Validation(_) => ctx.t("err.otp.wrong").to_string(),
                _ => crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string(),
            };
            let status = e.status();
            let mut resp = show(&state, ctx, Vec::new(), message).await?;
            *resp.status_mut() = status;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}
