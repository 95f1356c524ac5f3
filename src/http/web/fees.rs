//! Pages: the public fee calculator and history; the schedule editor, approval queue and audit
//! trail for administrators. Everything works without JavaScript; the chart is SVG drawn here.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::domain::error::{ErrorKey, FieldErrors};
use crate::domain::fees::{effective_rate_ppm, legacy_chongqing, legacy_sichuan, FeeSchedule};
use crate::domain::money::{parse_yuan, AmountError, FEN_PER_WAN, FEN_PER_YI};
use crate::domain::normalize::fold_width;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::i18n::{self, Lang};
use crate::service::admin::AuditItem;
use crate::service::fees::{
    self, BandView, ExchangeFees, NewScheduleInput, ScheduleView, SideView, Simulation,
};
use crate::service::{Page, PageQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fees", get(calculator))
        .route("/fees/history", get(history))
        .route("/admin/fees", get(admin_list))
        .route("/admin/fees/new", get(editor_new).post(editor_submit))
        .route("/admin/fees/{id}", get(admin_detail))
        .route("/admin/fees/{id}/approve", post(approve))
        .route("/admin/fees/{id}/reject", post(reject))
}

// ------------------------------------------------------------------ the chart

/// The example amounts of every table: 1万 … 10亿 yuan.
pub const EXAMPLE_AMOUNTS_FEN: [i64; 10] = [
    FEN_PER_WAN,
    10 * FEN_PER_WAN,
    50 * FEN_PER_WAN,
    100 * FEN_PER_WAN,
    350 * FEN_PER_WAN,
    500 * FEN_PER_WAN,
    1_000 * FEN_PER_WAN,
    5_000 * FEN_PER_WAN,
    FEN_PER_YI,
    10 * FEN_PER_YI,
];

/// The chart's x range: 10^6 fen (1万元) to 10^11 fen (10亿元).
const X_MIN_EXP: f64 = 6.0;
const X_DECADES: f64 = 5.0;
const SAMPLES: usize = 160;

/// How a series is drawn (SVG presentation attributes, plus a class for the stylesheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Unified,
    Sichuan,
    Chongqing,
    Draft,
}

impl Style {
    pub fn class(&self) -> &'static str {
        match self {
            Style::Unified => "series-unified",
            Style::Sichuan => "series-sichuan",
            Style::Chongqing => "series-chongqing",
            Style::Draft => "series-draft",
        }
    }
    pub fn stroke(&self) -> &'static str {
        match self {
            Style::Unified => "#c8102e",
            Style::Sichuan => "#0b3a75",
            Style::Chongqing => "#1f7a3f",
            Style::Draft => "#a35c00",
        }
    }
    pub fn dash(&self) -> &'static str {
        match self {
            Style::Unified => "none",
            Style::Sichuan => "8 4",
            Style::Chongqing => "2 3",
            Style::Draft => "12 4 2 4",
        }
    }
}

/// One schedule to plot and tabulate.
pub struct Series {
    pub label: String,
    pub schedule: FeeSchedule,
    pub style: Style,
}

pub struct ChartLine {
    pub label: String,
    pub class: &'static str,
    pub stroke: &'static str,
    pub dash: &'static str,
    pub points: String,
    pub legend_x1: i32,
    pub legend_x2: i32,
    pub legend_text_x: i32,
    pub legend_y: i32,
    pub legend_text_y: i32,
}

pub struct Tick {
    pub pos: String,
    pub label: String,
}

pub struct Chart {
    pub width: i32,
    pub height: i32,
    pub left: i32,
    pub right: i32,
    pub top: i32,
    pub bottom: i32,
    pub lines: Vec<ChartLine>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// A vertical line at the amount typed in, when it is within the range.
    pub marker_x: Option<String>,
    pub marker_label: String,
    /// `start` or `end`: the label stays inside the plot.
    pub marker_anchor: &'static str,
    pub marker_dx: i32,
    pub title: String,
    pub desc: String,
    pub x_label: String,
    pub y_label: String,
    pub x_label_x: i32,
    pub x_label_y: i32,
    pub y_label_y: i32,
}

/// The average effective rate per side (buyer + seller fee over twice the amount), in ppm.
pub fn rate_per_side_ppm(schedule: &FeeSchedule, amount_fen: i64) -> i64 {
    let q = schedule.quote(amount_fen);
    effective_rate_ppm(q.total_fee_fen, amount_fen.saturating_mul(2))
}

fn x_tick_label(lang: Lang, exp: u32) -> String {
    let zh = ["1万", "10万", "100万", "1000万", "1亿", "10亿"];
    let en = ["¥10k", "¥100k", "¥1M", "¥10M", "¥100M", "¥1B"];
    let i = (exp as usize).saturating_sub(6).min(5);
    match lang {
        Lang::Zh => zh[i].to_string(),
        Lang::En => en[i].to_string(),
    }
}

