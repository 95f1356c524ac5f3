//! Pages: search and browse, a listing, my listings, the listing form, the admin review queue.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::domain::codes::{trl_name_en, trl_name_zh};
use crate::domain::error::{ErrorKey, FieldErrors};
use crate::domain::money::{parse_yuan, FEN_PER_WAN};
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebAdmin, WebUser};
use crate::http::state::AppState;
use crate::http::web::trading::{listing_panel, ListingPanel};
use crate::http::web::{render, FormErrors};
use crate::service::listings::{
    self, AuctionInput, ListingInput, ListingPatch, ListingView, PricingInput, ReviewInput,
    SearchParams,
};
use crate::service::{Page, PageQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings", get(search_page))
        .route("/listings/new", get(new_page).post(new_submit))
        .route("/listings/{id}", get(listing_page))
        .route("/listings/{id}/edit", get(edit_page).post(edit_submit))
        .route("/listings/{id}/submit", post(submit_action))
        .route("/listings/{id}/withdraw", post(withdraw_action))
        .route("/my/listings", get(my_listings))
        .route("/admin/listings", get(admin_queue))
        .route("/admin/listings/{id}", get(admin_listing))
        .route("/admin/listings/{id}/review", post(admin_review))
}

/// Helpers shared by the templates (via `self.`).
fn trl_label(ctx: &PageCtx, trl: i16) -> String {
    let n = u8::try_from(trl).unwrap_or(0);
    let name = if ctx.is_zh() {
        trl_name_zh(n)
    } else {
        trl_name_en(n)
    };
    format!("TRL {trl} · {}", name.unwrap_or("—"))
}

/// Paragraphs of plain text (blank lines separate them), each as its lines; escaped by the template.
fn paragraphs(text: &str) -> Vec<Vec<String>> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| {
            p.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

fn price_label(ctx: &PageCtx, l: &ListingView) -> String {
    match (&l.pricing.auction, l.pricing.price_fen) {
        (Some(a), _) => format!(
            "{} {}",
            ctx.t("listings.start_price"),
            ctx.wan(&a.start_price_fen)
        ),
        (None, Some(p)) if l.pricing.mode == "negotiable" => {
            format!("{} {}", ctx.t("listings.indicative"), ctx.wan(&p))
        }
        (None, Some(p)) => ctx.wan(&p),
        (None, None) => ctx.t("listings.price_negotiable").to_string(),
    }
}

fn status_name(ctx: &PageCtx, status: &str) -> &'static str {
    crate::domain::listing::ListingStatus::parse(status)
        .map(|s| {
            if ctx.is_zh() {
                s.name_zh()
            } else {
                s.name_en()
            }
        })
        .unwrap_or("—")
}

fn status_class(status: &str) -> &'static str {
    match status {
        "listed" => "ok",
        "pending_review" => "warn",
        "rejected" => "err",
        _ => "info",
    }
}

// ------------------------------------------------------------------ search

#[derive(Template)]
#[template(path = "listings/search.html")]
struct SearchPage {
    ctx: PageCtx,
    p: SearchParams,
    min_wan: String,
    max_wan: String,
    result: Page<ListingView>,
    message: String,
    prev_url: Option<String>,
    next_url: Option<String>,
    first_page_url: String,
}

impl SearchPage {
    fn v<'a>(&self, o: &'a Option<String>) -> &'a str {
        o.as_deref().unwrap_or("")
    }
    fn sel(&self, o: &Option<String>, value: &str) -> bool {
        o.as_deref() == Some(value)
    }
    fn price(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
    fn trl(&self, l: &ListingView) -> String {
        trl_label(&self.ctx, l.trl)
    }
}

/// The page's query: the API's parameters plus prices in 万元.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageSearchQuery {
    #[serde(flatten)]
    pub p: SearchParams,
    pub min_price_wan: Option<String>,
    pub max_price_wan: Option<String>,
}

