//! Pages of technology finance (科技金融): the public page of lenders and their financing
//! products (`/finance`), a lender's product form, pledge requests (apply from a listing, the
//! owner's list and the lender's queue, one request with its valuation reference and chart, and
//! the lender's approve, reject, release and consent forms).
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::domain::money::parse_yuan;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::chart::{Chart, Look, Unit};
use crate::http::web::{render, FormErrors};
use crate::service::listings::{self, ListingView};
use crate::service::pledges::{
    self, ApproveInput, ConsentInput, LenderView, PledgeInput, PledgeQuery, PledgeView,
    ProductInput, ProductView, RejectInput,
};
use crate::service::{Page, PageQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/finance", get(finance_page))
        .route("/finance/products", post(product_submit))
        .route("/finance/pledges", get(pledges_page))
        .route("/listings/{id}/pledge", get(apply_page).post(apply_submit))
        .route("/finance/pledges/{id}", get(pledge_page))
        .route("/finance/pledges/{id}/approve", post(approve_submit))
        .route("/finance/pledges/{id}/reject", post(reject_submit))
        .route("/finance/pledges/{id}/release", post(release_submit))
        .route("/finance/pledges/{id}/consent", post(consent_submit))
}

// ---------------------------------------------------------------- the public page

#[derive(Template)]
#[template(path = "finance/finance.html")]
struct FinancePage {
    ctx: PageCtx,
    lenders: Vec<LenderView>,
    products: Page<ProductView>,
    /// The viewer belongs to a verified financial institution: the product form is shown.
    is_lender: bool,
    errors: FormErrors,
    form: Vec<(String, String)>,
}

