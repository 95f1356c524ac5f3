//! Laying a chart out: margins that fit the labels at the largest font, scales, ticks, bars,
//! lines, titles and the legend. Three shapes: bars and lines over categories (vertical),
//! bars over categories (horizontal), and lines over a continuous x.
use super::scale::{decades, nice_range, text_em, thin, NiceRange, Scale};
use super::{
    Bar, Categories, Chart, Continuous, DataRow, DataTable, Frame, LegendEntry, Line, Look, Marker,
    Px, Rect, Seg, Text, Tick, FONT, NARROW_FONT, WIDTH,
};

/// Space between a label and what it labels, in chart units.
const GAP: f64 = 8.0;
/// Line height, in ems.
const LEADING: f64 = 1.25;
/// The side of a legend's box (`templates/chart/svg.html` draws it 16 × 16).
const BOX: f64 = 16.0;
/// The length of a legend's line.
const SWATCH: f64 = 32.0;
/// Where the values' title stands above the plot (its baseline): clear of the top tick's label,
/// which is centred on the plot's top edge.
const Y_TITLE_ABOVE: f64 = NARROW_FONT * 0.9 + GAP / 2.0;
/// Where the plot starts: room for the values' title.
const TOP: f64 = Y_TITLE_ABOVE + NARROW_FONT + GAP;
/// Where category labels start beneath the plot: below the lowest value label, which is centred
/// on the plot's bottom edge and reaches 0.6 em below it.
const BELOW_VALUES: f64 = NARROW_FONT * 0.6 + GAP / 2.0;

/// Bars and lines over categories, bars upwards.
pub(super) fn vertical(frame: Frame, x: Categories) -> Chart {
    let n = x.cats.len().max(1);
    let values = x
        .series
        .iter()
        .flat_map(|s| s.values.iter().take(n).copied());
    let plot_h = frame.plot_height;
    let (range, labels) = value_range(&frame, values, max_intervals(plot_h));
    let left = (widest(&labels) * NARROW_FONT + 2.0 * GAP).max(40.0);
    let plot = rect(left, TOP, WIDTH - 2.0 * GAP - left, plot_h);
    let ys = Scale::linear(range.lo, range.hi, plot.bottom.0, plot.y.0);
    let y_ticks = value_ticks(&range, labels, |v| ys.px(v));
    let band = plot.w.0 / n as f64;
    let centre = |i: usize| plot.x.0 + band * (i as f64 + 0.5);
    let centres: Vec<f64> = (0..x.cats.len()).map(centre).collect();
    let x_ticks = axis_ticks(&x, &centres, plot.x.0);
    let zero = ys.px(0);
    let bar_series: Vec<_> = x.series.iter().filter(|s| s.bars).collect();
    let group = band * 0.8;
    let bar_w = group / bar_series.len().max(1) as f64;
    let mut bars = Vec::new();
    for (k, s) in bar_series.iter().enumerate() {
        for (i, (&v, c)) in s.values.iter().zip(&x.cats).enumerate() {
            let y = ys.px(v);
            bars.push(Bar {
                x: Px(centre(i) - group / 2.0 + bar_w * k as f64 + 0.5),
                y: Px(y.min(zero)),
                w: Px((bar_w - 1.0).max(0.5)),
                h: Px((y - zero).abs()),
                look: s.look,
                tip: format!(
                    "{} · {}: {}",
                    s.label,
                    c.full,
                    frame.unit.full(frame.lang, v)
                ),
            });
        }
    }
    let lines = x
        .series
        .iter()
        .filter(|s| !s.bars)
        .map(|s| Line {
            label: s.label.clone(),
            look: s.look,
            coords: s
                .values
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, &v)| (Px(centre(i)), Px(ys.px(v))))
                .collect(),
        })
        .collect();
    let rows = if x.cats.iter().any(|c| !c.sub.is_empty()) {
        2.0
    } else {
        1.0
    };
    let body = Body {
        axes: vec![
            hline(plot.x, plot.right, Px(zero)),
            vline(plot.x, plot.y, plot.bottom),
        ],
        zero: Px(zero),
        x_ticks,
        y_ticks,
        x_grid: false,
        y_grid: true,
        x_label_rows: rows,
        x_tick_gap: BELOW_VALUES,
        lines,
        bars,
        markers: Vec::new(),
        legend: legend_of(&x),
        table: Some(table_of(&frame, &x)),
        plot,
    };
    finish(frame, body)
}

