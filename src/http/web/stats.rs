//! The public dashboard `/stats`: the market in figures and charts, from the process's snapshot
//! (service::stats) — no database work per request. Every chart is SVG laid out by `web::chart`,
//! with its numbers in a table beneath. The page's body depends on the snapshot and the language
//! alone: it is laid out and rendered once per snapshot and language (`stats::Cache::rendition`), and
//! a request renders only the layout around it (the header that knows who is signed in).
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::domain::codes::{Exchange, Field, Province};
use crate::domain::stats::Stats;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::Ctx;
use crate::http::state::AppState;
use crate::http::web::chart::{Chart, Look, Matrix, MatrixTable, Unit};
use crate::http::web::render;
use crate::i18n::{self, Lang};
use crate::service::stats;

pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(dashboard))
}

/// The figures at the top of the page (and of the home page).
pub struct Headline {
    pub trades: i64,
    pub turnover_fen: i64,
    pub cross_share_ppm: i64,
    pub cross_turnover_share_ppm: i64,
    pub savings_fen: i64,
    pub listings: i64,
    pub as_of: DateTime<Utc>,
}

impl Headline {
    /// The figures as short sentences (the home page's list).
    pub fn lines(&self, c: &PageCtx) -> Vec<String> {
        vec![
            c.t1("stats.home.trades", "n", &self.trades),
            c.t1("stats.home.turnover", "amount", &c.wan(&self.turnover_fen)),
            c.t1(
                "stats.home.cross",
                "share",
                &c.percent(&self.cross_share_ppm),
            ),
            c.t1("stats.home.savings", "amount", &c.wan(&self.savings_fen)),
        ]
    }

    pub fn of(as_of: DateTime<Utc>, s: &Stats) -> Self {
        Headline {
            trades: s.trades.count,
            turnover_fen: s.trades.turnover_fen,
            cross_share_ppm: s.cross_province_share_ppm(),
            cross_turnover_share_ppm: s.cross_province_turnover_share_ppm(),
            savings_fen: s.savings_fen,
            listings: s.listings.total,
            as_of,
        }
    }
}

/// The page: the site's layout around the body made once per snapshot and language.
#[derive(Template)]
#[template(path = "stats/dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    /// Rendered (and escaped) by askama from [`DashboardBody`].
    body: Arc<str>,
}

/// The body of the page: the figures, charts and tables, from the snapshot and the language alone.
#[derive(Template)]
#[template(path = "stats/body.html")]
struct DashboardBody {
    /// The language, and nothing of the request (no user, path or token).
    ctx: PageCtx,
    head: Headline,
    fee_total_fen: i64,
    legacy_total_fen: i64,
    /// No trade settled yet: the trade charts are left out.
    no_trades: bool,
    turnover_by_month: Chart,
    trades_by_month: Chart,
    turnover_by_field: Chart,
    flows: MatrixTable,
    listings: Chart,
    fees: Chart,
    savings: Chart,
}

impl DashboardBody {
    fn cross_sentence(&self) -> String {
        let c = &self.ctx;
        format!(
            "{} {}",
            c.t1(
                "stats.flows.share",
                "share",
                &c.percent(&self.head.cross_share_ppm)
            ),
            c.t1(
                "stats.flows.turnover_share",
                "share",
                &c.percent(&self.head.cross_turnover_share_ppm)
            )
        )
    }

    fn savings_sentence(&self) -> String {
        let c = &self.ctx;
        c.t1(
            "stats.savings.sentence",
            "saved",
            &c.wan(&self.head.savings_fen),
        )
    }

    fn totals_sentence(&self) -> String {
        let c = &self.ctx;
        format!(
            "{} {}",
            c.t1(
                "stats.savings.legacy_total",
                "amount",
                &c.wan(&self.legacy_total_fen)
            ),
            c.t1(
                "stats.savings.paid_total",
                "amount",
                &c.wan(&self.fee_total_fen)
            )
        )
    }
}