/// `12.5` (万元) → fen; also accepts `350万`, `1.2亿`, `5000元`.
fn wan_to_fen(s: &str) -> std::result::Result<i64, crate::domain::money::AmountError> {
    let t = s.trim();
    if t.ends_with(['万', '萬', '亿', '億', '元']) {
        parse_yuan(t)
    } else {
        parse_yuan(&format!("{t}万"))
    }
}

/// fen → the number typed in a 万元 box (`3500000` → `3.5`).
fn fen_to_wan(fen: i64) -> String {
    let whole = fen / FEN_PER_WAN;
    let frac = fen % FEN_PER_WAN;
    if frac == 0 {
        whole.to_string()
    } else {
        let f = format!("{frac:06}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
}

fn page_url(q: &Option<String>, page: i64) -> String {
    let mut pairs: Vec<(String, String)> = q
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != "page")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    pairs.push(("page".into(), page.to_string()));
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/listings?{qs}")
}

async fn search_page(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    q: std::result::Result<Query<PageSearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let mut p = q.p.clone();
    let mut message = String::new();
    let mut bad = false;
    for (wan, fen, name) in [
        (&q.min_price_wan, &mut p.min_price_fen, "min_price_wan"),
        (&q.max_price_wan, &mut p.max_price_fen, "max_price_wan"),
    ] {
        if let Some(w) = wan.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            match wan_to_fen(w) {
                Ok(v) => *fen = Some(v.to_string()),
                Err(e) => {
                    bad = true;
                    message = format!(
                        "{}: {}",
                        ctx.t(&format!("listings.filter_{name}")),
                        crate::i18n::tf(ctx.lang, e.key(), &e.args())
                    );
                }
            }
        }
    }
    let viewer = ctx.user.clone();
    let result = if bad {
        None
    } else {
        match listings::search(&state.pool, viewer.as_ref(), &p).await {
            Ok(r) => Some(r),
            Err(e @ Error::BadRequest { .. }) => {
                // Each bad parameter by the label of its box on this page, not its API name.
                let f = FormErrors::from_error(ctx.lang, &e);
                message =
                    f.0.iter()
                        .map(|(k, v)| {
                            let key = match k.as_str() {
                                "min_price_fen" => "listings.filter_min_price_wan".to_string(),
                                "max_price_fen" => "listings.filter_max_price_wan".to_string(),
                                "trl_min" => "listings.filter_trl_min".to_string(),
                                "q" => "listings.filter_q".to_string(),
                                "page" | "per_page" => "listings.pages".to_string(),
                                other => format!("listings.{other}"),
                            };
                            let label = ctx.t(&key).to_string();
                            format!("{label}：{v}")
                        })
                        .collect::<Vec<_>>()
                        .join("；");
                None
            }
            Err(e) => return Err(e),
        }
    };
    let failed = result.is_none();
    let result = result.unwrap_or(Page {
        items: Vec::new(),
        total: 0,
        page: 1,
        per_page: 20,
    });
    let prev_url = (result.page > 1).then(|| page_url(&ctx.query, result.page - 1));
    let next_url = (result.page < result.pages()).then(|| page_url(&ctx.query, result.page + 1));
    let first_page_url = page_url(&ctx.query, 1);
    let min_wan = q.min_price_wan.clone().unwrap_or_else(|| {
        given_i64(&q.p.min_price_fen)
            .map(fen_to_wan)
            .unwrap_or_default()
    });
    let max_wan = q.max_price_wan.clone().unwrap_or_else(|| {
        given_i64(&q.p.max_price_fen)
            .map(fen_to_wan)
            .unwrap_or_default()
    });
    let mut resp = render(&SearchPage {
        ctx,
        p: q.p,
        min_wan,
        max_wan,
        result,
        message,
        prev_url,
        next_url,
        first_page_url,
    })?;
    if failed {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

fn given_i64(v: &Option<String>) -> Option<i64> {
    v.as_deref().and_then(|s| s.trim().parse().ok())
}

// ------------------------------------------------------------------ one listing

#[derive(Template)]
#[template(path = "listings/listing.html")]
struct ListingPage {
    ctx: PageCtx,
    l: ListingView,
    paragraphs: Vec<Vec<String>>,
    is_owner: bool,
    can_edit: bool,
    can_submit: bool,
    can_withdraw: bool,
    /// Read by `trading/_listing_panel.html` (filled in by the trading pages).
    #[allow(dead_code)]
    panel: ListingPanel,
    /// Why the last action on this page was refused ("" otherwise); `?done=` confirmations are
    /// shown by the base layout.
    notice: String,
}

impl ListingPage {
    fn price(&self) -> String {
        price_label(&self.ctx, &self.l)
    }
    fn trl(&self) -> String {
        trl_label(&self.ctx, self.l.trl)
    }
    fn status(&self) -> &'static str {
        status_name(&self.ctx, &self.l.status)
    }
    fn status_class(&self) -> &'static str {
        status_class(&self.l.status)
    }
}

