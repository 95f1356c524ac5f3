//! Pages: my trades, a trade, its settlement statement; admin trades, ledger, revenue, restrictions.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::domain::error::FieldErrors;
use crate::domain::fees::SideSchedule;
use crate::domain::listing::TradeStatus;
use crate::domain::movements::MovementKind;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::accounts::OrgView;
use crate::service::settlement::{
    self, Action, Balances, Party, PaymentInstructions, Restriction, RestrictionInput, Revenue,
    Statement, TradeView, VerifyReport,
};
use crate::service::{Page, PageQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trades", get(trades))
        .route("/trades/{id}", get(trade))
        .route("/trades/{id}/statement", get(statement))
        .route("/trades/{id}/confirm-delivery", post(confirm_delivery))
        .route("/trades/{id}/cancel", post(cancel))
        .route("/admin/trades", get(admin_trades))
        .route(
            "/admin/trades/{id}/payment-received",
            post(payment_received),
        )
        .route("/admin/trades/registration.csv", get(registration_csv))
        .route("/admin/ledger", get(ledger))
        .route("/admin/revenue", get(revenue))
        .route(
            "/admin/restrictions",
            get(restrictions).post(restrict_submit),
        )
        .route("/admin/restrictions/{org}/lift", post(lift_submit))
}

// ---------------------------------------------------------------- trades

#[derive(Template)]
#[template(path = "settlement/trades.html")]
struct TradesPage {
    ctx: PageCtx,
    /// "buyer" | "seller" | "" (both) for members; "admin" for an admin's exchange view.
    tab: String,
    admin_exchange: String,
    /// The status filter ("" for all).
    status: String,
    items: Page<TradeView>,
    /// A fresh Idempotency-Key for the forms on this page.
    idem: String,
}

impl TradesPage {
    fn is_buyer(&self, t: &TradeView) -> bool {
        self.ctx
            .user
            .as_ref()
            .and_then(|u| u.organization_id)
            .is_some_and(|o| o == t.buyer_organization_id)
    }
    fn base(&self) -> &'static str {
        if self.tab == "admin" {
            "/admin/trades"
        } else {
            "/trades"
        }
    }
    /// This list with another status filter (keeps the role tab).
    fn status_link(&self, status: &str) -> String {
        let mut q = Vec::new();
        if self.tab == "buyer" || self.tab == "seller" {
            q.push(format!("role={}", self.tab));
        }
        if !status.is_empty() {
            q.push(format!("status={status}"));
        }
        if q.is_empty() {
            self.base().to_string()
        } else {
            format!("{}?{}", self.base(), q.join("&"))
        }
    }
    fn page_link(&self, page: i64) -> String {
        let l = self.status_link(&self.status);
        let sep = if l.contains('?') { '&' } else { '?' };
        format!("{l}{sep}page={page}")
    }
    fn status_name(&self, s: &TradeStatus) -> &'static str {
        if self.ctx.is_zh() {
            s.name_zh()
        } else {
            s.name_en()
        }
    }
    fn statuses(&self) -> &'static [TradeStatus] {
        TradeStatus::ALL
    }
}

#[derive(Deserialize)]
pub struct TradesQuery {
    role: Option<String>,
    status: Option<String>,
    page: Option<i64>,
}

async fn trades_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    role: Option<&str>,
    status: Option<&str>,
    page: Option<i64>,
) -> Result<Response> {
    let role = role.filter(|r| *r == "buyer" || *r == "seller");
    let status = status.and_then(TradeStatus::parse);
    let items = settlement::list(
        &state.pool,
        user,
        role,
        status.map(|s| s.code()),
        PageQuery {
            page: Some(page.unwrap_or(1).max(1)),
            per_page: Some(50),
        },
    )
    .await?;
    let admin_exchange = user
        .admin_exchange
        .map(|e| e.code().to_string())
        .unwrap_or_default();
    render(&TradesPage {
        ctx,
        tab: if user.is_admin() {
            "admin".into()
        } else {
            role.unwrap_or("").into()
        },
        admin_exchange,
        status: status.map(|s| s.code()).unwrap_or("").to_string(),
        items,
        idem: Uuid::now_v7().to_string(),
    })
}

