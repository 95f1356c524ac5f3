#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

const WAN: i64 = 1_000_000;
const YI: i64 = 10_000 * WAN;

fn inside(c: &Chart, x: Px, y: Px) -> bool {
    let eps = 1e-6;
    x.0 >= c.plot.x.0 - eps
        && x.0 <= c.plot.right.0 + eps
        && y.0 >= c.plot.y.0 - eps
        && y.0 <= c.plot.bottom.0 + eps
}

/// The chart's texts at the narrow font must fit across it.
fn legend_fits(c: &Chart) -> bool {
    c.legend
        .iter()
        .all(|e| e.text_x.0 + scale::text_em(&e.label) * NARROW_FONT <= f64::from(c.width))
}

#[test]
fn a_grouped_bar_chart_puts_each_series_side_by_side_in_its_category() {
    let c = Chart::categories(Lang::Zh, "t", ["集成电路", "新能源", "农业"], Unit::Count)
        .titles("按领域成交笔数", "desc")
        .axis_titles("技术领域", "笔数")
        .bars("2026", Look::nth(0), &[12, 7, 3])
        .bars("2027", Look::nth(1), &[15, 9, 0])
        .build();
    assert_eq!(c.bars.len(), 6);
    // Series one, then two; within a category the second stands right of the first.
    let (a, b) = (&c.bars[0], &c.bars[3]);
    assert!(a.x.0 + a.w.0 <= b.x.0 + 1e-9, "{a:?} {b:?}");
    // Heights in proportion to the values, from zero, on an axis 0 … 15 in steps of 3 (at most six
    // intervals fit the plot's height 1.5 em apart).
    assert_eq!(c.y_ticks.first().map(|t| t.label.as_str()), Some("0"));
    assert_eq!(c.y_ticks.last().map(|t| t.label.as_str()), Some("15"));
    let per_unit = c.plot.h.0 / 15.0;
    assert!((c.bars[3].h.0 - 15.0 * per_unit).abs() < 1e-6);
    assert!((c.bars[0].y.0 + c.bars[0].h.0 - c.zero.0).abs() < 1e-6);
    assert_eq!(c.bars[5].h, Px(0.0), "zero is no bar");
    assert_eq!(c.bars[1].tip, "2026 · 新能源: 7");
    for bar in &c.bars {
        assert!(
            inside(&c, bar.x, bar.y) && inside(&c, Px(bar.x.0 + bar.w.0), Px(bar.y.0 + bar.h.0))
        );
    }
    // Boxes in the legend; the numbers in a table.
    assert!(c.legend.iter().all(|e| e.bar));
    let t = c.table.as_ref().unwrap();
    assert_eq!(t.head, ["技术领域", "2026", "2027"]);
    assert_eq!(t.rows[0].label, "集成电路");
    assert_eq!(t.rows[0].cells, ["12", "15"]);
    assert!(c.lines.is_empty() && c.markers.is_empty() && !c.x_grid);
}

#[test]
fn a_month_line_chart_reads_months_with_the_year_beneath_the_first_and_january() {
    let months = [(2026, 11), (2026, 12), (2027, 1), (2027, 2)];
    let c = Chart::months(Lang::En, "m", &months, Unit::Fen)
        .titles("Turnover", "desc")
        .line("Sichuan", Look::nth(0), &[350 * WAN, 120 * WAN, 0, 2 * YI])
        .build();
    let labels: Vec<(&str, &str)> = c
        .x_ticks
        .iter()
        .map(|t| (t.label.as_str(), t.sub.as_str()))
        .collect();
    assert_eq!(
        labels,
        [("Nov", "2026"), ("Dec", ""), ("Jan", "2027"), ("Feb", "")]
    );
    // One point per month at the centres of equal bands.
    let l = &c.lines[0];
    assert_eq!(l.coords.len(), 4);
    let band = c.plot.w.0 / 4.0;
    assert!((l.coords[1].0 .0 - l.coords[0].0 .0 - band).abs() < 1e-9);
    assert_eq!(l.coords[2].1, c.zero);
    assert_eq!(c.y_ticks.last().map(|t| t.label.as_str()), Some("¥200M"));
    // One series: no legend; the table in full amounts.
    assert!(c.legend.is_empty());
    let t = c.table.unwrap();
    assert_eq!(t.rows[0].label, "Nov 2026");
    assert_eq!(t.rows[0].cells, ["¥3,500,000.00"]);
    assert!(l
        .points()
        .starts_with(&format!("{},{}", l.coords[0].0, l.coords[0].1)));
}

