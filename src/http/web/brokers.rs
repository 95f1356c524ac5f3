//! Pages of technology brokers (技术经纪人): the directory (`/brokers`), a broker's page with
//! their deals, commission earned and pending and the answer to proposals (`/brokers/{id}`), the
//! engagement step on the trade page (`TradeBrokers`, drawn by `templates/brokers/_trade.html`),
//! and the admins' certification (`/admin/brokers`).
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::domain::money::{format_ppm_percent, parse_percent_ppm};
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::brokers::{
    self, BrokerDeals, BrokerView, CertifyInput, EngageInput, EngagementView, RevokeInput,
};
use crate::service::settlement::{Party, TradeView};
use crate::service::{Page, PageQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/brokers", get(directory))
        .route("/brokers/{id}", get(broker_page))
        .route("/broker-engagements/{id}/accept", post(accept_submit))
        .route("/broker-engagements/{id}/decline", post(decline_submit))
        .route("/trades/{id}/broker", post(engage_submit))
        .route("/admin/brokers", get(admin_page).post(certify_submit))
        .route("/admin/brokers/{id}/revoke", post(revoke_submit))
}

fn rate(ppm: &i64) -> String {
    format_ppm_percent(*ppm)
}

// ---------------------------------------------------------------- the trade page's step

/// The brokers section of a trade page: its engagements, and the form to engage one for the
/// viewer's side while the trade awaits payment.
pub struct TradeBrokers {
    pub engagements: Vec<EngagementView>,
    /// `buyer` | `seller` when the viewer may engage a broker for that side now, else "".
    pub side: String,
    /// Active brokers to choose from (when `side` is set).
    pub choices: Vec<BrokerView>,
    /// Why the last engagement was refused (`?broker_error=`), translated.
    pub error: String,
}

impl TradeBrokers {
    pub fn rate(&self, ppm: &i64) -> String {
        rate(ppm)
    }
}

/// What the trade page shows of brokers for `user` (`party` to trade `t`).
pub async fn for_trade(
    state: &AppState,
    ctx: &PageCtx,
    t: &TradeView,
    party: Party,
) -> Result<TradeBrokers> {
    let mut conn = state.pool.acquire().await?;
    let engagements = brokers::trade_engagements(&mut conn, t.id).await?;
    drop(conn);
    let side = match party {
        Party::Buyer => "buyer",
        Party::Seller => "seller",
        _ => "",
    };
    let busy = engagements
        .iter()
        .any(|e| e.side == side && matches!(e.status.as_str(), "proposed" | "accepted" | "paid"));
    let side = if t.status == "awaiting_payment" && !busy {
        side
    } else {
        ""
    };
    let choices = if side.is_empty() {
        Vec::new()
    } else {
        let all = PageQuery {
            page: Some(1),
            per_page: Some(100),
        };
        brokers::list(&state.pool, false, all).await?.items
    };
    let error = ctx
        .query_param("broker_error")
        .map(|v| format!("broker.refused.{v}"))
        .filter(|k| crate::i18n::catalog(ctx.lang).contains_key(k))
        .map(|k| ctx.t(&k).to_string())
        .unwrap_or_default();
    Ok(TradeBrokers {
        engagements,
        side: side.to_string(),
        choices,
        error,
    })
}

/// The code `?broker_error=` carries for a refused engagement.
fn refusal(e: &Error) -> &'static str {
    match e {
        Error::Validation(f) => match f.0.first().map(|fe| fe.key) {
            Some("err.broker.counterparty") => "counterparty",
            Some("err.broker.commission_exceeds_proceeds") => "commission_exceeds_proceeds",
            Some("err.broker.commission_range") => "commission_range",
            _ => "unknown",
        },
        Error::Conflict {
            code: "broker_already_engaged",
            ..
        } => "already",
        Error::Conflict { .. } => "state",
        _ => "forbidden",
    }
}

pub async fn engage_submit(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let back = |code: &str| Redirect::to(&format!("/trades/{id}?broker_error={code}#brokers"));
    let Ok(ppm) = parse_percent_ppm(form.get("rate")) else {
        return Ok(back("bad_rate").into_response());
    };
    let Ok(broker_id) = Uuid::parse_str(form.get("broker_id").trim()) else {
        return Ok(back("unknown").into_response());
    };
    let input = EngageInput {
        broker_id,
        side: form.get("side").to_string(),
        commission_ppm: ppm,
    };
    match brokers::engage(&state.pool, &user, id, input, state.clock.now()).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/trades/{id}?done=broker_engaged#brokers")).into_response())
        }
        Err(e @ (Error::NotFound | Error::Unavailable(_) | Error::Internal(_))) => Err(e),
        Err(e) => Ok(back(refusal(&e)).into_response()),
    }
}