/// Bars over categories from left to right, every category named in full on the left.
pub(super) fn horizontal(frame: Frame, x: Categories) -> Chart {
    let n = x.cats.len().max(1);
    let bar_series: Vec<_> = x.series.iter().filter(|s| s.bars).collect();
    let k = bar_series.len().max(1);
    // A band holds the category's name at the largest font, and each bar at least 14 units thick.
    let band = (NARROW_FONT * 1.5).max(14.0 * k as f64 + 10.0);
    let names: Vec<&str> = x.cats.iter().map(|c| c.label.as_str()).collect();
    let left = (names.iter().map(|l| text_em(l)).fold(0.0, f64::max) * NARROW_FONT + 2.0 * GAP)
        .clamp(40.0, WIDTH / 2.0);
    let values = bar_series
        .iter()
        .flat_map(|s| s.values.iter().take(n).copied());
    // As many value ticks as fit across at the largest font.
    let (lo, hi) = values.fold((0i64, 0i64), |(a, b), v| (a.min(v), b.max(v)));
    let mut choice = None;
    for intervals in (2..=8).rev() {
        let (range, labels) = value_range(&frame, [lo, hi].into_iter(), intervals);
        let right = WIDTH - 2.0 * GAP;
        let per_tick = (right - left) / ((range.hi - range.lo) / range.step.max(1)).max(1) as f64;
        let fits = widest(&labels) * NARROW_FONT + NARROW_FONT / 2.0 <= per_tick;
        if fits || intervals == 2 || choice.is_none() {
            choice = Some((range, labels, right));
        }
        if fits {
            break;
        }
    }
    let Some((range, labels, right)) = choice else {
        return vertical(frame, x);
    };
    let plot = rect(left, TOP, right - left, band * n as f64);
    let xs = Scale::linear(range.lo, range.hi, plot.x.0, plot.right.0);
    let ticks = range.ticks();
    let positions: Vec<f64> = ticks.iter().map(|&v| xs.px(v)).collect();
    let keys: Vec<i64> = (0..ticks.len() as i64).collect();
    let pairs: Vec<(String, String)> = labels.into_iter().map(|l| (l, String::new())).collect();
    let x_ticks = thinned(
        &pairs,
        &positions,
        &edge_anchors(&positions, &plot),
        &keys,
        &[1],
        false,
    );
    let y_ticks = x
        .cats
        .iter()
        .enumerate()
        .map(|(i, c)| Tick {
            pos: Px(plot.y.0 + band * (i as f64 + 0.5)),
            anchor: "end",
            label: c.label.clone(),
            sub: String::new(),
            minor: false,
        })
        .collect();
    let zero = xs.px(0);
    let group = band * 0.7;
    let bar_h = group / k as f64;
    let mut bars = Vec::new();
    for (j, s) in bar_series.iter().enumerate() {
        for (i, (&v, c)) in s.values.iter().zip(&x.cats).enumerate() {
            let end = xs.px(v);
            bars.push(Bar {
                x: Px(end.min(zero)),
                y: Px(plot.y.0 + band * i as f64 + (band - group) / 2.0 + bar_h * j as f64 + 0.5),
                w: Px((end - zero).abs()),
                h: Px((bar_h - 1.0).max(0.5)),
                look: s.look,
                tip: format!(
                    "{} · {}: {}",
                    s.label,
                    c.full,
                    frame.unit.full(frame.lang, v)
                ),
            });
        }
    }
    let table = table_of(&frame, &x);
    let mut frame = frame;
    // The values run across: their title goes beneath, the categories' above.
    std::mem::swap(&mut frame.x_title, &mut frame.y_title);
    let body = Body {
        axes: vec![
            vline(Px(zero), plot.y, plot.bottom),
            hline(plot.x, plot.right, plot.bottom),
        ],
        zero: Px(zero),
        x_ticks,
        y_ticks,
        x_grid: true,
        y_grid: false,
        x_label_rows: 1.0,
        x_tick_gap: GAP,
        lines: Vec::new(),
        bars,
        markers: Vec::new(),
        legend: legend_of(&x),
        table: Some(table),
        plot,
    };
    finish(frame, body)
}

