//! The search page: filters, sorting, paging.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::domain::error::ErrorKey;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::Ctx;
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::listings::{self, AuctionLive, ListingView, SearchHit, SearchParams};
use crate::service::Page;

use super::{fen_to_wan, price_label, trl_label, wan_to_fen};

#[derive(Template)]
#[template(path = "listings/search.html")]
struct SearchPage {
    ctx: PageCtx,
    p: SearchParams,
    min_wan: String,
    max_wan: String,
    result: Page<SearchHit>,
    message: String,
    /// The moment the page was made (the auctions' time left).
    now: chrono::DateTime<chrono::Utc>,
    /// The search could not run (a filter is wrong): no count, no "nothing found", no pager.
    failed: bool,
    /// The page's names of the wrong filters, marked `aria-invalid`.
    bad_fields: Vec<String>,
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
    fn bad(&self, name: &str) -> bool {
        self.bad_fields.iter().any(|f| f == name)
    }
    fn price(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
    /// When an auction opens, if it is scheduled (not open yet).
    fn opens_at(&self, a: &AuctionLive) -> Option<chrono::DateTime<chrono::Utc>> {
        a.starts_at.filter(|_| a.status == "scheduled")
    }
    /// What the time on an auction's card counts to: the start of a scheduled auction
    /// (`距开拍` / `Opens in`), else the end (`剩余时间` / `Time left`).
    fn left_label(&self, a: &AuctionLive) -> &'static str {
        match self.opens_at(a) {
            Some(_) => self.ctx.t("portal.starts_in"),
            None => self.ctx.t("portal.time_left"),
        }
    }
    /// An auction's time left in words, or that it has ended; for a scheduled one, the time until
    /// it opens and when (`1天3小时 · 2026-12-08 14:00 开拍`).
    fn left(&self, a: &AuctionLive) -> String {
        if a.status == "closed" {
            return self.ctx.t("trading.auction.ended").to_string();
        }
        if let Some(st) = self.opens_at(a) {
            return format!(
                "{} · {}",
                crate::http::web::home::span_words(&self.ctx, self.now, st),
                self.ctx.t1("portal.opens_at", "at", &self.ctx.time(&st))
            );
        }
        crate::http::web::home::time_left_words(&self.ctx, self.now, a.ends_at)
    }
    fn trl(&self, l: &ListingView) -> String {
        trl_label(&self.ctx, l.trl)
    }
    /// How many filters besides the search words are set (shown on the folded filters' control).
    fn active_filters(&self) -> usize {
        let p = &self.p;
        [
            &p.field,
            &p.province,
            &p.exchange,
            &p.ip_type,
            &p.pricing,
            &p.trl_min,
            &p.sort,
        ]
        .into_iter()
        .filter(|o| o.as_deref().is_some_and(|v| !v.is_empty()))
        .count()
            + [&self.min_wan, &self.max_wan]
                .into_iter()
                .filter(|v| !v.is_empty())
                .count()
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

pub(super) async fn search_page(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    q: std::result::Result<Query<PageSearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let mut p = q.p.clone();
    let mut message = String::new();
    let mut bad_fields: Vec<String> = Vec::new();
    let sep = if ctx.is_zh() { "：" } else { ": " };
    for (wan, fen, name) in [
        (&q.min_price_wan, &mut p.min_price_fen, "min_price_wan"),
        (&q.max_price_wan, &mut p.max_price_fen, "max_price_wan"),
    ] {
        if let Some(w) = wan.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            match wan_to_fen(w) {
                Ok(v) => *fen = Some(v.to_string()),
                Err(e) => {
                    bad_fields.push(name.to_string());
                    message = format!(
                        "{}{sep}{}",
                        ctx.t(&format!("listings.filter_{name}")),
                        crate::i18n::tf(ctx.lang, e.key(), &e.args())
                    );
                }
            }
        }
    }
    let viewer = ctx.user.clone();
    let result = if !bad_fields.is_empty() {
        None
    } else {
        match listings::search_hits(&state.read_pool, viewer.as_ref(), &p).await {
            Ok(r) => Some(r),
            Err(e @ Error::BadRequest { .. }) => {
                // Each bad parameter by the label of its box on this page, not its API name.
                let f = FormErrors::from_error(ctx.lang, &e);
                bad_fields =
                    f.0.iter()
                        .map(|(k, _)| k.replace("_price_fen", "_price_wan"))
                        .collect();
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
                            format!("{label}{sep}{v}")
                        })
                        .collect::<Vec<_>>()
                        .join(if ctx.is_zh() { "；" } else { "; " });
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
        now: state.clock.now(),
        failed,
        bad_fields,
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