pub async fn trades(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Query(q): Query<TradesQuery>,
) -> Result<Response> {
    trades_page(
        &state,
        &user,
        ctx,
        q.role.as_deref(),
        q.status.as_deref(),
        q.page,
    )
    .await
}

pub async fn admin_trades(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<TradesQuery>,
) -> Result<Response> {
    trades_page(&state, &user, ctx, None, q.status.as_deref(), q.page).await
}

#[derive(Template)]
#[template(path = "settlement/trade.html")]
struct TradePage {
    ctx: PageCtx,
    t: TradeView,
    can_pay: bool,
    can_confirm: bool,
    can_deliver: bool,
    can_cancel: bool,
    /// A party may open a dispute (paid, or delivered within the acceptance period).
    can_dispute: bool,
    /// The buyer's cancellation count is shown to the seller and admins.
    show_cancellations: bool,
    idem: String,
    buyer_pays: i64,
    seller_receives: i64,
    /// Where and how much to pay (the buyer and admins, while the payment is awaited).
    pay: Option<PaymentInstructions>,
    /// Why the last action was refused (`?error=`), translated; `?done=` confirmations are shown
    /// by the base layout.
    error: String,
    /// Its technology brokers and the engagement step (`web::brokers`).
    brokers: crate::http::web::brokers::TradeBrokers,
    /// The seller may attach files to its delivery (paid or delivered).
    can_attach: bool,
    /// Why the last attachment was refused (`?attach_error=`), translated.
    attach_error: String,
}

impl TradePage {
    fn capital(&self, fen: &i64) -> String {
        crate::domain::amounts::capital(*fen)
    }
    fn outcome_name(&self, code: &str) -> &'static str {
        crate::domain::dispute::Outcome::parse(code)
            .map(|o| {
                if self.ctx.is_zh() {
                    o.name_zh()
                } else {
                    o.name_en()
                }
            })
            .unwrap_or("—")
    }
    fn party_name(&self, code: &str) -> &str {
        match code {
            "seller" => self.ctx.t("disputes.party.seller"),
            "buyer" => self.ctx.t("disputes.party.buyer"),
            _ => self.ctx.t("cancel.by_payment_timeout"),
        }
    }
}

pub async fn trade(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let (t, party) = settlement::get(&state.pool, &user, id, state.clock.now()).await?;
    let status = t.status.as_str();
    let error = ctx
        .query_param("error")
        .map(|v| format!("settlement.refused.{v}"))
        .filter(|k| crate::i18n::catalog(ctx.lang).contains_key(k))
        .map(|k| ctx.t(&k).to_string())
        .unwrap_or_default();
    let pay = if status == "awaiting_payment" && party != Party::Seller {
        Some(settlement::payment_instructions(&state.pool, &user, id).await?)
    } else {
        None
    };
    let brokers = crate::http::web::brokers::for_trade(&state, &ctx, &t, party).await?;
    let attach_error = ctx
        .query_param("attach_error")
        .map(|v| format!("settlement.attachments.{v}"))
        .filter(|k| k.len() < 80 && crate::i18n::catalog(ctx.lang).contains_key(k))
        .map(|k| ctx.t(&k).to_string())
        .unwrap_or_default();
    render(&TradePage {
        brokers,
        error,
        attach_error,
        can_attach: party == Party::Seller && matches!(status, "paid" | "delivered"),
        pay,
        can_pay: matches!(party, Party::InvolvedAdmin(_)) && status == "awaiting_payment",
        can_confirm: party == Party::Buyer && matches!(status, "paid" | "delivered"),
        can_deliver: party == Party::Seller && status == "paid",
        can_cancel: matches!(party, Party::Buyer | Party::Seller) && status == "awaiting_payment",
        show_cancellations: party != Party::Buyer,
        can_dispute: matches!(party, Party::Buyer | Party::Seller)
            && (status == "paid"
                || (status == "delivered"
                    && t.acceptance_due_at.is_some_and(|d| d > state.clock.now()))),
        ctx,
        buyer_pays: t.buyer_pays_fen(),
        seller_receives: t.seller_receives_fen(),
        t,
        idem: Uuid::now_v7().to_string(),
    })
}