pub async fn dashboard(State(state): State<AppState>, Ctx(ctx, _): Ctx) -> Result<Response> {
    let snap = stats::current(&state).await?;
    let body = state.stats.rendition(&snap, ctx.lang, |snap| {
        body(ctx.lang, snap.as_of, &snap.stats)
    })?;
    render(&DashboardPage { ctx, body })
}

/// The dashboard's body for one snapshot in one language.
fn body(lang: Lang, as_of: DateTime<Utc>, s: &Stats) -> Result<String> {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let page = DashboardBody {
        head: Headline::of(as_of, s),
        fee_total_fen: s.fees.total_fen,
        legacy_total_fen: s.fees.legacy_total_fen,
        no_trades: s.trades.count == 0,
        turnover_by_month: by_month(lang, s, true),
        trades_by_month: by_month(lang, s, false),
        turnover_by_field: by_field(lang, s),
        flows: flows(lang, s),
        listings: listings(lang, s),
        fees: Chart::categories(lang, "fees", exchange_short(lang), Unit::Fen)
            .full_labels(exchange_names(lang))
            .titles(t("stats.fees.title"), t("stats.fees.desc"))
            .axis_titles(t("stats.axis.exchange"), t("stats.axis.yuan"))
            .bars(
                t("stats.fees.series"),
                Look::nth(0),
                &Exchange::ALL
                    .iter()
                    .map(|e| s.fees.by_exchange.get(e.code()).copied().unwrap_or(0))
                    .collect::<Vec<_>>(),
            )
            .horizontal()
            .class("stats-fees")
            .build(),
        savings: savings(lang, s),
        ctx: PageCtx::of_lang(lang, "/stats"),
    };
    page.render()
        .map_err(|e| Error::Internal(anyhow::anyhow!("template failed: {e}")))
}

fn name<T: crate::domain::codes::Named>(lang: Lang, v: &T) -> &'static str {
    let (zh, en) = v.names();
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn exchange_names(lang: Lang) -> Vec<&'static str> {
    Exchange::ALL.iter().map(|e| name(lang, e)).collect()
}

/// The short name of a code on a chart (`stats.short.<list>.<code>`): a phone has room for about
/// twelve Chinese characters beside a bar. The tables beneath give the full names.
fn short(lang: Lang, list: &str, code: &str) -> String {
    i18n::t(lang, &format!("stats.short.{list}.{code}")).to_string()
}

fn exchange_short(lang: Lang) -> Vec<String> {
    Exchange::ALL
        .iter()
        .map(|e| short(lang, "exchange", e.code()))
        .collect()
}

/// Turnover (bars) or the number of trades (a line) per month of settlement.
fn by_month(lang: Lang, s: &Stats, turnover: bool) -> Chart {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let months: Vec<(i32, u32)> = s
        .trades
        .by_month
        .iter()
        .filter_map(|m| m.year_month())
        .collect();
    if turnover {
        let values: Vec<i64> = s.trades.by_month.iter().map(|m| m.turnover_fen).collect();
        Chart::months(lang, "turnover-month", &months, Unit::Fen)
            .titles(
                t("stats.month.turnover_title"),
                t("stats.month.turnover_desc"),
            )
            .axis_titles(t("stats.axis.month"), t("stats.axis.yuan"))
            .bars(t("stats.series.turnover"), Look::nth(0), &values)
            .class("stats-turnover-month")
            .build()
    } else {
        let values: Vec<i64> = s.trades.by_month.iter().map(|m| m.count).collect();
        Chart::months(lang, "count-month", &months, Unit::Count)
            .titles(t("stats.month.count_title"), t("stats.month.count_desc"))
            .axis_titles(t("stats.axis.month"), t("stats.axis.trades"))
            .line(t("stats.series.trades"), Look::nth(1), &values)
            .class("stats-count-month")
            .build()
    }
}