/// The effective rate against the amount on a log scale, one line per series.
pub fn chart(lang: Lang, series: &[Series], marker_fen: Option<i64>) -> Chart {
    // The legend sits beneath the axis label, two entries a row, so it never hides a line.
    let legend_rows = (series.len() as i32 + 1) / 2;
    let (width, height) = (720, 372 + 22 * legend_rows);
    let (left, right, top, bottom) = (70, 700, 20, 320);
    let pw = f64::from(right - left);
    let ph = f64::from(bottom - top);
    let amounts: Vec<i64> = (0..=SAMPLES)
        .map(|i| {
            let e = X_MIN_EXP + X_DECADES * i as f64 / SAMPLES as f64;
            10f64.powf(e).round() as i64
        })
        .collect();
    let x_of = |amount: i64| -> f64 {
        let e = (amount as f64).log10();
        f64::from(left) + (e - X_MIN_EXP) / X_DECADES * pw
    };
    let rates: Vec<Vec<i64>> = series
        .iter()
        .map(|s| {
            amounts
                .iter()
                .map(|&a| rate_per_side_ppm(&s.schedule, a))
                .collect()
        })
        .collect();
    let max_ppm = rates.iter().flatten().copied().max().unwrap_or(0).max(1);
    // A step giving at most eight gridlines: 0.1 %, 0.2 %, 0.5 %, 1 %, 2 %, 5 %, 10 %, 20 %.
    let step = [
        1_000i64, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000,
    ]
    .into_iter()
    .find(|s| max_ppm <= s * 8)
    .unwrap_or(200_000);
    let y_max = ((max_ppm + step - 1) / step).max(1) * step;
    let y_of = |ppm: i64| -> f64 { f64::from(bottom) - ppm as f64 / y_max as f64 * ph };
    let lines = series
        .iter()
        .zip(&rates)
        .enumerate()
        .map(|(i, (s, r))| {
            let points = amounts
                .iter()
                .zip(r)
                .map(|(&a, &ppm)| format!("{:.1},{:.1}", x_of(a), y_of(ppm)))
                .collect::<Vec<_>>()
                .join(" ");
            let i = i as i32;
            let legend_x1 = left + (i % 2) * 320;
            let legend_y = 376 + (i / 2) * 22;
            ChartLine {
                label: s.label.clone(),
                class: s.style.class(),
                stroke: s.style.stroke(),
                dash: s.style.dash(),
                points,
                legend_x1,
                legend_x2: legend_x1 + 32,
                legend_text_x: legend_x1 + 40,
                legend_y,
                legend_text_y: legend_y + 4,
            }
        })
        .collect();
    let x_ticks = (6..=11)
        .map(|exp| Tick {
            pos: format!("{:.1}", x_of(10i64.pow(exp))),
            label: x_tick_label(lang, exp),
        })
        .collect();
    let y_ticks = (0..=y_max / step)
        .map(|k| Tick {
            pos: format!("{:.1}", y_of(k * step)),
            label: crate::domain::money::format_ppm_percent(k * step),
        })
        .collect();
    let in_range = marker_fen.filter(|&a| (FEN_PER_WAN..=10 * FEN_PER_YI).contains(&a));
    let marker_x = in_range.map(|a| format!("{:.1}", x_of(a)));
    let right_half = in_range.is_some_and(|a| x_of(a) > f64::from(left + right) / 2.0);
    let (marker_anchor, marker_dx) = if right_half {
        ("end", -4)
    } else {
        ("start", 4)
    };
    let marker_label = marker_fen
        .map(|a| match lang {
            Lang::Zh => crate::domain::money::format_wan(a),
            Lang::En => crate::domain::money::format_yuan(a),
        })
        .unwrap_or_default();
    Chart {
        width,
        height,
        left,
        right,
        top,
        bottom,
        lines,
        x_ticks,
        y_ticks,
        marker_x,
        marker_label,
        marker_anchor,
        marker_dx,
        title: i18n::t(lang, "fees.chart.title").to_string(),
        desc: i18n::t(lang, "fees.chart.desc").to_string(),
        x_label: i18n::t(lang, "fees.chart.x_label").to_string(),
        y_label: i18n::t(lang, "fees.chart.y_label").to_string(),
        x_label_x: (left + right) / 2,
        x_label_y: bottom + 38,
        y_label_y: (top + bottom) / 2,
    }
}

pub struct ExampleCell {
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
    pub rate_ppm: i64,
}

pub struct ExampleRow {
    pub amount_fen: i64,
    pub cells: Vec<ExampleCell>,
}

/// The numbers beneath the chart: each example amount under each series.
pub fn examples(series: &[Series]) -> Vec<ExampleRow> {
    EXAMPLE_AMOUNTS_FEN
        .iter()
        .map(|&amount_fen| ExampleRow {
            amount_fen,
            cells: series
                .iter()
                .map(|s| {
                    let q = s.schedule.quote(amount_fen);
                    ExampleCell {
                        buyer_fee_fen: q.buyer_fee_fen,
                        seller_fee_fen: q.seller_fee_fen,
                        total_fee_fen: q.total_fee_fen,
                        rate_ppm: rate_per_side_ppm(&s.schedule, amount_fen),
                    }
                })
                .collect(),
        })
        .collect()
}

/// One band as people read it: `100万元 – 500万元 · 1%`.
pub struct BandRow {
    pub from: String,
    pub to: String,
    pub rate: String,
}

fn amount_text(ctx: &PageCtx, fen: i64) -> String {
    ctx.wan(&fen)
}

pub fn band_rows(ctx: &PageCtx, side: &SideView) -> Vec<BandRow> {
    let mut lower = 0i64;
    side.bands
        .iter()
        .map(|b| {
            let row = BandRow {
                from: amount_text(ctx, lower),
                to: match b.up_to_fen {
                    Some(u) => amount_text(ctx, u),
                    None => ctx.t("fees.bands.and_above").to_string(),
                },
                rate: ctx.percent(&b.rate_ppm),
            };
            lower = b.up_to_fen.unwrap_or(lower);
            row
        })
        .collect()
}

#[derive(Template)]
#[template(path = "fees/_chart.html")]
struct ChartSvg<'a> {
    ctx: &'a PageCtx,
    chart: &'a Chart,
}