async fn web_action(
    state: AppState,
    user: CurrentUser,
    id: String,
    form: Form,
    action: Action,
) -> Result<Uuid> {
    let id = parse_id(&id)?;
    let key = Some(form.get("idem").to_string()).filter(|k| !k.is_empty());
    settlement::act(&state.pool, &user, id, action, key.as_deref()).await?;
    Ok(id)
}

/// Payment and delivery move money: the box confirming the amount must be ticked. Without it the
/// trade page comes back saying so, and nothing happens.
fn unconfirmed(form: &Form, id: &str) -> Result<Option<Response>> {
    if form.get("confirm") == "1" {
        return Ok(None);
    }
    let id = parse_id(id)?;
    Ok(Some(
        Redirect::to(&format!("/trades/{id}?error=confirm_required")).into_response(),
    ))
}

pub async fn confirm_delivery(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    if let Some(back) = unconfirmed(&form, &id)? {
        return Ok(back);
    }
    let id = web_action(state, user, id, form, Action::ConfirmDelivery).await?;
    Ok(Redirect::to(&format!("/trades/{id}?done=settled")).into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = Some(form.get("idem").to_string()).filter(|k| !k.is_empty());
    let input = settlement::CancelInput {
        reason: form.get("reason").to_string(),
    };
    let result = settlement::cancel(&state.pool, &user, id, input, key.as_deref()).await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/trades/{id}?done=cancelled")).into_response()),
        Err(Error::Validation(_)) => {
            Ok(Redirect::to(&format!("/trades/{id}?error=cancel_reason")).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn payment_received(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    if let Some(back) = unconfirmed(&form, &id)? {
        return Ok(back);
    }
    let back = if form.get("back") == "trade" {
        None
    } else {
        Some("/admin/trades?done=paid".to_string())
    };
    let id = web_action(state, user, id, form, Action::PaymentReceived).await?;
    Ok(Redirect::to(&back.unwrap_or_else(|| format!("/trades/{id}?done=paid"))).into_response())
}

// ---------------------------------------------------------------- statement

#[derive(Template)]
#[template(path = "settlement/statement.html")]
struct StatementPage {
    ctx: PageCtx,
    s: Statement,
}

impl StatementPage {
    fn contract_name(&self) -> &'static str {
        crate::domain::codes::ContractType::parse(&self.s.contract_type)
            .map(|c| {
                if self.ctx.is_zh() {
                    c.name_zh()
                } else {
                    c.name_en()
                }
            })
            .unwrap_or("—")
    }
    /// The bands of a side as lines: "≤ ¥1,000,000.00: 1.5%", last "above …".
    fn bands(&self, side: &SideSchedule) -> Vec<(String, String)> {
        let mut lower = 0i64;
        side.bands
            .iter()
            .map(|b| {
                let range = match b.up_to_fen {
                    Some(up) if lower == 0 => {
                        lower = up;
                        self.ctx
                            .t1("settlement.statement.up_to", "amount", &self.ctx.wan(&up))
                    }
                    Some(up) => {
                        let r = format!("{} – {}", self.ctx.wan(&lower), self.ctx.wan(&up));
                        lower = up;
                        r
                    }
                    None => self.ctx.t1(
                        "settlement.statement.above",
                        "amount",
                        &self.ctx.wan(&lower),
                    ),
                };
                (range, self.ctx.percent(&b.rate_ppm))
            })
            .collect()
    }
    fn max_fee(&self, side: &SideSchedule) -> String {
        side.max_fee_fen
            .map(|m| self.ctx.money(&m))
            .unwrap_or_else(|| self.ctx.t("settlement.statement.no_cap").to_string())
    }
    fn credit_code<'a>(&self, c: &'a Option<String>) -> &'a str {
        c.as_deref().unwrap_or("—")
    }
    /// What a movement is, in the page's language.
    fn movement_name(&self, kind: &str) -> &'static str {
        let k = MovementKind::parse(kind).unwrap_or(MovementKind::Other);
        if self.ctx.is_zh() {
            k.name_zh()
        } else {
            k.name_en()
        }
    }
    /// Who a movement's money leaves or reaches: an exchange's settlement account or revenue, the
    /// trade's escrow, the seller or the buyer (by name), a deposit.
    fn holder_name(&self, code: &str) -> String {
        let (kind, exchange) = code.split_once(':').unwrap_or((code, ""));
        let key = match kind {
            "bank" | "revenue" => {
                return self.ctx.t1(
                    &format!("settlement.movements.{kind}"),
                    "exchange",
                    &self.ctx.exchange_name(exchange),
                )
            }
            "seller" => return self.s.seller.name.clone(),
            "buyer" => return self.s.buyer.name.clone(),
            "escrow" => "settlement.movements.escrow",
            "deposit" => "settlement.movements.deposit",
            "broker" => {
                return self
                    .s
                    .commissions
                    .iter()
                    .find(|c| c.broker_id.to_string() == exchange)
                    .map(|c| c.payee.clone())
                    .unwrap_or_else(|| code.to_string())
            }
            _ => return code.to_string(),
        };
        self.ctx.t(key).to_string()
    }
}