async fn listing_page(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let l = listings::get(&state.pool, ctx.user.as_ref(), id).await?;
    let is_owner = ctx
        .user
        .as_ref()
        .is_some_and(|u| u.organization_id == Some(l.organization.id));
    let status = crate::domain::listing::ListingStatus::parse(&l.status);
    let panel = listing_panel(&state, &ctx, id).await?;
    render(&ListingPage {
        paragraphs: paragraphs(&l.description),
        can_edit: is_owner && status.is_some_and(|s| s.can_edit()),
        can_submit: is_owner && status.is_some_and(|s| s.can_submit()),
        can_withdraw: is_owner && status.is_some_and(|s| s.can_withdraw()),
        is_owner,
        ctx,
        l,
        panel,
        notice: String::new(),
    })
}

async fn submit_action(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match listings::submit(&state.pool, &user, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/listings/{id}?done=submitted")).into_response()),
        Err(e) => action_error(&state, ctx, id, e).await,
    }
}

async fn withdraw_action(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match listings::withdraw(&state.pool, &user, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/listings/{id}?done=withdrawn")).into_response()),
        Err(e) => action_error(&state, ctx, id, e).await,
    }
}

/// A refused action on the listing page: the page again with the reason on top.
async fn action_error(
    state: &AppState,
    ctx: PageCtx,
    id: uuid::Uuid,
    e: Error,
) -> Result<Response> {
    let message = match &e {
        Error::Validation(f) => f
            .iter()
            .map(|fe| {
                format!(
                    "{}: {}",
                    fe.path,
                    crate::i18n::tf(ctx.lang, fe.key, &fe.args)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        Error::Conflict { .. } | Error::Forbidden(_) => {
            crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string()
        }
        _ => return Err(e),
    };
    let l = listings::get(&state.pool, ctx.user.as_ref(), id).await?;
    let is_owner = ctx
        .user
        .as_ref()
        .is_some_and(|u| u.organization_id == Some(l.organization.id));
    let status = crate::domain::listing::ListingStatus::parse(&l.status);
    let panel = listing_panel(state, &ctx, id).await?;
    let mut resp = render(&ListingPage {
        paragraphs: paragraphs(&l.description),
        can_edit: is_owner && status.is_some_and(|s| s.can_edit()),
        can_submit: is_owner && status.is_some_and(|s| s.can_submit()),
        can_withdraw: is_owner && status.is_some_and(|s| s.can_withdraw()),
        is_owner,
        ctx,
        l,
        panel,
        notice: message,
    })?;
    *resp.status_mut() = e.status();
    Ok(resp)
}

// ------------------------------------------------------------------ my listings

#[derive(Template)]
#[template(path = "listings/mine.html")]
struct MinePage {
    ctx: PageCtx,
    result: Page<ListingView>,
}

impl MinePage {
    fn status(&self, l: &ListingView) -> &'static str {
        status_name(&self.ctx, &l.status)
    }
    fn status_class(&self, l: &ListingView) -> &'static str {
        status_class(&l.status)
    }
    fn price(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
}

#[derive(Debug, Deserialize)]
pub struct PageOnly {
    page: Option<String>,
}

fn page_number(p: &Option<String>) -> i64 {
    p.as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|n| (1..=1_000_000).contains(n))
        .unwrap_or(1)
}

async fn my_listings(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Query(q): Query<PageOnly>,
) -> Result<Response> {
    let result = listings::mine(
        &state.pool,
        &user,
        PageQuery {
            page: Some(page_number(&q.page)),
            per_page: Some(50),
        },
    )
    .await?;
    render(&MinePage { ctx, result })
}

// ------------------------------------------------------------------ the form

#[derive(Template)]
#[template(path = "listings/form.html")]
struct FormPage {
    ctx: PageCtx,
    action: String,
    editing: bool,
    form: Vec<(String, String)>,
    errors: FormErrors,
    message: String,
}

impl FormPage {
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn selected(&self, name: &str, value: &str) -> bool {
        self.value(name) == value
    }
    fn checked(&self, name: &str, value: &str) -> bool {
        self.form.iter().any(|(k, v)| k == name && v == value)
    }
    fn trls(&self) -> Vec<(String, String)> {
        (1..=9i16)
            .map(|n| (n.to_string(), trl_label(&self.ctx, n)))
            .collect()
    }
}

fn split_list(s: &str, seps: &[char]) -> Vec<String> {
    s.split(|c: char| seps.contains(&c))
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Form fields → the API input. Money boxes are in 万元; times are Asia/Shanghai.
fn input_from_form(form: &Form) -> std::result::Result<ListingInput, FieldErrors> {
    let mut errs = FieldErrors::new();
    let money = |name: &str, required: bool, errs: &mut FieldErrors| -> Option<i64> {
        let v = form.get(name).trim();
        if v.is_empty() {
            if required {
                errs.push(name, "err.amount.empty", vec![]);
            }
            return None;
        }
        match wan_to_fen(v) {
            Ok(f) => Some(f),
            Err(e) => {
                errs.push_err(name, &e);
                None
            }
        }
    };
    let mode = form.get("pricing.mode").to_string();
    let price_fen = money("pricing.price_fen", false, &mut errs);
    let auction = if mode == "auction" {
        let start = money("pricing.auction.start_price_fen", true, &mut errs);
        let inc = money("pricing.auction.increment_fen", true, &mut errs);
        let reserve = money("pricing.auction.reserve_fen", false, &mut errs);
        let ends = form.get("pricing.auction.ends_at").trim();
        let ends_at = match NaiveDateTime::parse_from_str(ends, "%Y-%m-%dT%H:%M") {
            Ok(n) => chrono::FixedOffset::east_opt(8 * 3600)
                .and_then(|off| off.from_local_datetime(&n).single())
                .map(|t| t.with_timezone(&Utc)),
            Err(_) => None,
        };
        if ends_at.is_none() {
            errs.push(
                "pricing.auction.ends_at",
                "err.listing.ends_at_format",
                vec![],
            );
        }
        let ext = form.get("pricing.auction.extension_seconds").trim();
        let extension_seconds = if ext.is_empty() {
            None
        } else {
            match ext.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errs.push(
                        "pricing.auction.extension_seconds",
                        "err.auction.extension_range",
                        vec![("min", "0".into()), ("max", "3600".into())],
                    );
                    None
                }
            }
        };
        // A box that could not be read still leaves the others to check: it stands in with a
        // value that passes its own rules and makes no comparison fail (start 1, increment 1,
        // ends tomorrow), and its own error is already recorded.
        Some(AuctionInput {
            start_price_fen: start.unwrap_or(1),
            increment_fen: inc.unwrap_or(1),
            reserve_fen: reserve,
            ends_at: ends_at.unwrap_or_else(|| Utc::now() + chrono::Duration::days(1)),
            extension_seconds,
        })
    } else {
        None
    };
    let trl = form.get("trl").trim().parse::<i64>().unwrap_or(0);
    let input = ListingInput {
        title: form.get("title").to_string(),
        summary: form.get("summary").to_string(),
        description: form.get("description").to_string(),
        field: form.get("field").to_string(),
        ip_type: form.get("ip_type").to_string(),
        ip_numbers: split_list(form.get("ip_numbers"), &['\n', '\r']),
        trl,
        transaction_modes: form
            .all("transaction_modes")
            .into_iter()
            .map(str::to_string)
            .collect(),
        keywords: split_list(form.get("keywords"), &[',', '，', '、', ';', '；']),
        pricing: PricingInput {
            mode: mode.clone(),
            price_fen: if mode == "auction" { None } else { price_fen },
            auction,
        },
    };
    if errs.is_empty() {
        Ok(input)
    } else {
        // Report the service's findings too, so the form shows every problem at once.
        if let Err(more) = listings::validate(&input, Utc::now()) {
            for e in more {
                if errs.get(&e.path).is_none() {
                    errs.0.push(e);
                }
            }
        }
        Err(errs)
    }
}

