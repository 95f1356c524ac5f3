//! Charts: the geometry of every chart the market draws, computed into plain data that
//! `templates/chart/svg.html` draws with askama alone (so every text on a chart is escaped).
//!
//! A chart has a value [`Unit`] (fen, ppm or counts) and an x axis of either categories (months,
//! fields, provinces) or a continuous amount on a linear or log scale. Series are lines, steps or
//! bars (grouped when there are several; horizontal for long category names). `build` works out
//! nice ticks with readable labels (`500万` / `¥5M`, `1.5%`, `1.2万`, `3月` with the year beneath),
//! points, bars, markers and a legend; for a category chart it also returns the numbers as a
//! [`DataTable`] for the accessible table that follows the chart. No I/O and no HTML here.
//!
//! ```
//! use techmarket::http::web::chart::{Chart, Look, Unit};
//! use techmarket::i18n::Lang;
//!
//! // Turnover by month, one line per province:
//! let turnover = Chart::months(Lang::Zh, "turnover", &[(2026, 11), (2026, 12), (2027, 1)], Unit::Fen)
//!     .titles("月度成交额", "四川、重庆两地每月成交额")
//!     .axis_titles("月份", "成交额（元）")
//!     .line("四川", Look::nth(0), &[350_000_000, 120_000_000, 0])
//!     .line("重庆", Look::nth(1), &[80_000_000, 95_000_000, 150_000_000])
//!     .build();
//! assert_eq!(turnover.x_ticks[2].label, "1月");
//! assert_eq!(turnover.x_ticks[2].sub, "2027年");
//!
//! // Trades by field; a second `bars` series makes the bars grouped.
//! let by_field = Chart::categories(Lang::En, "by-field", ["IC", "Energy", "Farming"], Unit::Count)
//!     .titles("Trades by field", "Trades per technology field, 2026 and 2027")
//!     .axis_titles("Field", "Trades")
//!     .bars("2026", Look::nth(0), &[12, 7, 3])
//!     .bars("2027", Look::nth(1), &[15, 9, 4])
//!     .build();
//! assert_eq!(by_field.bars.len(), 6);
//! assert_eq!(by_field.table.as_ref().map(|t| t.rows.len()), Some(3));
//!
//! // Long names (provinces, fields in Chinese) read better as horizontal bars on a phone:
//! let horizontal = Chart::categories(Lang::Zh, "fields", ["集成电路", "新能源汽车"], Unit::Count)
//!     .bars("成交笔数", Look::nth(0), &[12, 7])
//!     .horizontal()
//!     .build();
//! assert_eq!(horizontal.y_ticks[1].label, "新能源汽车");
//! ```
//!
//! A flow between categories (sellers' province × buyers' province) is a [`Matrix`]: a table
//! whose cells are shaded by their size.
//!
//! In the page's template:
//!
//! ```text
//! {% import "chart/svg.html" as chart %}
//! <figure class="chart">{% call chart::svg(turnover) %}</figure>
//! {% call chart::table(turnover) %}
//! ```
//!
//! Phones: the SVG scales to its box, so at 390 px it is drawn 290 to 330 px wide, about 0.4 of
//! its size. `static/chart.css` raises the font to [`NARROW_FONT`] there (and [`MID_FONT`] up to
//! 760 px) and hides the tick labels marked `minor`; the layout here leaves room for the largest
//! font, so no label collides at any width.
mod label;
mod layout;
mod matrix;
mod scale;

pub use label::Unit;
pub use matrix::{Matrix, MatrixCell, MatrixRow, MatrixTable};
pub use scale::{decades, nice_range, NiceRange, Scale};

use crate::i18n::Lang;

/// The width of every chart's coordinate system; the SVG scales to the width of its box.
pub const WIDTH: f64 = 720.0;
/// The font size of a chart on wide screens, in chart units.
pub const FONT: f64 = 13.0;
/// The font size `static/chart.css` sets on screens up to 760 px wide.
pub const MID_FONT: f64 = 18.0;
/// The font size `static/chart.css` sets on screens up to 480 px wide (about 11 px on a phone).
pub const NARROW_FONT: f64 = 28.0;
/// The plot's height unless a chart asks for another.
pub const PLOT_HEIGHT: f64 = 280.0;

/// A coordinate, printed with one decimal.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Px(pub f64);

impl std::fmt::Display for Px {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// How a series is drawn: a class for the stylesheet, a colour, and a dash pattern so that lines
/// stay apart without colour too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub class: &'static str,
    pub color: &'static str,
    /// An SVG `stroke-dasharray`, `none` for a solid line.
    pub dash: &'static str,
}