#[derive(Template)]
#[template(path = "fees/_examples.html")]
struct ExamplesTable<'a> {
    ctx: &'a PageCtx,
    labels: Vec<String>,
    rows: Vec<ExampleRow>,
}

#[derive(Template)]
#[template(path = "fees/_bands.html")]
struct BandsTable<'a> {
    ctx: &'a PageCtx,
    caption: String,
    rows: Vec<BandRow>,
    min_fee_fen: i64,
    max_fee_fen: Option<i64>,
}

fn render_str<T: Template>(t: &T) -> Result<String> {
    t.render()
        .map_err(|e| Error::Internal(anyhow::anyhow!("template failed: {e}")))
}

/// The chart (SVG) and the table of example amounts, as HTML.
fn figure(ctx: &PageCtx, series: &[Series], marker_fen: Option<i64>) -> Result<(String, String)> {
    let c = chart(ctx.lang, series, marker_fen);
    let svg = render_str(&ChartSvg { ctx, chart: &c })?;
    let table = render_str(&ExamplesTable {
        ctx,
        labels: series.iter().map(|s| s.label.clone()).collect(),
        rows: examples(series),
    })?;
    Ok((svg, table))
}

/// The bands of a side as a table; one table for both sides when they are the same.
fn bands_html(ctx: &PageCtx, buyer: &SideView, seller: &SideView) -> Result<String> {
    let sides: Vec<(&str, &SideView)> = if buyer == seller {
        vec![("fees.bands.both_sides", buyer)]
    } else {
        vec![("fees.editor.buyer", buyer), ("fees.editor.seller", seller)]
    };
    let mut out = String::new();
    for (caption, side) in sides {
        out.push_str(&render_str(&BandsTable {
            ctx,
            caption: ctx.t(caption).to_string(),
            rows: band_rows(ctx, side),
            min_fee_fen: side.min_fee_fen,
            max_fee_fen: side.max_fee_fen,
        })?);
    }
    Ok(out)
}

/// The legacy and current series of the public calculator.
fn public_series(lang: Lang, current: &ScheduleView) -> Vec<Series> {
    vec![
        Series {
            label: i18n::t(lang, "fees.series.unified").to_string(),
            schedule: current.schedule(),
            style: Style::Unified,
        },
        Series {
            label: i18n::t(lang, "fees.series.sichuan").to_string(),
            schedule: legacy_sichuan(),
            style: Style::Sichuan,
        },
        Series {
            label: i18n::t(lang, "fees.series.chongqing").to_string(),
            schedule: legacy_chongqing(),
            style: Style::Chongqing,
        },
    ]
}

// ------------------------------------------------------------------ the public calculator

pub struct CalcColumn {
    pub label: String,
    pub class: &'static str,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
    pub rate_ppm: i64,
    pub buyer_pays_fen: i64,
    pub seller_gets_fen: i64,
}

#[derive(Template)]
#[template(path = "fees/calculator.html")]
struct CalculatorPage {
    ctx: PageCtx,
    amount: String,
    error: String,
    amount_fen: i64,
    columns: Vec<CalcColumn>,
    current: ScheduleView,
    bands_html: String,
    chart_html: String,
    examples_html: String,
}

impl CalculatorPage {
    fn result_title(&self) -> String {
        self.ctx.t1(
            "fees.calc.result_for",
            "amount",
            &self.ctx.wan(&self.amount_fen),
        )
    }
}

#[derive(Debug, Deserialize)]
pub struct CalcQuery {
    amount: Option<String>,
}

fn amount_error(lang: Lang, e: &AmountError) -> String {
    i18n::tf(lang, e.key(), &e.args())
}