#[test]
fn a_log_chart_has_a_tick_per_decade_markers_within_range_and_step_lines() {
    let c = Chart::log_x(Lang::Zh, "f", Unit::Fen, WAN, 10 * YI, Unit::Ppm)
        .titles("有效费率", "desc")
        .axis_titles("成交金额", "费率")
        .line_xy(
            "a",
            Look::nth(0),
            vec![(WAN, 30_000), (10 * YI, 1_000), (1, 99_999_999)],
        )
        .step_xy("b", Look::nth(1), vec![(100 * WAN, 10_000), (WAN, 15_000)])
        .marker(350 * WAN, "350万元")
        .marker(1, "too small")
        .build();
    let labels: Vec<&str> = c.x_ticks.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["1万", "10万", "100万", "1000万", "1亿", "10亿"]);
    assert!(c.x_ticks.iter().all(|t| !t.minor), "six labels fit a phone");
    assert!((c.x_ticks[0].pos.0 - c.plot.x.0).abs() < 1e-9);
    assert!((c.x_ticks[5].pos.0 - c.plot.right.0).abs() < 1e-9);
    // The point outside the axis is left out (it would have stretched the y axis to 9999 %).
    assert_eq!(c.lines[0].coords.len(), 2);
    assert_eq!(c.y_ticks.last().map(|t| t.label.as_str()), Some("3%"));
    // The step line: sorted, each value held to the next point, the last to the axis end.
    let s = &c.lines[1];
    assert_eq!(s.coords.len(), 4);
    assert_eq!(s.coords[0].1, s.coords[1].1);
    assert_eq!(s.coords[1].0, s.coords[2].0);
    assert!((s.coords[3].0 .0 - c.plot.right.0).abs() < 1e-9);
    assert_eq!(c.markers.len(), 1);
    assert_eq!(
        c.markers[0].anchor, "end",
        "right of the middle: the label reads leftwards"
    );
    assert!(c.x_grid && c.table.is_none() && c.bars.is_empty());
    assert_eq!(c.legend.len(), 2);
    assert!(!c.legend[0].bar);
    assert!(legend_fits(&c));
}

/// A text's box at the narrow font, estimated as the layout does: (left, top, right, bottom).
fn text_box(x: f64, y: f64, anchor: &str, baseline: &str, text: &str) -> (f64, f64, f64, f64) {
    let w = scale::text_em(text) * NARROW_FONT;
    let left = match anchor {
        "start" => x,
        "end" => x - w,
        _ => x - w / 2.0,
    };
    let top = match baseline {
        "hanging" => y,
        "central" => y - 0.6 * NARROW_FONT,
        _ => y - 0.9 * NARROW_FONT,
    };
    let h = match baseline {
        "central" => 1.2 * NARROW_FONT,
        _ => 1.1 * NARROW_FONT,
    };
    (left, top, left + w, top + h)
}