impl Look {
    pub const fn new(class: &'static str, color: &'static str, dash: &'static str) -> Self {
        Look { class, color, dash }
    }

    /// The `i`-th look of [`PALETTE`], for series without colours of their own.
    pub fn nth(i: usize) -> Look {
        PALETTE[i % PALETTE.len()]
    }
}

/// Colours that stay apart for colour-blind readers, each with its own dash.
pub const PALETTE: [Look; 6] = [
    Look::new("series-1", "#0b3a75", "none"),
    Look::new("series-2", "#c8102e", "8 4"),
    Look::new("series-3", "#1f7a3f", "2 3"),
    Look::new("series-4", "#a35c00", "12 4 2 4"),
    Look::new("series-5", "#6b3fa0", "4 2"),
    Look::new("series-6", "#00778a", "1 3"),
];

/// The plot area.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    pub x: Px,
    pub y: Px,
    pub w: Px,
    pub h: Px,
    pub right: Px,
    pub bottom: Px,
}

/// A tick: where, its label, an optional second line (the year under a month), and whether the
/// label is hidden on narrow screens.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub pos: Px,
    /// `middle`; `start` or `end` at the ends of a value axis, so that the label reads inwards.
    pub anchor: &'static str,
    pub label: String,
    pub sub: String,
    pub minor: bool,
}

/// A straight line from (`x1`, `y1`) to (`x2`, `y2`): an axis.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Seg {
    pub x1: Px,
    pub y1: Px,
    pub x2: Px,
    pub y2: Px,
}

/// A text at a point.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Text {
    pub x: Px,
    pub y: Px,
    pub text: String,
}

/// A line (or step line) through its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub look: Look,
    pub coords: Vec<(Px, Px)>,
}

impl Line {
    /// The SVG `points` attribute: `x,y x,y …`.
    pub fn points(&self) -> String {
        let mut out = String::with_capacity(self.coords.len() * 12);
        for (i, (x, y)) in self.coords.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&format!("{x},{y}"));
        }
        out
    }
}

/// A bar, with the text of its tooltip (`2026 · IC: 12`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: Px,
    pub y: Px,
    pub w: Px,
    pub h: Px,
    pub look: Look,
    pub tip: String,
}

/// A vertical rule at a value of the x axis, labelled inside the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: Px,
    pub label: String,
    /// `start` or `end`: the label stays inside the plot.
    pub anchor: &'static str,
    pub dx: i32,
    pub label_y: Px,
}

/// One entry of the legend: a line or a box of the series' look, then its label.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub look: Look,
    /// A box (bars) rather than a line.
    pub bar: bool,
    /// The line from `x` to `x2` at `y`, or the box from `x`, `box_y`.
    pub x: Px,
    pub x2: Px,
    pub y: Px,
    pub box_y: Px,
    pub text_x: Px,
}

/// The numbers of a category chart, for the table that follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTable {
    pub caption: String,
    /// The x axis's title, then one column per series.
    pub head: Vec<String>,
    pub rows: Vec<DataRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataRow {
    pub label: String,
    pub cells: Vec<String>,
}

/// A chart, laid out: everything `templates/chart/svg.html` needs, in chart units.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Prefix of the ids inside the SVG; unique on its page.
    pub id: String,
    /// Classes of the `<svg>` beside `chart-svg`.
    pub class: String,
    pub title: String,
    pub desc: String,
    pub font: f64,
    pub width: i32,
    pub height: i32,
    pub plot: Rect,
    /// The labels beneath the plot (categories, or values of a horizontal bar chart).
    pub x_ticks: Vec<Tick>,
    /// The labels left of the plot (values, or categories of a horizontal bar chart).
    pub y_ticks: Vec<Tick>,
    /// Gridlines at the x ticks (across value axes; category axes have none).
    pub x_grid: bool,
    /// Gridlines at the y ticks.
    pub y_grid: bool,
    /// The top of the x tick labels.
    pub x_tick_y: Px,
    /// The right end of the y tick labels.
    pub y_tick_x: Px,
    pub x_title: Text,
    pub y_title: Text,
    /// Where the value zero is on the value axis (a height; across, for horizontal bars): bars
    /// start there.
    pub zero: Px,
    /// The axis lines: the value axis through zero, the category or x axis at the plot's edge.
    pub axes: Vec<Seg>,
    pub lines: Vec<Line>,
    pub bars: Vec<Bar>,
    pub markers: Vec<Marker>,
    pub legend: Vec<LegendEntry>,
    pub table: Option<DataTable>,
}