/// Turnover by field, the fields with trades only, largest first.
fn by_field(lang: Lang, s: &Stats) -> Chart {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let mut rows: Vec<(&Field, i64)> = Field::ALL
        .iter()
        .filter_map(|f| {
            let v = s.trades.by_field.get(f.code())?;
            (v.count > 0).then_some((f, v.turnover_fen))
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    let values: Vec<i64> = rows.iter().map(|r| r.1).collect();
    Chart::categories(
        lang,
        "by-field",
        rows.iter().map(|r| short(lang, "field", r.0.code())),
        Unit::Fen,
    )
    .full_labels(rows.iter().map(|r| name(lang, r.0)))
    .titles(t("stats.field.title"), t("stats.field.desc"))
    .axis_titles(t("stats.axis.field"), t("stats.axis.yuan"))
    .bars(t("stats.series.turnover"), Look::nth(2), &values)
    .horizontal()
    .class("stats-by-field")
    .build()
}

const FLOW_PROVINCES: [Province; 2] = [Province::Sichuan, Province::Chongqing];

/// Sellers' province × buyers' province: the number of trades, their turnover beneath.
fn flows(lang: Lang, s: &Stats) -> MatrixTable {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let cell = |a: Province, b: Province| {
        s.trades
            .flows
            .iter()
            .find(|f| f.seller_province == a.code() && f.buyer_province == b.code())
            .map(|f| (f.count, f.turnover_fen))
            .unwrap_or((0, 0))
    };
    let names: Vec<&str> = FLOW_PROVINCES.iter().map(|p| name(lang, p)).collect();
    let values: Vec<Vec<i64>> = FLOW_PROVINCES
        .iter()
        .map(|&a| FLOW_PROVINCES.iter().map(|&b| cell(a, b).0).collect())
        .collect();
    let subs: Vec<Vec<String>> = FLOW_PROVINCES
        .iter()
        .map(|&a| {
            FLOW_PROVINCES
                .iter()
                .map(|&b| Unit::Fen.full(lang, cell(a, b).1))
                .collect()
        })
        .collect();
    Matrix::new(lang, "flows", Unit::Count, names.clone(), names)
        .titles(t("stats.flows.title"), t("stats.flows.corner"))
        .values(&values)
        .subs(subs)
        .totals(t("stats.total"))
        .build()
}

/// Listed listings per exchange, one bar per province of the listing's organisation.
fn listings(lang: Lang, s: &Stats) -> Chart {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let mut c = Chart::categories(lang, "listings", exchange_short(lang), Unit::Count)
        .full_labels(exchange_names(lang))
        .titles(t("stats.listings.title"), t("stats.listings.desc"))
        .axis_titles(t("stats.axis.exchange"), t("stats.axis.listings"));
    for (i, p) in Province::ALL.iter().enumerate() {
        let values: Vec<i64> = Exchange::ALL
            .iter()
            .map(|e| {
                s.listings
                    .by_exchange_province
                    .iter()
                    .find(|c| c.exchange == e.code() && c.province == p.code())
                    .map_or(0, |c| c.count)
            })
            .collect();
        c = c.bars(name(lang, p), Look::nth(i), &values);
    }
    c.horizontal().class("stats-listings").build()
}

/// Per seller province: the legacy fees, the fees paid and the difference saved.
fn savings(lang: Lang, s: &Stats) -> Chart {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let rows: Vec<_> = s
        .fees
        .savings_by_province
        .iter()
        .filter_map(|p| Province::parse(&p.seller_province).map(|code| (code, p)))
        .collect();
    let pick = |f: fn(&crate::domain::stats::ProvinceSavings) -> i64| -> Vec<i64> {
        rows.iter().map(|(_, p)| f(p)).collect()
    };
    Chart::categories(
        lang,
        "savings",
        rows.iter().map(|(code, _)| name(lang, code)),
        Unit::Fen,
    )
    .titles(t("stats.savings.title"), t("stats.savings.desc"))
    .axis_titles(t("stats.axis.seller_province"), t("stats.axis.yuan"))
    .bars(
        t("stats.savings.legacy"),
        Look::nth(1),
        &pick(|p| p.legacy_fee_fen),
    )
    .bars(
        t("stats.savings.paid"),
        Look::nth(0),
        &pick(|p| p.paid_fee_fen),
    )
    .bars(
        t("stats.savings.saved"),
        Look::nth(2),
        &pick(|p| p.savings_fen),
    )
    .class("stats-savings")
    .build()
}