fn meet(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

#[test]
fn the_corner_labels_and_the_values_title_never_meet() {
    let charts = [
        Chart::log_x(Lang::Zh, "f", Unit::Fen, WAN, 10 * YI, Unit::Ppm)
            .axis_titles("成交金额（元，对数刻度）", "每方有效费率")
            .line_xy("a", Look::nth(0), vec![(WAN, 50_000), (10 * YI, 1_000)])
            .build(),
        Chart::months(Lang::Zh, "m", &[(2026, 7), (2026, 8), (2026, 9)], Unit::Fen)
            .axis_titles("月份", "成交额（元）")
            .bars("四川", Look::nth(0), &[3 * YI, YI, 2 * YI])
            .build(),
        Chart::categories(Lang::Zh, "h", ["集成电路", "新能源"], Unit::Count)
            .axis_titles("技术领域", "成交笔数")
            .bars("笔数", Look::nth(0), &[12, 7])
            .horizontal()
            .build(),
    ];
    for c in &charts {
        let lowest = c
            .y_ticks
            .iter()
            .max_by(|a, b| a.pos.0.total_cmp(&b.pos.0))
            .unwrap();
        let highest = c
            .y_ticks
            .iter()
            .min_by(|a, b| a.pos.0.total_cmp(&b.pos.0))
            .unwrap();
        let y_box = |t: &Tick| text_box(c.y_tick_x.0, t.pos.0, "end", "central", &t.label);
        let title = text_box(
            c.y_title.x.0,
            c.y_title.y.0,
            "start",
            "auto",
            &c.y_title.text,
        );
        assert!(
            !meet(y_box(highest), title),
            "{}: top label and title",
            c.id
        );
        assert!(title.1 >= 0.0, "{}: the title fits above", c.id);
        for t in c.x_ticks.iter().filter(|t| !t.label.is_empty()) {
            let x = text_box(t.pos.0, c.x_tick_y.0, t.anchor, "hanging", &t.label);
            assert!(
                !meet(y_box(lowest), x),
                "{}: {} and {}",
                c.id,
                lowest.label,
                t.label
            );
            assert!(
                x.0 >= 0.0 && x.2 <= f64::from(c.width),
                "{}: {} inside",
                c.id,
                t.label
            );
        }
    }
    // The ends of a value axis read inwards.
    let first = &charts[0].x_ticks[0];
    let last = charts[0].x_ticks.last().unwrap();
    assert_eq!((first.anchor, last.anchor), ("start", "end"));
    assert!(charts[1].x_ticks.iter().all(|t| t.anchor == "middle"));
}

#[test]
fn a_linear_x_axis_ticks_at_nice_steps_inside_its_range() {
    let c = Chart::linear_x(Lang::En, "l", Unit::Count, 3, 97, Unit::Count)
        .line_xy("n", Look::nth(0), vec![(3, 1), (97, 2)])
        .build();
    let labels: Vec<&str> = c.x_ticks.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["20", "40", "60", "80"]);
}

#[test]
fn horizontal_bars_name_every_category_in_full() {
    let names = [
        "集成电路",
        "新能源汽车",
        "生物医药",
        "现代农业与食品",
        "新材料",
        "软件",
    ];
    let c = Chart::categories(Lang::Zh, "h", names, Unit::Fen)
        .titles("按领域成交额", "desc")
        .axis_titles("技术领域", "成交额（元）")
        .bars(
            "2026年",
            Look::nth(0),
            &[12 * YI, 7 * YI, 3 * YI, 9 * YI, 0, 11 * YI],
        )
        .bars(
            "2027年",
            Look::nth(1),
            &[15 * YI, 9 * YI, 4 * YI, 2 * YI, 8 * YI, -YI],
        )
        .line("不画", Look::nth(2), &[1, 2, 3, 4, 5, 6])
        .horizontal()
        .build();
    // Every name on the left, none thinned, all in the margin at the largest font.
    let labels: Vec<&str> = c.y_ticks.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, names);
    assert!(c.y_ticks.iter().all(|t| !t.minor));
    assert!(scale::text_em("现代农业与食品") * NARROW_FONT <= c.y_tick_x.0);
    // Values across, in ticks that fit a phone.
    assert!(c.x_grid && !c.y_grid);
    assert_eq!(c.x_ticks.first().map(|t| t.label.as_str()), Some("-5亿"));
    assert!(c.x_ticks.iter().all(|t| !t.minor), "{:?}", c.x_ticks);
    // Bars grow from zero to the right (left for a negative), the second series below the first.
    assert_eq!(c.bars.len(), 12);
    assert_eq!(c.bars[0].x, c.zero);
    assert!(c.bars[11].x.0 < c.zero.0);
    assert!(c.bars[6].y.0 > c.bars[0].y.0);
    for b in &c.bars {
        assert!(inside(&c, b.x, b.y) && inside(&c, Px(b.x.0 + b.w.0), Px(b.y.0 + b.h.0)));
    }
    // The titles trade places: the values' beneath, the categories' above.
    assert_eq!(c.x_title.text, "成交额（元）");
    assert_eq!(c.y_title.text, "技术领域");
    // Lines have no place across: neither drawn, in the legend, nor in the table.
    assert!(c.lines.is_empty());
    assert_eq!(c.legend.len(), 2);
    let t = c.table.unwrap();
    assert_eq!(t.head, ["技术领域", "2026年", "2027年"]);
    assert_eq!(t.rows[3].cells, ["9亿元", "2亿元"]);
}