impl Chart {
    /// A chart over named categories (fields, provinces, exchanges), in the order given.
    pub fn categories<S: Into<String>>(
        lang: Lang,
        id: &str,
        labels: impl IntoIterator<Item = S>,
        unit: Unit,
    ) -> Builder<Categories> {
        let cats = labels
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let l = l.into();
                Category {
                    full: l.clone(),
                    label: l,
                    sub: String::new(),
                    key: i as i64,
                }
            })
            .collect();
        Builder::new(lang, id, unit, Categories::new(cats, &[1]))
    }

    /// A chart over months `(year, month)`: `3月` / `Mar`, with the year beneath the first month
    /// and each January. Crowded months are thinned to every 2nd, 3rd, 4th, 6th or 12th, so
    /// January always keeps its label.
    pub fn months(lang: Lang, id: &str, months: &[(i32, u32)], unit: Unit) -> Builder<Categories> {
        let cats = months
            .iter()
            .enumerate()
            .map(|(i, &(y, m))| Category {
                label: label::month(lang, (y, m)),
                sub: if i == 0 || m == 1 {
                    label::year(lang, y)
                } else {
                    String::new()
                },
                full: label::month_full(lang, (y, m)),
                key: i64::from(y) * 12 + i64::from(m) - 1,
            })
            .collect();
        Builder::new(lang, id, unit, Categories::new(cats, &[1, 2, 3, 4, 6, 12]))
    }

    /// A chart over a continuous x from `lo` to `hi` (in `x_unit`), ticks at nice steps.
    pub fn linear_x(
        lang: Lang,
        id: &str,
        x_unit: Unit,
        lo: i64,
        hi: i64,
        unit: Unit,
    ) -> Builder<Continuous> {
        Builder::new(lang, id, unit, Continuous::new(x_unit, lo, hi, false))
    }

    /// A chart over a continuous x on a log scale from `lo` to `hi` (both positive), ticks at the
    /// powers of ten: amounts from 1万元 to 10亿元, say.
    pub fn log_x(
        lang: Lang,
        id: &str,
        x_unit: Unit,
        lo: i64,
        hi: i64,
        unit: Unit,
    ) -> Builder<Continuous> {
        Builder::new(
            lang,
            id,
            unit,
            Continuous::new(x_unit, lo.max(1), hi.max(1), true),
        )
    }
}

/// `n + 1` values from `lo` to `hi` evenly spaced on a log scale, for drawing a function of an
/// amount (a fee rate, say) on a [`Chart::log_x`] chart.
pub fn log_samples(lo: i64, hi: i64, n: usize) -> Vec<i64> {
    let (a, b) = ((lo.max(1) as f64).log10(), (hi.max(1) as f64).log10());
    let n = n.max(1);
    (0..=n)
        .map(|i| 10f64.powf(a + (b - a) * i as f64 / n as f64).round() as i64)
        .collect()
}

/// What every chart has: who it is for, its titles, its value unit.
struct Frame {
    lang: Lang,
    id: String,
    class: String,
    title: String,
    desc: String,
    x_title: String,
    y_title: String,
    unit: Unit,
    plot_height: f64,
}

/// A chart being described; `build` lays it out.
pub struct Builder<X> {
    frame: Frame,
    x: X,
}

/// The x axis of a category chart, and its series.
pub struct Categories {
    cats: Vec<Category>,
    /// Label every k-th category, k from these (then their multiples).
    strides: Vec<i64>,
    series: Vec<CategorySeries>,
    horizontal: bool,
}

impl Categories {
    fn new(cats: Vec<Category>, strides: &[i64]) -> Self {
        Categories {
            cats,
            strides: strides.to_vec(),
            series: Vec::new(),
            horizontal: false,
        }
    }
}

struct Category {
    label: String,
    /// A second line (the year beneath a month).
    sub: String,
    /// In the table and tooltips.
    full: String,
    /// Which categories are labelled when not all fit: those whose key is a multiple of a stride.
    key: i64,
}

struct CategorySeries {
    label: String,
    look: Look,
    bars: bool,
    values: Vec<i64>,
}

/// A continuous x axis, and its series and markers.
pub struct Continuous {
    unit: Unit,
    lo: i64,
    hi: i64,
    log: bool,
    series: Vec<XySeries>,
    markers: Vec<(i64, String)>,
}