/// Lines and steps over a continuous x, with markers.
pub(super) fn continuous(frame: Frame, mut x: Continuous) -> Chart {
    let (lo, hi) = (x.lo, x.hi);
    for s in &mut x.series {
        s.points.retain(|&(px, _)| px >= lo && px <= hi);
        s.points.sort_by_key(|&(px, _)| px);
    }
    let values = x
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(_, y)| y));
    let plot_h = frame.plot_height;
    let (range, labels) = value_range(&frame, values, max_intervals(plot_h));
    let left = (widest(&labels) * NARROW_FONT + 2.0 * GAP).max(40.0);
    let tick_values: Vec<i64> = if x.log {
        decades(lo, hi)
    } else {
        let step = nice_range(0, hi.saturating_sub(lo), 8, x.unit.min_step()).step;
        let first = (lo.div_euclid(step) * step).saturating_add(if lo.rem_euclid(step) == 0 {
            0
        } else {
            step
        });
        (0..)
            .map_while(|k: i64| {
                let v = first.checked_add(k.checked_mul(step)?)?;
                (v <= hi).then_some(v)
            })
            .collect()
    };
    let pairs: Vec<(String, String)> = tick_values
        .iter()
        .map(|&v| (x.unit.tick(frame.lang, v), String::new()))
        .collect();
    let plot = rect(left, TOP, WIDTH - 2.0 * GAP - left, plot_h);
    let ys = Scale::linear(range.lo, range.hi, plot.bottom.0, plot.y.0);
    let xs = if x.log {
        Scale::log(lo, hi, plot.x.0, plot.right.0)
    } else {
        Scale::linear(lo, hi, plot.x.0, plot.right.0)
    };
    let positions: Vec<f64> = tick_values.iter().map(|&v| xs.px(v)).collect();
    let keys: Vec<i64> = (0..tick_values.len() as i64).collect();
    let x_ticks = thinned(
        &pairs,
        &positions,
        &edge_anchors(&positions, &plot),
        &keys,
        &[1],
        false,
    );
    let y_ticks = value_ticks(&range, labels, |v| ys.px(v));
    let lines = x
        .series
        .iter()
        .map(|s| {
            let mut coords = Vec::with_capacity(s.points.len() * if s.step { 2 } else { 1 });
            for (i, &(px, py)) in s.points.iter().enumerate() {
                let y = Px(ys.px(py));
                coords.push((Px(xs.px(px)), y));
                if s.step {
                    let next = s.points.get(i + 1).map(|p| p.0).unwrap_or(hi);
                    coords.push((Px(xs.px(next)), y));
                }
            }
            Line {
                label: s.label.clone(),
                look: s.look,
                coords,
            }
        })
        .collect();
    let mid = (plot.x.0 + plot.right.0) / 2.0;
    let markers = x
        .markers
        .iter()
        .filter(|(v, _)| *v >= lo && *v <= hi)
        .map(|(v, label)| {
            let px = xs.px(*v);
            let (anchor, dx) = if px > mid { ("end", -4) } else { ("start", 4) };
            Marker {
                x: Px(px),
                label: label.clone(),
                anchor,
                dx,
                label_y: Px(plot.y.0 + 4.0),
            }
        })
        .collect();
    let zero = ys.px(0);
    let body = Body {
        axes: vec![
            hline(plot.x, plot.right, Px(zero)),
            vline(plot.x, plot.y, plot.bottom),
        ],
        zero: Px(zero),
        x_ticks,
        y_ticks,
        x_grid: true,
        y_grid: true,
        x_label_rows: 1.0,
        x_tick_gap: GAP,
        lines,
        bars: Vec::new(),
        markers,
        legend: x
            .series
            .iter()
            .map(|s| (s.label.clone(), s.look, false))
            .collect(),
        table: None,
        plot,
    };
    finish(frame, body)
}

/// What a shape drew, for [`finish`] to frame with titles and a legend.
struct Body {
    plot: Rect,
    axes: Vec<Seg>,
    zero: Px,
    x_ticks: Vec<Tick>,
    y_ticks: Vec<Tick>,
    x_grid: bool,
    y_grid: bool,
    x_label_rows: f64,
    /// From the plot's bottom to the top of the x labels.
    x_tick_gap: f64,
    lines: Vec<Line>,
    bars: Vec<Bar>,
    markers: Vec<Marker>,
    /// Label, look, and whether the swatch is a box (bars) rather than a line.
    legend: Vec<(String, Look, bool)>,
    table: Option<DataTable>,
}