fn form_values(form: &Form) -> Vec<(String, String)> {
    form.0
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .cloned()
        .collect()
}

fn values_of(l: &ListingView) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = vec![
        ("title".into(), l.title.clone()),
        ("summary".into(), l.summary.clone()),
        ("description".into(), l.description.clone()),
        ("field".into(), l.field.clone()),
        ("ip_type".into(), l.ip_type.clone()),
        ("ip_numbers".into(), l.ip_numbers.join("\n")),
        ("trl".into(), l.trl.to_string()),
        ("keywords".into(), l.keywords.join("、")),
        ("pricing.mode".into(), l.pricing.mode.clone()),
    ];
    for m in &l.transaction_modes {
        v.push(("transaction_modes".into(), m.clone()));
    }
    if let Some(p) = l.pricing.price_fen {
        v.push(("pricing.price_fen".into(), fen_to_wan(p)));
    }
    if let Some(a) = &l.pricing.auction {
        v.push((
            "pricing.auction.start_price_fen".into(),
            fen_to_wan(a.start_price_fen),
        ));
        v.push((
            "pricing.auction.increment_fen".into(),
            fen_to_wan(a.increment_fen),
        ));
        if let Some(r) = a.reserve_fen {
            v.push(("pricing.auction.reserve_fen".into(), fen_to_wan(r)));
        }
        v.push(("pricing.auction.ends_at".into(), shanghai_input(&a.ends_at)));
        v.push((
            "pricing.auction.extension_seconds".into(),
            a.extension_seconds.to_string(),
        ));
    }
    v
}