impl Continuous {
    fn new(unit: Unit, lo: i64, hi: i64, log: bool) -> Self {
        Continuous {
            unit,
            lo: lo.min(hi),
            hi: hi.max(lo),
            log,
            series: Vec::new(),
            markers: Vec::new(),
        }
    }
}

struct XySeries {
    label: String,
    look: Look,
    step: bool,
    points: Vec<(i64, i64)>,
}

impl<X> Builder<X> {
    fn new(lang: Lang, id: &str, unit: Unit, x: X) -> Self {
        Builder {
            frame: Frame {
                lang,
                id: id.to_string(),
                class: String::new(),
                title: String::new(),
                desc: String::new(),
                x_title: String::new(),
                y_title: String::new(),
                unit,
                plot_height: PLOT_HEIGHT,
            },
            x,
        }
    }

    /// The title and description screen readers announce (`<title>`, `<desc>`); the title is
    /// also the caption of the data table.
    pub fn titles(mut self, title: impl Into<String>, desc: impl Into<String>) -> Self {
        self.frame.title = title.into();
        self.frame.desc = desc.into();
        self
    }

    /// The axes' titles: the x axis's (or the categories') and the values'. The values' title
    /// stands above the plot, where a phone has room for it.
    pub fn axis_titles(mut self, x: impl Into<String>, values: impl Into<String>) -> Self {
        self.frame.x_title = x.into();
        self.frame.y_title = values.into();
        self
    }

    /// Extra classes for the `<svg>` (for a page's stylesheet and tests).
    pub fn class(mut self, class: impl Into<String>) -> Self {
        self.frame.class = class.into();
        self
    }

    /// The plot's height in chart units (default [`PLOT_HEIGHT`]; horizontal bar charts take the
    /// height their categories need).
    pub fn plot_height(mut self, h: f64) -> Self {
        self.frame.plot_height = h.clamp(80.0, 1200.0);
        self
    }
}

impl Builder<Categories> {
    /// A line through one value per category (values beyond the categories are left out). Lines
    /// are drawn on vertical charts only.
    pub fn line(mut self, label: impl Into<String>, look: Look, values: &[i64]) -> Self {
        self.x.series.push(CategorySeries {
            label: label.into(),
            look,
            bars: false,
            values: values.to_vec(),
        });
        self
    }

    /// Bars, one per category; several `bars` series stand side by side in each category.
    pub fn bars(mut self, label: impl Into<String>, look: Look, values: &[i64]) -> Self {
        self.x.series.push(CategorySeries {
            label: label.into(),
            look,
            bars: true,
            values: values.to_vec(),
        });
        self
    }

    /// The categories' names in full, for the table beneath the chart and the tooltips, when the
    /// chart itself shows short ones (a phone has room for about 12 Chinese characters or 20 Latin
    /// letters beside a horizontal bar). Names beyond the categories are left out.
    pub fn full_labels<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        for (c, n) in self.x.cats.iter_mut().zip(names) {
            c.full = n.into();
        }
        self
    }

    /// Bars from left to right, categories from top to bottom, every name shown in full: for
    /// names too long to stand side by side on a phone.
    pub fn horizontal(mut self) -> Self {
        self.x.horizontal = true;
        self
    }

    pub fn build(self) -> Chart {
        if self.x.horizontal {
            layout::horizontal(self.frame, self.x)
        } else {
            layout::vertical(self.frame, self.x)
        }
    }
}

impl Builder<Continuous> {
    /// A line through `(x, y)` points (sorted by x here; points outside the x range are left out).
    pub fn line_xy(
        mut self,
        label: impl Into<String>,
        look: Look,
        points: Vec<(i64, i64)>,
    ) -> Self {
        self.x.series.push(XySeries {
            label: label.into(),
            look,
            step: false,
            points,
        });
        self
    }

    /// A step line: each `(x, y)` holds `y` from `x` to the next point (the last to the axis end).
    pub fn step_xy(
        mut self,
        label: impl Into<String>,
        look: Look,
        points: Vec<(i64, i64)>,
    ) -> Self {
        self.x.series.push(XySeries {
            label: label.into(),
            look,
            step: true,
            points,
        });
        self
    }

    /// A labelled vertical rule at `x` (left out when `x` is outside the axis).
    pub fn marker(mut self, x: i64, label: impl Into<String>) -> Self {
        self.x.markers.push((x, label.into()));
        self
    }

    pub fn build(self) -> Chart {
        layout::continuous(self.frame, self.x)
    }
}

#[cfg(test)]
mod tests;