#[test]
fn negative_values_hang_below_the_zero_line() {
    let c = Chart::categories(Lang::Zh, "d", ["甲", "乙"], Unit::Fen)
        .bars("差额", Look::nth(0), &[-30 * WAN, 45 * WAN])
        .build();
    assert!(c.zero.0 > c.plot.y.0 && c.zero.0 < c.plot.bottom.0);
    assert_eq!(
        c.bars[0].y, c.zero,
        "a negative bar starts at zero and goes down"
    );
    assert!(c.bars[1].y.0 < c.zero.0);
    assert_eq!(c.y_ticks.first().map(|t| t.label.as_str()), Some("-40万"));
}

#[test]
fn crowded_labels_are_thinned_for_phones_and_never_collide() {
    let months: Vec<(i32, u32)> = (0..24)
        .map(|i| (2026 + i / 12, (i % 12 + 1) as u32))
        .collect();
    let c = Chart::months(Lang::Zh, "m", &months, Unit::Count)
        .bars("笔数", Look::nth(0), &[1; 24])
        .build();
    let shown: Vec<&Tick> = c.x_ticks.iter().filter(|t| !t.minor).collect();
    assert!(shown.len() < 24 && shown.len() >= 4, "{}", shown.len());
    // The years stay on a phone.
    assert!(shown.iter().filter(|t| !t.sub.is_empty()).count() == 2);
    for w in shown.windows(2) {
        let width = |t: &Tick| scale::text_em(&t.label).max(scale::text_em(&t.sub)) * NARROW_FONT;
        assert!(w[1].pos.0 - w[0].pos.0 >= (width(w[0]) + width(w[1])) / 2.0);
    }
}

#[test]
fn an_empty_chart_still_has_an_axis() {
    let c = Chart::categories(Lang::En, "e", Vec::<String>::new(), Unit::Ppm).build();
    assert_eq!(c.y_ticks.len(), 2);
    assert!(c.height > 0 && c.bars.is_empty());
    let c = Chart::log_x(Lang::En, "e", Unit::Fen, 0, 0, Unit::Ppm).build();
    assert!(c.x_ticks.len() <= 1);
}

#[test]
fn the_stylesheet_uses_the_font_sizes_the_layout_leaves_room_for() {
    let css = include_str!("../../../../static/chart.css");
    assert!(css.contains(&format!("font-size: {MID_FONT}px")), "{css}");
    assert!(
        css.contains(&format!("font-size: {NARROW_FONT}px")),
        "{css}"
    );
}

#[test]
fn log_samples_run_from_end_to_end() {
    let s = log_samples(WAN, 10 * YI, 160);
    assert_eq!(s.len(), 161);
    assert_eq!(s[0], WAN);
    assert_eq!(s[160], 10 * YI);
    assert!(s.windows(2).all(|w| w[0] < w[1]));
}