fn shanghai_input(at: &DateTime<Utc>) -> String {
    chrono::FixedOffset::east_opt(8 * 3600)
        .map(|off| at.with_timezone(&off).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

async fn new_page(WebUser(_, ctx): WebUser) -> Result<Response> {
    render(&FormPage {
        ctx,
        action: "/listings/new".into(),
        editing: false,
        form: vec![
            // Field, TRL and IP type start unchosen: a default would classify a listing wrongly
            // for every seller who skips the box.
            ("pricing.mode".into(), "negotiable".into()),
        ],
        errors: FormErrors::default(),
        message: String::new(),
    })
}

fn form_error_page(
    ctx: PageCtx,
    action: String,
    editing: bool,
    form: &Form,
    e: Error,
) -> Result<Response> {
    let message = match &e {
        Error::Validation(_) => ctx.t("form.fix_errors").to_string(),
        Error::Conflict { .. } | Error::Forbidden(_) => {
            crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string()
        }
        _ => return Err(e),
    };
    let errors = FormErrors::from_error(ctx.lang, &e);
    let mut resp = render(&FormPage {
        ctx,
        action,
        editing,
        form: form_values(form),
        errors,
        message,
    })?;
    *resp.status_mut() = e.status();
    Ok(resp)
}

async fn new_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    form: Form,
) -> Result<Response> {
    let result = match input_from_form(&form) {
        Ok(input) => listings::create(&state.pool, &user, input).await,
        Err(f) => Err(Error::Validation(f)),
    };
    match result {
        Ok(l) => Ok(Redirect::to(&format!("/listings/{}?done=created", l.id)).into_response()),
        Err(e) => form_error_page(ctx, "/listings/new".into(), false, &form, e),
    }
}

async fn edit_page(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let l = listings::get(&state.pool, Some(&user), id).await?;
    if user.organization_id != Some(l.organization.id) {
        return Err(Error::Forbidden("not_listing_owner"));
    }
    render(&FormPage {
        ctx,
        action: format!("/listings/{id}/edit"),
        editing: true,
        form: values_of(&l),
        errors: FormErrors::default(),
        message: String::new(),
    })
}

async fn edit_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let result = match input_from_form(&form) {
        Ok(input) => {
            let patch = ListingPatch {
                title: Some(input.title),
                summary: Some(input.summary),
                description: Some(input.description),
                field: Some(input.field),
                ip_type: Some(input.ip_type),
                ip_numbers: Some(input.ip_numbers),
                trl: Some(input.trl),
                transaction_modes: Some(input.transaction_modes),
                keywords: Some(input.keywords),
                pricing: Some(input.pricing),
            };
            listings::update(&state.pool, &user, id, patch).await
        }
        Err(f) => Err(Error::Validation(f)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/listings/{id}?done=saved")).into_response()),
        Err(e) => form_error_page(ctx, format!("/listings/{id}/edit"), true, &form, e),
    }
}

// ------------------------------------------------------------------ admin

#[derive(Template)]
#[template(path = "listings/admin_queue.html")]
struct AdminQueuePage {
    ctx: PageCtx,
    exchange: String,
    result: Page<ListingView>,
}

impl AdminQueuePage {
    fn price(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
}

async fn admin_queue(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<PageOnly>,
) -> Result<Response> {
    let exchange = user.require_admin()?;
    let result = listings::admin_queue(
        &state.pool,
        &user,
        None,
        PageQuery {
            page: Some(page_number(&q.page)),
            per_page: Some(50),
        },
    )
    .await?;
    render(&AdminQueuePage {
        ctx,
        exchange: exchange.code().to_string(),
        result,
    })
}

#[derive(Template)]
#[template(path = "listings/admin_review.html")]
struct AdminReviewPage {
    ctx: PageCtx,
    l: ListingView,
    paragraphs: Vec<Vec<String>>,
    errors: FormErrors,
    message: String,
    reason: String,
}

impl AdminReviewPage {
    fn price(&self) -> String {
        price_label(&self.ctx, &self.l)
    }
    fn trl(&self) -> String {
        trl_label(&self.ctx, self.l.trl)
    }
    fn status(&self) -> &'static str {
        status_name(&self.ctx, &self.l.status)
    }
}

async fn admin_listing(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let l = listings::get(&state.pool, Some(&user), id).await?;
    render(&AdminReviewPage {
        paragraphs: paragraphs(&l.description),
        ctx,
        l,
        errors: FormErrors::default(),
        message: String::new(),
        reason: String::new(),
    })
}

async fn admin_review(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let input = ReviewInput {
        decision: form.get("decision").to_string(),
        reason: Some(form.get("reason").to_string()).filter(|r| !r.trim().is_empty()),
    };
    match listings::review(&state.pool, &user, id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/listings?done=reviewed").into_response()),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let l = listings::get(&state.pool, Some(&user), id).await?;
            let message = match &e {
                Error::Validation(_) => ctx.t("form.fix_errors").to_string(),
                _ => crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string(),
            };
            let mut resp = render(&AdminReviewPage {
                paragraphs: paragraphs(&l.description),
                errors: FormErrors::from_error(ctx.lang, &e),
                ctx,
                l,
                message,
                reason: form.get("reason").to_string(),
            })?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}