/// The titles, and the legend under everything in as many columns as the widest entry allows at
/// the largest font: it never covers a line and never runs off a phone's screen.
fn finish(frame: Frame, body: Body) -> Chart {
    let line_h = NARROW_FONT * LEADING;
    let x_tick_y = body.plot.bottom.0 + body.x_tick_gap;
    let mut bottom = x_tick_y + body.x_label_rows * line_h;
    let x_title = if frame.x_title.is_empty() {
        Text::default()
    } else {
        let t = Text {
            x: Px((body.plot.x.0 + body.plot.right.0) / 2.0),
            y: Px(bottom + GAP),
            text: frame.x_title.clone(),
        };
        bottom += GAP + line_h;
        t
    };
    let y_title = Text {
        x: Px(2.0 * GAP),
        y: Px(body.plot.y.0 - Y_TITLE_ABOVE),
        text: frame.y_title.clone(),
    };
    let mut legend = Vec::new();
    if body.legend.len() > 1 {
        let widest = body
            .legend
            .iter()
            .map(|(l, _, _)| SWATCH + GAP + text_em(l) * NARROW_FONT)
            .fold(0.0, f64::max);
        let col = widest + 3.0 * GAP;
        let cols = ((WIDTH - 4.0 * GAP + 3.0 * GAP) / col).floor().max(1.0) as usize;
        let row_h = NARROW_FONT * 1.4;
        bottom += GAP;
        for (i, (label, look, bar)) in body.legend.iter().enumerate() {
            let x = 2.0 * GAP + col * (i % cols) as f64;
            let y = bottom + row_h * ((i / cols) as f64 + 0.5);
            legend.push(LegendEntry {
                label: label.clone(),
                look: *look,
                bar: *bar,
                x: Px(x),
                x2: Px(x + SWATCH),
                y: Px(y),
                box_y: Px(y - BOX / 2.0),
                text_x: Px(x + SWATCH + GAP),
            });
        }
        bottom += row_h * body.legend.len().div_ceil(cols) as f64;
    }
    Chart {
        id: frame.id,
        class: frame.class,
        title: frame.title,
        desc: frame.desc,
        font: FONT,
        width: WIDTH as i32,
        height: (bottom + GAP).ceil() as i32,
        plot: body.plot,
        x_ticks: body.x_ticks,
        y_ticks: body.y_ticks,
        x_grid: body.x_grid,
        y_grid: body.y_grid,
        x_tick_y: Px(x_tick_y),
        y_tick_x: Px(body.plot.x.0 - GAP),
        x_title,
        y_title,
        zero: body.zero,
        axes: body.axes,
        lines: body.lines,
        bars: body.bars,
        markers: body.markers,
        legend,
        table: body.table,
    }
}

fn rect(x: f64, y: f64, w: f64, h: f64) -> Rect {
    let w = w.max(1.0);
    Rect {
        x: Px(x),
        y: Px(y),
        w: Px(w),
        h: Px(h),
        right: Px(x + w),
        bottom: Px(y + h),
    }
}

fn hline(x1: Px, x2: Px, y: Px) -> Seg {
    Seg {
        x1,
        y1: y,
        x2,
        y2: y,
    }
}

fn vline(x: Px, y1: Px, y2: Px) -> Seg {
    Seg {
        x1: x,
        y1,
        x2: x,
        y2,
    }
}

/// As many value ticks as the plot's height has room for at the largest font, at most eight.
/// A tick label's box is its font's ascent plus descent, about 1.45 em for the CJK fonts browsers
/// pick here (Noto Sans CJK), so ticks stand 1.5 em apart: at 1.25 em, eight intervals on a
/// 280-unit plot made neighbouring labels overlap at 390 px (seen when the data's top was 8000万).
fn max_intervals(plot_h: f64) -> i64 {
    ((plot_h / (NARROW_FONT * TICK_SPACING)).floor() as i64).clamp(2, 8)
}

/// The least distance between two value ticks, in ems of the largest font.
const TICK_SPACING: f64 = 1.5;

/// The nice range of the values (and zero), with its tick labels.
fn value_range(
    frame: &Frame,
    values: impl Iterator<Item = i64>,
    max_intervals: i64,
) -> (NiceRange, Vec<String>) {
    let (lo, hi) = values.fold((0i64, 0i64), |(a, b), v| (a.min(v), b.max(v)));
    let range = nice_range(lo, hi, max_intervals, frame.unit.min_step());
    let labels = range
        .ticks()
        .iter()
        .map(|&v| frame.unit.tick(frame.lang, v))
        .collect();
    (range, labels)
}

fn value_ticks(range: &NiceRange, labels: Vec<String>, pos: impl Fn(i64) -> f64) -> Vec<Tick> {
    range
        .ticks()
        .iter()
        .zip(labels)
        .map(|(&v, label)| Tick {
            pos: Px(pos(v)),
            anchor: "end",
            label,
            sub: String::new(),
            minor: false,
        })
        .collect()
}

/// The widest of `labels`, in ems.
fn widest(labels: &[String]) -> f64 {
    labels.iter().map(|l| text_em(l)).fold(0.0, f64::max)
}