proptest! {
    #[test]
    fn bars_points_and_legends_stay_inside_the_chart(
        values in proptest::collection::vec(-2_000_000_000_000i64..2_000_000_000_000, 1..30),
        series in 1usize..5,
        unit in prop_oneof![Just(Unit::Fen), Just(Unit::Ppm), Just(Unit::Count)],
        en in any::<bool>(),
    ) {
        let lang = if en { Lang::En } else { Lang::Zh };
        let cats: Vec<String> = (0..values.len()).map(|i| format!("类别{i}")).collect();
        let mut b = Chart::categories(lang, "p", cats, unit);
        for k in 0..series {
            let vs: Vec<i64> = values.iter().map(|v| v / (k as i64 + 1)).collect();
            b = if k % 2 == 0 { b.bars(format!("系列{k}"), Look::nth(k), &vs) } else { b.line(format!("系列{k}"), Look::nth(k), &vs) };
        }
        let c = b.build();
        for bar in &c.bars {
            prop_assert!(bar.h.0 >= 0.0 && bar.w.0 > 0.0);
            prop_assert!(inside(&c, bar.x, bar.y));
            prop_assert!(inside(&c, Px(bar.x.0 + bar.w.0), Px(bar.y.0 + bar.h.0)));
        }
        for l in &c.lines {
            prop_assert!(l.coords.iter().all(|&(x, y)| inside(&c, x, y)));
        }
        prop_assert!(legend_fits(&c));
        prop_assert!(c.legend.iter().all(|e| e.y.0 < f64::from(c.height)));
        prop_assert_eq!(c.x_ticks.len(), values.len());
        // The y ticks run from the bottom of the plot to its top, evenly.
        prop_assert!(c.y_ticks.len() >= 2 && c.y_ticks.len() <= 9);
        let first = c.y_ticks.first().map(|t| t.pos.0).unwrap_or_default();
        let last = c.y_ticks.last().map(|t| t.pos.0).unwrap_or_default();
        prop_assert!((first - c.plot.bottom.0).abs() < 1e-6 && (last - c.plot.y.0).abs() < 1e-6);
        // Every y label fits in the left margin at the narrow font.
        for t in &c.y_ticks {
            prop_assert!(scale::text_em(&t.label) * NARROW_FONT <= c.y_tick_x.0);
        }
    }
}

/// The chart drawn by its template, as a page would.
#[derive(askama::Template)]
#[template(
    source = r#"{% import "chart/svg.html" as chart %}<figure>{% call chart::svg(c) %}</figure>{% call chart::table(c) %}"#,
    ext = "html"
)]
struct Drawn<'a> {
    c: &'a Chart,
}

#[test]
fn the_template_draws_every_part_and_escapes_every_text() {
    use askama::Template;
    let evil = "<script>alert(1)</script> & \"x\"";
    let c = Chart::months(Lang::Zh, "t", &[(2026, 12), (2027, 1)], Unit::Count)
        .titles(evil, evil)
        .axis_titles(evil, evil)
        .bars(evil, Look::nth(0), &[3, 5])
        .line("趋势", Look::nth(1), &[3, 5])
        .class("extra")
        .build();
    let html = Drawn { c: &c }.render().unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&#60;script&#62;"), "{html}");
    let doc = scraper::Html::parse_fragment(&html);
    let count = |sel: &str| doc.select(&scraper::Selector::parse(sel).unwrap()).count();
    assert_eq!(count("svg.chart-svg.extra"), 1);
    assert_eq!(count("svg title#t-title"), 1);
    assert_eq!(count("svg .bars rect"), 2);
    assert_eq!(count("svg polyline"), 1);
    assert_eq!(count("svg .legend rect"), 1, "a box for the bars");
    assert_eq!(count("svg .legend line"), 1, "a line for the line");
    assert_eq!(count("svg .x-labels text"), 2);
    assert_eq!(count("svg .x-labels tspan"), 2, "both years");
    assert_eq!(count("svg .axis-label"), 2);
    assert_eq!(count("table.chart-table tbody tr"), 2);
    assert_eq!(count("table.chart-table thead th"), 3);
    assert_eq!(count("[style]"), 0, "no inline styles (CSP)");
    // A chart over a continuous axis brings no table.
    let c = Chart::log_x(
        Lang::En,
        "f",
        Unit::Fen,
        1_000_000,
        100_000_000_000,
        Unit::Ppm,
    )
    .line_xy("a", Look::nth(0), vec![(1_000_000, 1)])
    .marker(350_000_000, "¥3.5M")
    .build();
    let html = Drawn { c: &c }.render().unwrap();
    assert!(!html.contains("<table"));
    assert!(html.contains("class=\"marker\""));
}

// That no template marks text as safe HTML (a chart's included) is checked for every template by
// `tests/api/architecture.rs`, with the one allowed exception: the QR codes of `http::web::qr`.