impl FinancePage {
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

async fn is_lender(state: &AppState, ctx: &PageCtx, lenders: &[LenderView]) -> bool {
    let _ = state;
    ctx.user
        .as_ref()
        .and_then(|u| u.organization_id)
        .is_some_and(|org| lenders.iter().any(|l| l.id == org))
}

async fn finance_page(State(state): State<AppState>, Ctx(ctx, _): Ctx) -> Result<Response> {
    let lenders = pledges::lenders(&state.pool).await?;
    let products = pledges::products(
        &state.pool,
        PageQuery {
            page: None,
            per_page: Some(100),
        },
    )
    .await?;
    let is_lender = is_lender(&state, &ctx, &lenders).await;
    render(&FinancePage {
        ctx,
        lenders,
        products,
        is_lender,
        errors: FormErrors::default(),
        form: Vec::new(),
    })
}

/// A percentage as typed (`3.5` or `3.5%`) in ppm; an unreadable one is -1 (refused as a rate).
fn ppm(s: &str) -> i64 {
    crate::domain::money::parse_percent_ppm(s.trim().trim_end_matches('%')).unwrap_or(-1)
}

fn int(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

async fn product_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    form: Form,
) -> Result<Response> {
    let input = ProductInput {
        name: form.get("name").to_string(),
        rate_min_ppm: ppm(form.get("rate_min")),
        rate_max_ppm: ppm(form.get("rate_max")),
        max_amount_fen: parse_yuan(form.get("max_amount")).unwrap_or(0),
        term_min_months: int(form.get("term_min_months")),
        term_max_months: int(form.get("term_max_months")),
    };
    match pledges::create_product(&state, &user, input).await {
        Ok(_) => Ok(Redirect::to("/finance?done=product_published").into_response()),
        Err(e @ Error::Validation(_)) => {
            let lenders = pledges::lenders(&state.pool).await?;
            let products = pledges::products(
                &state.pool,
                PageQuery {
                    page: None,
                    per_page: Some(100),
                },
            )
            .await?;
            let mut resp = render(&FinancePage {
                errors: FormErrors::from_error(ctx.lang, &e),
                is_lender: true,
                ctx,
                lenders,
                products,
                form: form.0,
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- lists

#[derive(Template)]
#[template(path = "finance/pledges.html")]
struct PledgesPage {
    ctx: PageCtx,
    mine: Page<PledgeView>,
    queue: Page<PledgeView>,
    is_lender: bool,
}

async fn pledges_page(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
) -> Result<Response> {
    let q = |role: &str| PledgeQuery {
        role: Some(role.to_string()),
        per_page: Some(100),
        ..PledgeQuery::default()
    };
    let mine = pledges::list(&state.pool, &user, &q("owner")).await?;
    let queue = pledges::list(&state.pool, &user, &q("lender")).await?;
    let lenders = pledges::lenders(&state.pool).await?;
    let is_lender = is_lender(&state, &ctx, &lenders).await;
    render(&PledgesPage {
        ctx,
        mine,
        queue,
        is_lender,
    })
}

impl PledgesPage {
    fn status_name(&self, status: &str) -> String {
        status_name(&self.ctx, status)
    }
}

/// A pledge request's status in the page's language.
fn status_name(ctx: &PageCtx, status: &str) -> String {
    ctx.t(&format!("finance.status_{status}")).to_string()
}

// ---------------------------------------------------------------- applying

#[derive(Template)]
#[template(path = "finance/apply.html")]
struct ApplyPage {
    ctx: PageCtx,
    l: ListingView,
    lenders: Vec<LenderView>,
    errors: FormErrors,
    /// Why the request was refused ("" otherwise).
    notice: String,
    lender: String,
    amount: String,
    term: String,
}

async fn apply_page(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let l = listings::get(&state.pool, Some(&user), id).await?;
    let lenders = pledges::lenders(&state.pool).await?;
    render(&ApplyPage {
        ctx,
        l,
        lenders,
        errors: FormErrors::default(),
        notice: String::new(),
        lender: String::new(),
        amount: String::new(),
        term: "12".into(),
    })
}

async fn apply_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let mut errors = Vec::new();
    let lender = parse_id(form.get("lender"));
    let amount = parse_yuan(form.get("amount"));
    if lender.is_err() {
        errors.push((
            "lender_organization_id".to_string(),
            ctx.t("err.pledge.lender").to_string(),
        ));
    }
    if amount.is_err() {
        errors.push((
            "amount_fen".to_string(),
            ctx.t("err.amount.not_a_number").to_string(),
        ));
    }
    let result = match (lender, amount) {
        (Ok(lender), Ok(amount_fen)) => {
            let input = PledgeInput {
                lender_organization_id: lender,
                amount_fen,
                term_months: int(form.get("term")),
            };
            Some(pledges::apply(&state, &user, id, input).await)
        }
        _ => None,
    };
    let (errors, notice) = match result {
        Some(Ok(p)) => {
            return Ok(
                Redirect::to(&format!("/finance/pledges/{}?done=pledge_requested", p.id))
                    .into_response(),
            )
        }
        Some(Err(e @ Error::Validation(_))) => {
            (FormErrors::from_error(ctx.lang, &e), String::new())
        }
        Some(Err(e @ (Error::Conflict { .. } | Error::Forbidden(_)))) => {
            (FormErrors::default(), notice_of(&ctx, &e))
        }
        Some(Err(e)) => return Err(e),
        None => (FormErrors(errors), String::new()),
    };
    let l = listings::get(&state.pool, Some(&user), id).await?;
    let lenders = pledges::lenders(&state.pool).await?;
    let mut resp = render(&ApplyPage {
        ctx,
        l,
        lenders,
        errors,
        notice,
        lender: form.get("lender").to_string(),
        amount: form.get("amount").to_string(),
        term: form.get("term").to_string(),
    })?;
    *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
}

// ---------------------------------------------------------------- one request

#[derive(Template)]
#[template(path = "finance/pledge.html")]
struct PledgePage {
    ctx: PageCtx,
    p: PledgeView,
    is_lender: bool,
    chart: Option<Chart>,
    notice: String,
}

impl PledgePage {
    fn status_name(&self, status: &str) -> String {
        status_name(&self.ctx, status)
    }
}

/// The comparable trades' prices as bars, oldest first, labelled by the day they settled.
fn comparables_chart(ctx: &PageCtx, p: &PledgeView) -> Option<Chart> {
    let points: Vec<_> = p.valuation.comparables.iter().rev().collect();
    if points.is_empty() {
        return None;
    }
    let labels: Vec<String> = points
        .iter()
        .map(|c| ctx.time(&c.settled_at).chars().take(10).collect())
        .collect();
    let prices: Vec<i64> = points.iter().map(|c| c.price_fen).collect();
    Some(
        Chart::categories(ctx.lang, "comparables", labels, Unit::Fen)
            .titles(ctx.t("pledge.chart_title"), ctx.t("pledge.chart_desc"))
            .axis_titles(ctx.t("pledge.settled_on"), ctx.t("pledge.price"))
            .bars(ctx.t("pledge.price"), Look::nth(0), &prices)
            .build(),
    )
}

async fn pledge_page(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let p = pledges::get(&state.pool, &user, id).await?;
    show(ctx, p, String::new())
}

fn show(ctx: PageCtx, p: PledgeView, notice: String) -> Result<Response> {
    let is_lender = ctx
        .user
        .as_ref()
        .is_some_and(|u| u.organization_id == Some(p.lender_organization.id));
    let chart = comparables_chart(&ctx, &p);
    render(&PledgePage {
        ctx,
        p,
        is_lender,
        chart,
        notice,
    })
}

async fn approve_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    pledge_action(state, user, ctx, id, "approve", form).await
}

async fn reject_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    pledge_action(state, user, ctx, id, "reject", form).await
}

async fn release_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    pledge_action(state, user, ctx, id, "release", form).await
}

async fn consent_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    pledge_action(state, user, ctx, id, "consent", form).await
}

/// The lender's forms: `approve` (registration_no), `reject` (reason), `release`, `consent` (mode).
async fn pledge_action(
    state: AppState,
    user: crate::auth::CurrentUser,
    ctx: PageCtx,
    id: String,
    action: &str,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let result = match action {
        "approve" => {
            let input = ApproveInput {
                registration_no: form.get("registration_no").to_string(),
            };
            pledges::approve(&state, &user, id, input).await
        }
        "reject" => {
            let input = RejectInput {
                reason: form.get("reason").to_string(),
            };
            pledges::reject(&state, &user, id, input).await
        }
        "release" => pledges::release(&state, &user, id).await,
        "consent" => {
            let input = ConsentInput {
                trade_mode: form.get("trade_mode").to_string(),
            };
            pledges::consent(&state, &user, id, input).await
        }
        _ => return Err(Error::NotFound),
    };
    match result {
        Ok(p) => Ok(
            Redirect::to(&format!("/finance/pledges/{}?done=pledge_{action}", p.id))
                .into_response(),
        ),
        Err(
            e @ (Error::Validation(_) | Error::Conflict { .. } | Error::Forbidden("not_lender")),
        ) => {
            let p = pledges::get(&state.pool, &user, id).await?;
            let notice = notice_of(&ctx, &e);
            let mut resp = show(ctx, p, notice)?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

/// Why an action was refused, in the page's language (each field's problem for a validation).
fn notice_of(ctx: &PageCtx, e: &Error) -> String {
    match e {
        Error::Validation(_) => FormErrors::from_error(ctx.lang, e)
            .0
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
            .join(" "),
        _ => crate::http::error::message(ctx.lang, e),
    }
}