pub async fn calculator(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Query(q): Query<CalcQuery>,
) -> Result<Response> {
    let current = fees::in_force(&state.pool, Utc::now()).await?;
    let series = public_series(ctx.lang, &current);
    let amount = q.amount.unwrap_or_default();
    let (amount_fen, error) = if amount.trim().is_empty() {
        (0, String::new())
    } else {
        match parse_yuan(&amount) {
            Ok(fen) => (fen, String::new()),
            Err(e) => (0, amount_error(ctx.lang, &e)),
        }
    };
    let columns = if amount_fen > 0 {
        series
            .iter()
            .map(|s| {
                let q = s.schedule.quote(amount_fen);
                CalcColumn {
                    label: s.label.clone(),
                    class: s.style.class(),
                    buyer_fee_fen: q.buyer_fee_fen,
                    seller_fee_fen: q.seller_fee_fen,
                    total_fee_fen: q.total_fee_fen,
                    rate_ppm: rate_per_side_ppm(&s.schedule, amount_fen),
                    buyer_pays_fen: amount_fen.saturating_add(q.buyer_fee_fen),
                    seller_gets_fen: amount_fen.saturating_sub(q.seller_fee_fen),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let (chart_html, examples_html) =
        figure(&ctx, &series, (amount_fen > 0).then_some(amount_fen))?;
    let bands_html = bands_html(&ctx, &current.buyer, &current.seller)?;
    let page = CalculatorPage {
        ctx,
        amount,
        error,
        amount_fen,
        columns,
        current,
        bands_html,
        chart_html,
        examples_html,
    };
    let mut resp = render(&page)?;
    if !page.error.is_empty() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

// ------------------------------------------------------------------ public history

pub struct HistoryItem {
    pub view: ScheduleView,
    /// `in_force` | `scheduled` | `superseded`
    pub state: &'static str,
    pub bands_html: String,
}

#[derive(Template)]
#[template(path = "fees/history.html")]
struct HistoryPage {
    ctx: PageCtx,
    items: Vec<HistoryItem>,
}

pub async fn history(State(state): State<AppState>, Ctx(ctx, _): Ctx) -> Result<Response> {
    let now = Utc::now();
    let current = fees::in_force(&state.pool, now).await?;
    let mut items = Vec::new();
    for view in fees::history(&state.pool).await? {
        let state = if view.id == current.id {
            "in_force"
        } else if view.effective_from.is_some_and(|at| at > now) {
            "scheduled"
        } else {
            "superseded"
        };
        items.push(HistoryItem {
            bands_html: bands_html(&ctx, &view.buyer, &view.seller)?,
            state,
            view,
        });
    }
    render(&HistoryPage { ctx, items })
}

// ------------------------------------------------------------------ admin: list, queue, audit

pub struct QueueItem {
    pub view: ScheduleView,
    /// Empty when this admin may decide; else the translated reason why not.
    pub blocked: String,
}

#[derive(Template)]
#[template(path = "fees/admin_list.html")]
struct AdminListPage {
    ctx: PageCtx,
    drafts: Vec<QueueItem>,
    all: Page<ScheduleView>,
    audit: Page<AuditItem>,
}

impl AdminListPage {
    fn json(&self, v: &Option<serde_json::Value>) -> String {
        v.as_ref().map(|v| v.to_string()).unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
pub struct AdminListQuery {
    page: Option<i64>,
    audit_page: Option<i64>,
}

fn blocked_reason(lang: Lang, admin: &CurrentUser, v: &ScheduleView) -> String {
    match fees::may_decide(admin, v) {
        Ok(()) => String::new(),
        Err(e) => i18n::t(lang, &format!("error.{}", e.code())).to_string(),
    }
}

pub async fn admin_list(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<AdminListQuery>,
) -> Result<Response> {
    let drafts = fees::list(
        &state.pool,
        Some("draft"),
        PageQuery {
            page: Some(1),
            per_page: Some(100),
        },
    )
    .await?
    .items
    .into_iter()
    .map(|view| QueueItem {
        blocked: blocked_reason(ctx.lang, &user, &view),
        view,
    })
    .collect();
    let all = fees::list(
        &state.pool,
        None,
        PageQuery {
            page: q.page,
            per_page: Some(20),
        },
    )
    .await?;
    let audit = fees::audit_trail(
        &state.pool,
        &user,
        PageQuery {
            page: q.audit_page,
            per_page: Some(20),
        },
    )
    .await?;
    render(&AdminListPage {
        ctx,
        drafts,
        all,
        audit,
    })
}

// ------------------------------------------------------------------ admin: the editor

/// One band row of the editor as typed: upper bound in yuan (`100万`), rate in percent (`1.5`).
#[derive(Debug, Clone, Default)]
pub struct EditorBand {
    pub up_to: String,
    pub rate: String,
}

#[derive(Debug, Clone, Default)]
pub struct EditorSide {
    pub bands: Vec<EditorBand>,
    pub min_fee: String,
    pub max_fee: String,
}

/// A band row ready for the template: names, values and messages.
pub struct EditorRow {
    pub index: usize,
    pub last: bool,
    pub up_to: String,
    pub rate: String,
    pub up_to_error: String,
    pub rate_error: String,
    pub from: String,
}

pub struct EditorSideView {
    pub side: &'static str,
    pub legend: String,
    pub rows: Vec<EditorRow>,
    pub min_fee: String,
    pub max_fee: String,
    pub min_fee_error: String,
    pub max_fee_error: String,
    pub bands_error: String,
}

/// A whole number of 亿 as `1亿`, of 万 as `100万`, else yuan with cents (`1234.56`): what parse_yuan reads back.
fn yuan_input(fen: i64) -> String {
    if fen != 0 && fen % FEN_PER_YI == 0 {
        format!("{}亿", fen / FEN_PER_YI)
    } else if fen != 0 && fen % FEN_PER_WAN == 0 {
        format!("{}万", fen / FEN_PER_WAN)
    } else if fen % 100 == 0 {
        (fen / 100).to_string()
    } else {
        format!("{}.{:02}", fen / 100, (fen % 100).abs())
    }
}

/// ppm as a plain percentage for the input (`15000` → `1.5`).
fn percent_input(ppm: i64) -> String {
    crate::domain::money::format_ppm_percent(ppm)
        .trim_end_matches('%')
        .to_string()
}

/// A percentage as people type it (`1.5`, `1.5%`, `0.0001`) into ppm: at most four decimals.
pub fn parse_percent_ppm(input: &str) -> std::result::Result<i64, &'static str> {
    let folded: String = input.chars().map(fold_width).collect();
    let s = folded.trim();
    let s = s.strip_suffix('%').unwrap_or(s).trim_end();
    if s.is_empty() {
        return Err("err.fees.rate_required");
    }
    if s.starts_with('-') {
        return Err("err.fees.rate_format");
    }
    let (int_part, frac_part) = s.split_once('.').unwrap_or((s, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return Err("err.fees.rate_format");
    }
    let frac = frac_part.trim_end_matches('0');
    if frac.len() > 4 {
        return Err("err.fees.rate_precision");
    }
    let int_digits = int_part.trim_start_matches('0');
    if int_digits.len() > 4 {
        return Err("err.fees.rate_format");
    }
    let int: i64 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().map_err(|_| "err.fees.rate_format")?
    };
    let mut frac_val: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| "err.fees.rate_format")?
    };
    for _ in frac.len()..4 {
        frac_val *= 10;
    }
    Ok(int * 10_000 + frac_val)
}

const SHANGHAI: i32 = 8 * 3600;

/// `YYYY-MM-DDTHH:MM` (as `<input type="datetime-local">` sends it) in Asia/Shanghai.
pub fn parse_local_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    let off = FixedOffset::east_opt(SHANGHAI)?;
    off.from_local_datetime(&naive)
        .single()
        .map(|d| d.with_timezone(&Utc))
}

impl EditorSide {
    fn from_view(v: &SideView) -> Self {
        EditorSide {
            bands: v
                .bands
                .iter()
                .map(|b| EditorBand {
                    up_to: b.up_to_fen.map(yuan_input).unwrap_or_default(),
                    rate: percent_input(b.rate_ppm),
                })
                .collect(),
            min_fee: yuan_input(v.min_fee_fen),
            max_fee: v.max_fee_fen.map(yuan_input).unwrap_or_default(),
        }
    }

    /// The side from the form: `{side}.rate` once per band, `{side}.up_to` once per band but the last.
    fn from_form(form: &Form, side: &str) -> Self {
        let rates = form.all(&format!("{side}.rate"));
        let up_tos = form.all(&format!("{side}.up_to"));
        let n = rates.len().min(fees::MAX_BANDS + 1);
        let bands = (0..n)
            .map(|i| EditorBand {
                up_to: if i + 1 < n {
                    up_tos.get(i).map(|s| s.to_string()).unwrap_or_default()
                } else {
                    String::new()
                },
                rate: rates[i].to_string(),
            })
            .collect();
        EditorSide {
            bands,
            min_fee: form.get(&format!("{side}.min_fee")).to_string(),
            max_fee: form.get(&format!("{side}.max_fee")).to_string(),
        }
    }

    /// One more band at the top: the old last band gets an (empty) upper bound.
    fn add_band(&mut self) {
        if self.bands.len() < fees::MAX_BANDS {
            self.bands.push(EditorBand::default());
        }
    }

    /// Drops band `i`; removing the last band makes the one before it unbounded.
    fn remove_band(&mut self, i: usize) {
        if self.bands.len() > 1 && i < self.bands.len() {
            self.bands.remove(i);
            if let Some(last) = self.bands.last_mut() {
                last.up_to.clear();
            }
        }
    }

    /// Parses what was typed into a side schedule; problems go to `errs` under the JSON paths.
    fn parse(&self, side: &str, errs: &mut FieldErrors) -> SideView {
        let n = self.bands.len();
        if n == 0 {
            errs.push(format!("{side}.bands"), "err.fees.no_bands", vec![]);
        }
        let bands = self
            .bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let up_to_fen = if i + 1 < n {
                    if b.up_to.trim().is_empty() {
                        errs.push(
                            format!("{side}.bands[{i}].up_to_fen"),
                            "err.fees.band_unbounded",
                            vec![],
                        );
                        None
                    } else {
                        match parse_yuan(&b.up_to) {
                            Ok(fen) => Some(fen),
                            Err(e) => {
                                errs.push_err(format!("{side}.bands[{i}].up_to_fen"), &e);
                                None
                            }
                        }
                    }
                } else {
                    None
                };
                let rate_ppm = match parse_percent_ppm(&b.rate) {
                    Ok(ppm) => ppm,
                    Err(key) => {
                        errs.push(format!("{side}.bands[{i}].rate_ppm"), key, vec![]);
                        0
                    }
                };
                BandView {
                    up_to_fen,
                    rate_ppm,
                }
            })
            .collect();
        let fee = |text: &str, path: String, errs: &mut FieldErrors| -> Option<i64> {
            match parse_yuan(text) {
                Ok(fen) => Some(fen),
                Err(AmountError::Zero) => Some(0),
                Err(e) => {
                    errs.push_err(path, &e);
                    None
                }
            }
        };
        let min_fee_fen = if self.min_fee.trim().is_empty() {
            0
        } else {
            fee(&self.min_fee, format!("{side}.min_fee_fen"), errs).unwrap_or(0)
        };
        let max_fee_fen = if self.max_fee.trim().is_empty() {
            None
        } else {
            fee(&self.max_fee, format!("{side}.max_fee_fen"), errs)
        };
        SideView {
            bands,
            min_fee_fen,
            max_fee_fen,
        }
    }

    fn view(&self, ctx: &PageCtx, side: &'static str, errors: &FormErrors) -> EditorSideView {
        let n = self.bands.len();
        let mut from = ctx.wan(&0);
        let rows = self
            .bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let row = EditorRow {
                    index: i,
                    last: i + 1 == n,
                    up_to: b.up_to.clone(),
                    rate: b.rate.clone(),
                    up_to_error: errors
                        .get(&format!("{side}.bands[{i}].up_to_fen"))
                        .to_string(),
                    rate_error: errors
                        .get(&format!("{side}.bands[{i}].rate_ppm"))
                        .to_string(),
                    from: from.clone(),
                };
                from = match parse_yuan(&b.up_to) {
                    Ok(fen) => ctx.wan(&fen),
                    Err(_) => "…".to_string(),
                };
                row
            })
            .collect();
        EditorSideView {
            side,
            legend: ctx.t(&format!("fees.editor.{side}")).to_string(),
            rows,
            min_fee: self.min_fee.clone(),
            max_fee: self.max_fee.clone(),
            min_fee_error: errors.get(&format!("{side}.min_fee_fen")).to_string(),
            max_fee_error: errors.get(&format!("{side}.max_fee_fen")).to_string(),
            bands_error: errors.get(&format!("{side}.bands")).to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "fees/admin_editor.html")]