/// The category labels beneath a vertical chart. A label that would reach left of the plot at the
/// largest font (the first month with its year, in a narrow band) reads inwards from its tick
/// instead, clear of the value labels at the corner.
fn axis_ticks(x: &Categories, centres: &[f64], left: f64) -> Vec<Tick> {
    let pairs: Vec<(String, String)> = x
        .cats
        .iter()
        .map(|c| (c.label.clone(), c.sub.clone()))
        .collect();
    let keys: Vec<i64> = x.cats.iter().map(|c| c.key).collect();
    let keep_first = x.cats.first().is_some_and(|c| !c.sub.is_empty());
    let anchors: Vec<&'static str> = x
        .cats
        .iter()
        .zip(centres)
        .map(|(c, &p)| {
            let w = text_em(&c.label).max(text_em(&c.sub)) * NARROW_FONT;
            if p - w / 2.0 < left {
                "start"
            } else {
                "middle"
            }
        })
        .collect();
    thinned(&pairs, centres, &anchors, &keys, &x.strides, keep_first)
}

/// Labels on a value axis are centred on their ticks, but the ones at the plot's ends read
/// inwards: the first clears the labels of the other axis at the corner, the last needs no
/// margin beyond the plot.
fn edge_anchors(positions: &[f64], plot: &Rect) -> Vec<&'static str> {
    positions
        .iter()
        .map(|&p| {
            if (p - plot.x.0).abs() < 0.5 {
                "start"
            } else if (p - plot.right.0).abs() < 0.5 {
                "end"
            } else {
                "middle"
            }
        })
        .collect()
}

/// Labels (with their second lines) at `positions`: those that would collide at the wide font are
/// left blank, those that would at the narrow font are `minor` (hidden on phones). What a phone
/// shows is a subset of what a wide screen shows, at a stride that is a multiple of it.
fn thinned(
    labels: &[(String, String)],
    positions: &[f64],
    anchors: &[&'static str],
    keys: &[i64],
    strides: &[i64],
    keep_first: bool,
) -> Vec<Tick> {
    // The span a label covers, as its centre and width.
    let at = |font: f64| -> Vec<(f64, f64)> {
        labels
            .iter()
            .zip(positions)
            .zip(anchors)
            .map(|(((l, s), &p), &a)| {
                let w = text_em(l).max(text_em(s)) * font;
                let centre = match a {
                    "start" => p + w / 2.0,
                    "end" => p - w / 2.0,
                    _ => p,
                };
                (centre, w)
            })
            .collect()
    };
    let (wide, k) = thin(&at(FONT), keys, strides, 1, keep_first, FONT / 2.0);
    let first_wide = wide.first().copied().unwrap_or(false);
    let (narrow, _) = thin(
        &at(NARROW_FONT),
        keys,
        strides,
        k,
        keep_first && first_wide,
        NARROW_FONT / 3.0,
    );
    labels
        .iter()
        .zip(positions)
        .enumerate()
        .map(|(i, ((l, s), &p))| {
            let shown = wide.get(i).copied().unwrap_or(false);
            Tick {
                pos: Px(p),
                anchor: anchors.get(i).copied().unwrap_or("middle"),
                label: if shown { l.clone() } else { String::new() },
                sub: if shown { s.clone() } else { String::new() },
                minor: !(shown && narrow.get(i).copied().unwrap_or(false)),
            }
        })
        .collect()
}

/// The series a category chart draws: lines only on vertical ones.
fn drawn(x: &Categories) -> impl Iterator<Item = &super::CategorySeries> {
    x.series.iter().filter(|s| s.bars || !x.horizontal)
}

fn legend_of(x: &Categories) -> Vec<(String, Look, bool)> {
    drawn(x)
        .map(|s| (s.label.clone(), s.look, s.bars))
        .collect()
}

/// The numbers: a row per category, a column per series, each value in full.
fn table_of(frame: &Frame, x: &Categories) -> DataTable {
    DataTable {
        caption: frame.title.clone(),
        head: std::iter::once(frame.x_title.clone())
            .chain(drawn(x).map(|s| s.label.clone()))
            .collect(),
        rows: x
            .cats
            .iter()
            .enumerate()
            .map(|(i, c)| DataRow {
                label: c.full.clone(),
                cells: drawn(x)
                    .map(|s| {
                        s.values
                            .get(i)
                            .map(|&v| frame.unit.full(frame.lang, v))
                            .unwrap_or_default()
                    })
                    .collect(),
            })
            .collect(),
    }
}