pub async fn statement(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let s = settlement::statement(&state.pool, &user, id).await?;
    render(&StatementPage { ctx, s })
}

// ---------------------------------------------------------------- ledger and revenue

#[derive(Template)]
#[template(path = "settlement/ledger.html")]
struct LedgerPage {
    ctx: PageCtx,
    b: Balances,
    v: VerifyReport,
    recent: Vec<settlement::EntryView>,
}

impl LedgerPage {
    fn kind_name(&self, kind: &str) -> &str {
        match kind {
            "bank" => self.ctx.t("settlement.ledger.kind_bank"),
            "escrow" => self.ctx.t("settlement.ledger.kind_escrow"),
            "payable" => self.ctx.t("settlement.ledger.kind_payable"),
            "revenue" => self.ctx.t("settlement.ledger.kind_revenue"),
            _ => "—",
        }
    }
    fn side_name(&self, side: &str) -> &'static str {
        crate::domain::ledger::Side::parse(side)
            .map(|s| {
                if self.ctx.is_zh() {
                    s.name_zh()
                } else {
                    s.name_en()
                }
            })
            .unwrap_or("—")
    }
    fn short(&self, hash: &str) -> String {
        hash.chars().take(16).collect()
    }
    fn label(&self, a: &settlement::AccountBalance) -> String {
        match a.kind.as_str() {
            "bank" | "revenue" => {
                let code = a.account.split_once(':').map(|x| x.1).unwrap_or("");
                self.ctx.exchange_name(code).to_string()
            }
            _ => a.label.clone(),
        }
    }
}

pub async fn ledger(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
) -> Result<Response> {
    let b = settlement::balances(&state.pool, &user).await?;
    let v = settlement::verify_ledger(&state.pool, &user).await?;
    let recent = settlement::recent_entries(&state.pool, &user, 30).await?;
    render(&LedgerPage { ctx, b, v, recent })
}

#[derive(Template)]
#[template(path = "settlement/revenue.html")]
struct RevenuePage {
    ctx: PageCtx,
    r: Revenue,
    own: String,
    total: i64,
}