struct EditorPage {
    ctx: PageCtx,
    name: String,
    effective_from: String,
    name_error: String,
    effective_from_error: String,
    sides: Vec<EditorSideView>,
    message: String,
    /// Shown after "preview" when the draft parses and validates.
    preview: Option<Preview>,
}

pub struct Preview {
    pub chart_html: String,
    pub examples_html: String,
}

#[derive(Debug, Deserialize)]
pub struct EditorQuery {
    from: Option<String>,
}

/// What the editor form holds, as typed.
struct Typed<'a> {
    name: String,
    effective_from: String,
    buyer: &'a EditorSide,
    seller: &'a EditorSide,
}

fn editor_page(
    ctx: PageCtx,
    typed: Typed<'_>,
    errors: &FormErrors,
    message: String,
    preview: Option<Preview>,
) -> EditorPage {
    let Typed {
        name,
        effective_from,
        buyer,
        seller,
    } = typed;
    let sides = vec![
        buyer.view(&ctx, "buyer", errors),
        seller.view(&ctx, "seller", errors),
    ];
    EditorPage {
        name_error: errors.get("name").to_string(),
        effective_from_error: errors.get("effective_from").to_string(),
        ctx,
        name,
        effective_from,
        sides,
        message,
        preview,
    }
}

pub async fn editor_new(
    State(state): State<AppState>,
    WebAdmin(_user, ctx): WebAdmin,
    Query(q): Query<EditorQuery>,
) -> Result<Response> {
    let base = match q.from.as_deref().map(parse_id) {
        Some(Ok(id)) => fees::get(&state.pool, id).await?,
        Some(Err(e)) => return Err(e),
        None => fees::in_force(&state.pool, Utc::now()).await?,
    };
    let page = editor_page(
        ctx,
        Typed {
            name: String::new(),
            effective_from: String::new(),
            buyer: &EditorSide::from_view(&base.buyer),
            seller: &EditorSide::from_view(&base.seller),
        },
        &FormErrors::default(),
        String::new(),
        None,
    );
    render(&page)
}

