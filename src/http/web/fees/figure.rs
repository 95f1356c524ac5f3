//! The chart of effective rates against the amount, and the tables beneath it.
use askama::Template;

use crate::domain::fees::{effective_rate_ppm, legacy_chongqing, legacy_sichuan, FeeSchedule};
use crate::domain::money::{FEN_PER_WAN, FEN_PER_YI};
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::i18n::{self, Lang};
use crate::service::fees::{ScheduleView, SideView};

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
pub(super) const X_MIN_EXP: f64 = 6.0;
pub(super) const X_DECADES: f64 = 5.0;
pub(super) const SAMPLES: usize = 160;

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

pub(super) fn x_tick_label(lang: Lang, exp: u32) -> String {
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

pub(super) fn amount_text(ctx: &PageCtx, fen: i64) -> String {
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
pub(super) struct ChartSvg<'a> {
    ctx: &'a PageCtx,
    chart: &'a Chart,
}

#[derive(Template)]
#[template(path = "fees/_examples.html")]
pub(super) struct ExamplesTable<'a> {
    ctx: &'a PageCtx,
    labels: Vec<String>,
    rows: Vec<ExampleRow>,
}

#[derive(Template)]
#[template(path = "fees/_bands.html")]
pub(super) struct BandsTable<'a> {
    ctx: &'a PageCtx,
    caption: String,
    rows: Vec<BandRow>,
    min_fee_fen: i64,
    max_fee_fen: Option<i64>,
}

pub(super) fn render_str<T: Template>(t: &T) -> Result<String> {
    t.render()
        .map_err(|e| Error::Internal(anyhow::anyhow!("template failed: {e}")))
}

/// The chart (SVG) and the table of example amounts, as HTML.
pub(super) fn figure(
    ctx: &PageCtx,
    series: &[Series],
    marker_fen: Option<i64>,
) -> Result<(String, String)> {
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
pub(super) fn bands_html(ctx: &PageCtx, buyer: &SideView, seller: &SideView) -> Result<String> {
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
pub(super) fn public_series(lang: Lang, current: &ScheduleView) -> Vec<Series> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::fees::unified_v1;
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
}