impl RevenuePage {
    fn is_own(&self, code: &str) -> bool {
        code == self.own
    }
}

pub async fn revenue(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
) -> Result<Response> {
    let r = settlement::revenue(&state.pool, &user).await?;
    let own = user
        .admin_exchange
        .map(|e| e.code().to_string())
        .unwrap_or_default();
    let total = r.by_exchange.values().map(|e| e.revenue_fen).sum();
    render(&RevenuePage { ctx, r, own, total })
}

#[derive(Deserialize)]
pub struct CsvQuery {
    exchange: Option<String>,
}

pub async fn registration_csv(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Query(q): Query<CsvQuery>,
) -> Result<Response> {
    let csv = settlement::registration_csv(&state.pool, &user, q.exchange.as_deref()).await?;
    Ok(crate::http::respond::csv_response(csv))
}

// ---------------------------------------------------------------- restrictions

#[derive(Template)]
#[template(path = "settlement/restrictions.html")]
struct RestrictionsPage {
    ctx: PageCtx,
    q: String,
    found: Vec<OrgView>,
    active: Vec<Restriction>,
    errors: FormErrors,
    message: String,
    /// The organisation being restricted, and the form's values.
    org: String,
    reason: String,
    until: String,
}

impl RestrictionsPage {
    fn is_org(&self, id: &Uuid) -> bool {
        self.org == id.to_string()
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn restrictions_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    q: String,
    errors: FormErrors,
    message: String,
    org: String,
    reason: String,
    until: String,
) -> Result<Response> {
    let active = settlement::active_restrictions(&state.pool, user).await?;
    let found = if q.trim().is_empty() {
        Vec::new()
    } else {
        settlement::find_organizations(&state.pool, user, q.trim(), 20, state.clock.now()).await?
    };
    render(&RestrictionsPage {
        ctx,
        q,
        found,
        active,
        errors,
        message,
        org,
        reason,
        until,
    })
}

pub async fn restrictions(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<SearchQuery>,
) -> Result<Response> {
    restrictions_page(
        &state,
        &user,
        ctx,
        q.q.unwrap_or_default(),
        FormErrors::default(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    )
    .await
}

/// A date typed in the form (Asia/Shanghai): the restriction holds through that whole day.
fn end_of_day(date: &str) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let next = d.succ_opt()?.and_hms_opt(0, 0, 0)?;
    let off = chrono::FixedOffset::east_opt(8 * 3600)?;
    off.from_local_datetime(&next)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

pub async fn restrict_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    let org = form.get("organization_id").to_string();
    let reason = form.get("reason").to_string();
    let until_s = form.get("until").trim().to_string();
    let q = form.get("q").to_string();
    let org_id = parse_id(&org)?;
    let until = if until_s.is_empty() {
        Ok(None)
    } else {
        end_of_day(&until_s).map(Some).ok_or_else(|| {
            let mut f = FieldErrors::default();
            f.push("until", "err.settlement.until_invalid", vec![]);
            Error::Validation(f)
        })
    };
    let result = match until {
        Ok(until) => {
            settlement::restrict(
                &state.pool,
                &user,
                org_id,
                RestrictionInput {
                    reason: reason.clone(),
                    until,
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/restrictions?done=restricted").into_response()),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let message = match &e {
                Error::Conflict { .. } => {
                    crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string()
                }
                _ => ctx.t("form.fix_errors").to_string(),
            };
            let errors = FormErrors::from_error(ctx.lang, &e);
            let mut resp =
                restrictions_page(&state, &user, ctx, q, errors, message, org, reason, until_s)
                    .await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

pub async fn lift_submit(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Path(org): Path<String>,
    _form: Form,
) -> Result<Response> {
    let org = parse_id(&org)?;
    settlement::lift(&state.pool, &user, org).await?;
    Ok(Redirect::to("/admin/restrictions?done=restriction_lifted").into_response())
}