/// What the editor's submit buttons ask for.
#[derive(Debug, PartialEq, Eq)]
enum EditorAction {
    Add(&'static str),
    Remove(&'static str, usize),
    Preview,
    Save,
}

fn side_name(s: &str) -> Option<&'static str> {
    match s {
        "buyer" => Some("buyer"),
        "seller" => Some("seller"),
        _ => None,
    }
}

fn parse_action(a: &str) -> EditorAction {
    let parts: Vec<&str> = a.split(':').collect();
    match parts.as_slice() {
        ["add", side] => side_name(side).map_or(EditorAction::Preview, EditorAction::Add),
        ["remove", side, i] => match (side_name(side), i.parse::<usize>()) {
            (Some(s), Ok(i)) => EditorAction::Remove(s, i),
            _ => EditorAction::Preview,
        },
        ["save"] => EditorAction::Save,
        _ => EditorAction::Preview,
    }
}

pub async fn editor_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    user.require_admin()?;
    let name = form.get("name").to_string();
    let effective_from = form.get("effective_from").to_string();
    let mut buyer = EditorSide::from_form(&form, "buyer");
    let mut seller = EditorSide::from_form(&form, "seller");
    let action = parse_action(form.get("action"));
    match action {
        EditorAction::Add(side) | EditorAction::Remove(side, _) => {
            let s = if side == "buyer" {
                &mut buyer
            } else {
                &mut seller
            };
            match action {
                EditorAction::Add(_) => s.add_band(),
                EditorAction::Remove(_, i) => s.remove_band(i),
                _ => {}
            }
            let page = editor_page(
                ctx,
                Typed {
                    name,
                    effective_from,
                    buyer: &buyer,
                    seller: &seller,
                },
                &FormErrors::default(),
                String::new(),
                None,
            );
            return render(&page);
        }
        EditorAction::Preview | EditorAction::Save => {}
    }
    // Parse what was typed, then let the service's validation speak (same paths as the API).
    let now = Utc::now();
    let mut errs = FieldErrors::new();
    let buyer_view = buyer.parse("buyer", &mut errs);
    let seller_view = seller.parse("seller", &mut errs);
    let effective = if effective_from.trim().is_empty() {
        None
    } else {
        match parse_local_time(&effective_from) {
            Some(at) => Some(at),
            None => {
                errs.push("effective_from", "err.fees.effective_from_format", vec![]);
                None
            }
        }
    };
    let input = NewScheduleInput {
        name: name.clone(),
        effective_from: effective,
        buyer: buyer_view,
        seller: seller_view,
    };
    let parse_failed = !errs.is_empty();
    if action == EditorAction::Preview || parse_failed {
        // Domain validation too, so everything wrong shows at once; paths already reported win.
        for e in fees::validate_input(&input, now) {
            if errs.get(&e.path).is_none() && !(action == EditorAction::Preview && e.path == "name")
            {
                errs.0.push(e);
            }
        }
    }
    if action == EditorAction::Save && errs.is_empty() {
        match fees::create(&state.pool, &user, input, now).await {
            Ok(v) => {
                return Ok(
                    Redirect::to(&format!("/admin/fees/{}?done=fee_drafted", v.id)).into_response(),
                )
            }
            Err(e @ Error::Validation(_)) => {
                let errors = FormErrors::from_error(ctx.lang, &e);
                let message = ctx.t("form.fix_errors").to_string();
                let page = editor_page(
                    ctx,
                    Typed {
                        name,
                        effective_from,
                        buyer: &buyer,
                        seller: &seller,
                    },
                    &errors,
                    message,
                    None,
                );
                let mut resp = render(&page)?;
                *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(resp);
            }
            Err(e) => return Err(e),
        }
    }
    let err = Error::Validation(errs);
    let errors = FormErrors::from_error(ctx.lang, &err);
    let preview = if errors.is_empty() {
        let current = fees::in_force(&state.pool, now).await?;
        let mut series = vec![Series {
            label: ctx.t("fees.series.draft").to_string(),
            schedule: FeeSchedule {
                buyer: (&input.buyer).into(),
                seller: (&input.seller).into(),
            },
            style: Style::Draft,
        }];
        series.extend(public_series(ctx.lang, &current));
        let (chart_html, examples_html) = figure(&ctx, &series, None)?;
        Some(Preview {
            chart_html,
            examples_html,
        })
    } else {
        None
    };
    let message = if errors.is_empty() {
        String::new()
    } else {
        ctx.t("form.fix_errors").to_string()
    };
    let failed = !errors.is_empty();
    let page = editor_page(
        ctx,
        Typed {
            name,
            effective_from,
            buyer: &buyer,
            seller: &seller,
        },
        &errors,
        message,
        preview,
    );
    let mut resp = render(&page)?;
    if failed {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

// ------------------------------------------------------------------ admin: one schedule

pub struct BandPair {
    pub this: Option<BandRow>,
    pub current: Option<BandRow>,
}

pub struct SideCompare {
    pub legend: String,
    pub pairs: Vec<BandPair>,
    pub this_min: i64,
    pub this_max: Option<i64>,
    pub current_min: i64,
    pub current_max: Option<i64>,
}

fn compare_side(ctx: &PageCtx, legend: &str, this: &SideView, current: &SideView) -> SideCompare {
    let a = band_rows(ctx, this);
    let b = band_rows(ctx, current);
    let n = a.len().max(b.len());
    let mut a = a.into_iter();
    let mut b = b.into_iter();
    SideCompare {
        legend: ctx.t(legend).to_string(),
        pairs: (0..n)
            .map(|_| BandPair {
                this: a.next(),
                current: b.next(),
            })
            .collect(),
        this_min: this.min_fee_fen,
        this_max: this.max_fee_fen,
        current_min: current.min_fee_fen,
        current_max: current.max_fee_fen,
    }
}

#[derive(Template)]
#[template(path = "fees/admin_detail.html")]
struct DetailPage {
    ctx: PageCtx,
    schedule: ScheduleView,
    current: ScheduleView,
    sides: Vec<SideCompare>,
    simulation: Simulation,
    chart_html: String,
    examples_html: String,
    /// Empty when this admin may decide; else why not.
    blocked: String,
    audit: Vec<AuditItem>,
    message: String,
    reason: String,
    reason_error: String,
}

impl DetailPage {
    fn json(&self, v: &Option<serde_json::Value>) -> String {
        v.as_ref().map(|v| v.to_string()).unwrap_or_default()
    }
    fn diff(&self, e: &ExchangeFees) -> String {
        let d = e.proposed_fee_fen.saturating_sub(e.current_fee_fen);
        let sign = if d > 0 { "+" } else { "" };
        format!("{sign}{}", self.ctx.money(&d))
    }
    fn total_diff(&self) -> String {
        self.diff(&ExchangeFees {
            current_fee_fen: self.simulation.current_total_fee_fen,
            proposed_fee_fen: self.simulation.proposed_total_fee_fen,
        })
    }
    fn approve_at(&self, at: &DateTime<Utc>) -> String {
        self.ctx
            .t1("fees.admin.approve_at", "at", &self.ctx.time(at))
    }
    fn sim_note(&self) -> String {
        self.ctx.t1(
            "fees.sim.note",
            "turnover",
            &self.ctx.money(&self.simulation.turnover_fen),
        )
    }
    fn max_text(&self, cap: &Option<i64>) -> String {
        match cap {
            Some(c) => self.ctx.money(c),
            None => self.ctx.t("fees.no_cap").to_string(),
        }
    }
}

async fn detail_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    id: Uuid,
    message: String,
    reason: String,
    reason_error: String,
) -> Result<DetailPage> {
    let now = Utc::now();
    let schedule = fees::get(&state.pool, id).await?;
    let current = fees::in_force(&state.pool, now).await?;
    let simulation = fees::simulate(&state.pool, user, id, now).await?;
    let audit = fees::audit_of(&state.pool, user, id).await?;
    let mut series = vec![Series {
        label: ctx.t("fees.series.this").to_string(),
        schedule: schedule.schedule(),
        style: Style::Draft,
    }];
    series.extend(public_series(ctx.lang, &current));
    let sides = vec![
        compare_side(&ctx, "fees.editor.buyer", &schedule.buyer, &current.buyer),
        compare_side(
            &ctx,
            "fees.editor.seller",
            &schedule.seller,
            &current.seller,
        ),
    ];
    let (chart_html, examples_html) = figure(&ctx, &series, None)?;
    Ok(DetailPage {
        blocked: blocked_reason(ctx.lang, user, &schedule),
        chart_html,
        examples_html,
        ctx,
        schedule,
        current,
        sides,
        simulation,
        audit,
        message,
        reason,
        reason_error,
    })
}

pub async fn admin_detail(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let page = detail_page(
        &state,
        &user,
        ctx,
        id,
        String::new(),
        String::new(),
        String::new(),
    )
    .await?;
    render(&page)
}

/// A refused decision shows the page again with the reason (and the same status).
async fn decision_failed(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    id: Uuid,
    e: Error,
    reason: String,
) -> Result<Response> {
    match e {
        Error::Forbidden(_) | Error::Conflict { .. } | Error::Validation(_) => {
            let errors = FormErrors::from_error(ctx.lang, &e);
            let message = match &e {
                Error::Conflict { args, .. } => {
                    i18n::tf(ctx.lang, &format!("error.{}", e.code()), args)
                }
                _ => i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string(),
            };
            let reason_error = errors.get("reason").to_string();
            let page = detail_page(state, user, ctx, id, message, reason, reason_error).await?;
            let mut resp = render(&page)?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        other => Err(other),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match fees::approve(&state.pool, &user, id, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/fees/{id}?done=fee_decided")).into_response()),
        Err(e) => decision_failed(&state, &user, ctx, id, e, String::new()).await,
    }
}

pub async fn reject(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let reason = form.get("reason").to_string();
    let r = (!reason.trim().is_empty()).then_some(reason.as_str());
    match fees::reject(&state.pool, &user, id, r, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/fees/{id}?done=fee_decided")).into_response()),
        Err(e) => decision_failed(&state, &user, ctx, id, e, reason).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::fees::unified_v1;

    #[test]
    fn percentages_parse_exactly_to_ppm() {
        assert_eq!(parse_percent_ppm("1.5"), Ok(15_000));
        assert_eq!(parse_percent_ppm("1.5%"), Ok(15_000));
        assert_eq!(parse_percent_ppm(" 0.0001 "), Ok(1));
        assert_eq!(parse_percent_ppm("100"), Ok(1_000_000));
        assert_eq!(parse_percent_ppm("５"), Ok(50_000));
        assert_eq!(parse_percent_ppm(".7"), Ok(7_000));
        assert_eq!(parse_percent_ppm("0.10000"), Ok(1_000));
        assert_eq!(parse_percent_ppm(""), Err("err.fees.rate_required"));
        assert_eq!(parse_percent_ppm("-1"), Err("err.fees.rate_format"));
        assert_eq!(parse_percent_ppm("abc"), Err("err.fees.rate_format"));
        assert_eq!(parse_percent_ppm("0.00001"), Err("err.fees.rate_precision"));
        assert_eq!(parse_percent_ppm("99999"), Err("err.fees.rate_format"));
    }

    #[test]
    fn editor_inputs_read_back_as_the_same_amounts() {
        for fen in [0, 1, 30_000, 100_000_000, 123_456, 10_000_000_000] {
            let text = yuan_input(fen);
            let back = match parse_yuan(&text) {
                Ok(v) => v,
                Err(AmountError::Zero) => 0,
                Err(e) => panic!("{text}: {e}"),
            };
            assert_eq!(back, fen, "{text}");
        }
        for ppm in [1, 1_000, 15_000, 1_000_000] {
            assert_eq!(parse_percent_ppm(&percent_input(ppm)), Ok(ppm));
        }
    }

    #[test]
    fn local_times_are_shanghai_time() {
        let at = parse_local_time("2026-12-01T08:30").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-01T00:30:00+00:00");
        assert!(parse_local_time("tomorrow").is_none());
    }

    #[test]
    fn the_chart_has_one_line_per_series_and_axis_ticks_from_1_wan_to_10_yi() {
        let series = vec![
            Series {
                label: "u".into(),
                schedule: unified_v1(),
                style: Style::Unified,
            },
            Series {
                label: "s".into(),
                schedule: legacy_sichuan(),
                style: Style::Sichuan,
            },
        ];
        let c = chart(Lang::Zh, &series, Some(350 * FEN_PER_WAN));
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.lines[0].points.split(' ').count(), SAMPLES + 1);
        assert_eq!(c.x_ticks.first().unwrap().label, "1万");
        assert_eq!(c.x_ticks.last().unwrap().label, "10亿");
        // Sichuan starts at 5 %: the y axis reaches at least that.
        assert_eq!(c.y_ticks.last().unwrap().label, "5%");
        assert!(c.marker_x.is_some());
        assert!(chart(Lang::En, &series, Some(1)).marker_x.is_none());
    }

    #[test]
    fn the_example_table_matches_the_engine() {
        let series = vec![Series {
            label: "s".into(),
            schedule: legacy_sichuan(),
            style: Style::Sichuan,
        }];
        let rows = examples(&series);
        assert_eq!(rows.len(), 10);
        let r = rows
            .iter()
            .find(|r| r.amount_fen == 350 * FEN_PER_WAN)
            .unwrap();
        assert_eq!(r.cells[0].buyer_fee_fen, 12_500_000);
        assert_eq!(r.cells[0].rate_ppm, 35_714);
    }

    #[test]
    fn adding_and_removing_bands_keeps_the_last_one_unbounded() {
        let mut s = EditorSide::from_view(&SideView::from(&unified_v1().buyer));
        assert_eq!(s.bands.len(), 6);
        assert!(s.bands[5].up_to.is_empty());
        s.add_band();
        assert_eq!(s.bands.len(), 7);
        s.remove_band(6);
        assert_eq!(s.bands.len(), 6);
        assert!(
            s.bands[5].up_to.is_empty(),
            "the new last band is unbounded"
        );
        s.remove_band(0);
        assert_eq!(s.bands[0].up_to, "500万");
        assert_eq!(
            parse_action("remove:seller:3"),
            EditorAction::Remove("seller", 3)
        );
        assert_eq!(parse_action("add:buyer"), EditorAction::Add("buyer"));
        assert_eq!(parse_action("add:nobody"), EditorAction::Preview);
        assert_eq!(parse_action("save"), EditorAction::Save);
    }
}