// ---------------------------------------------------------------- directory and broker page

#[derive(Template)]
#[template(path = "brokers/directory.html")]
struct DirectoryPage {
    ctx: PageCtx,
    brokers: Page<BrokerView>,
    mine: Option<BrokerView>,
}

pub async fn directory(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
) -> Result<Response> {
    let page = PageQuery {
        page: ctx.query_param("page").and_then(|p| p.parse().ok()),
        per_page: Some(50),
    };
    let list = brokers::list(&state.pool, false, page).await?;
    let mine = brokers::mine(&state.pool, &user).await?;
    render(&DirectoryPage {
        ctx,
        brokers: list,
        mine,
    })
}

#[derive(Template)]
#[template(path = "brokers/broker.html")]
struct BrokerPage {
    ctx: PageCtx,
    broker: BrokerView,
    /// The deals and totals (the broker themself and admins; `None` for others).
    deals: Option<BrokerDeals>,
    is_broker: bool,
}

impl BrokerPage {
    fn rate(&self, ppm: &i64) -> String {
        rate(ppm)
    }
}

pub async fn broker_page(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let broker = brokers::get(&state.pool, id).await?;
    let page = PageQuery {
        page: ctx.query_param("page").and_then(|p| p.parse().ok()),
        per_page: Some(50),
    };
    let deals = match brokers::deals(&state.pool, &user, id, page).await {
        Ok(d) => Some(d),
        Err(Error::Forbidden(_)) => None,
        Err(e) => return Err(e),
    };
    render(&BrokerPage {
        ctx,
        is_broker: broker.user_id == user.id,
        broker,
        deals,
    })
}

async fn answer_submit(
    state: AppState,
    user: CurrentUser,
    id: String,
    accept: bool,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let e = brokers::answer(&state.pool, &user, id, accept, state.clock.now()).await?;
    let done = if accept {
        "broker_accepted"
    } else {
        "broker_declined"
    };
    Ok(Redirect::to(&format!("/brokers/{}?done={done}", e.broker_id)).into_response())
}

pub async fn accept_submit(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    answer_submit(state, user, id, true).await
}

pub async fn decline_submit(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    answer_submit(state, user, id, false).await
}

// ---------------------------------------------------------------- admins' certification

#[derive(Template)]
#[template(path = "brokers/admin.html")]
struct AdminPage {
    ctx: PageCtx,
    brokers: Page<BrokerView>,
    errors: FormErrors,
    email: String,
    certificate_no: String,
}

async fn admin_render(
    state: &AppState,
    ctx: PageCtx,
    errors: FormErrors,
    email: String,
    certificate_no: String,
) -> Result<Response> {
    let page = PageQuery {
        page: ctx.query_param("page").and_then(|p| p.parse().ok()),
        per_page: Some(100),
    };
    let list = brokers::list(&state.pool, true, page).await?;
    render(&AdminPage {
        ctx,
        brokers: list,
        errors,
        email,
        certificate_no,
    })
}

pub async fn admin_page(
    State(state): State<AppState>,
    WebAdmin(_, ctx): WebAdmin,
) -> Result<Response> {
    admin_render(
        &state,
        ctx,
        FormErrors::default(),
        String::new(),
        String::new(),
    )
    .await
}

pub async fn certify_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    let email = form.get("email").trim().to_string();
    let certificate_no = form.get("certificate_no").to_string();
    let found = brokers::user_by_email(&state.pool, &user, &email).await?;
    let Some(member) = found else {
        let errors = FormErrors(vec![(
            "email".into(),
            ctx.t("broker.unknown_email").to_string(),
        )]);
        return admin_render(&state, ctx, errors, email, certificate_no).await;
    };
    let input = CertifyInput {
        user_id: member,
        certificate_no: certificate_no.clone(),
    };
    match brokers::certify(&state.pool, &user, input, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to("/admin/brokers?done=broker_certified").into_response()),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let mut errors = FormErrors::from_error(ctx.lang, &e);
            if let Error::Conflict { code, .. } = &e {
                errors.0.push((
                    "certificate_no".into(),
                    ctx.t(&format!("error.{code}")).to_string(),
                ));
            }
            if errors.has("user_id") {
                errors
                    .0
                    .push(("email".into(), errors.get("user_id").to_string()));
            }
            admin_render(&state, ctx, errors, email, certificate_no).await
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke_submit(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let input = RevokeInput {
        reason: form.get("reason").to_string(),
    };
    brokers::revoke(&state.pool, &user, id, input, state.clock.now()).await?;
    Ok(Redirect::to("/admin/brokers?done=broker_revoked").into_response())
}
