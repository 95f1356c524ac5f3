//! The fee pages' figure: the effective rate against the amount under each schedule (a chart of
//! [`crate::http::web::chart`]), with the table of example amounts that gives its numbers.
use crate::domain::fees::{effective_rate_ppm, legacy_chongqing, legacy_sichuan, FeeSchedule};
use crate::domain::money::{format_wan, format_yuan, FEN_PER_WAN, FEN_PER_YI};
use crate::http::web::chart::{log_samples, Chart, Look, Unit};
use crate::i18n::{self, Lang};
use crate::service::fees::ScheduleView;

/// The example amounts of every table: 1万 … 10亿 yuan.
pub(super) const EXAMPLE_AMOUNTS_FEN: [i64; 10] = [
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

/// The chart's x range, 1万元 to 10亿元, drawn through this many steps.
const X_FROM_FEN: i64 = FEN_PER_WAN;
const X_TO_FEN: i64 = 10 * FEN_PER_YI;
const SAMPLES: usize = 160;

/// How each schedule is drawn; the classes also colour the calculator's column heads (fees.css).
pub(super) const UNIFIED: Look = Look::new("series-unified", "#c8102e", "none");
pub(super) const SICHUAN: Look = Look::new("series-sichuan", "#0b3a75", "8 4");
pub(super) const CHONGQING: Look = Look::new("series-chongqing", "#1f7a3f", "2 3");
pub(super) const DRAFT: Look = Look::new("series-draft", "#a35c00", "12 4 2 4");

/// One schedule to plot and tabulate.
pub(super) struct Series {
    pub label: String,
    pub schedule: FeeSchedule,
    pub look: Look,
}

/// The schedule in force and the two legacy ones it replaced, as the public pages compare them.
pub(super) fn public_series(lang: Lang, current: &ScheduleView) -> Vec<Series> {
    vec![
        Series {
            label: i18n::t(lang, "fees.series.unified").to_string(),
            schedule: current.schedule(),
            look: UNIFIED,
        },
        Series {
            label: i18n::t(lang, "fees.series.sichuan").to_string(),
            schedule: legacy_sichuan(),
            look: SICHUAN,
        },
        Series {
            label: i18n::t(lang, "fees.series.chongqing").to_string(),
            schedule: legacy_chongqing(),
            look: CHONGQING,
        },
    ]
}

/// The average effective rate per side (buyer + seller fee over twice the amount), in ppm.
pub(super) fn rate_per_side_ppm(schedule: &FeeSchedule, amount_fen: i64) -> i64 {
    let q = schedule.quote(amount_fen);
    effective_rate_ppm(q.total_fee_fen, amount_fen.saturating_mul(2))
}

/// The effective rate against the amount on a log scale, one line per series, the amount typed
/// in marked.
pub(super) fn fee_chart(lang: Lang, series: &[Series], marker_fen: Option<i64>) -> Chart {
    let amounts = log_samples(X_FROM_FEN, X_TO_FEN, SAMPLES);
    let mut chart = Chart::log_x(
        lang,
        "fee-chart",
        Unit::Fen,
        X_FROM_FEN,
        X_TO_FEN,
        Unit::Ppm,
    )
    .titles(
        i18n::t(lang, "fees.chart.title"),
        i18n::t(lang, "fees.chart.desc"),
    )
    .axis_titles(
        i18n::t(lang, "fees.chart.x_label"),
        i18n::t(lang, "fees.chart.y_label"),
    )
    .class("fee-chart-svg")
    .plot_height(300.0);
    for s in series {
        let points = amounts
            .iter()
            .map(|&a| (a, rate_per_side_ppm(&s.schedule, a)))
            .collect();
        chart = chart.line_xy(s.label.clone(), s.look, points);
    }
    if let Some(fen) = marker_fen {
        let label = match lang {
            Lang::Zh => format_wan(fen),
            Lang::En => format_yuan(fen),
        };
        chart = chart.marker(fen, label);
    }
    chart.build()
}

pub(super) struct ExampleCell {
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub rate_ppm: i64,
}

pub(super) struct ExampleRow {
    pub amount_fen: i64,
    pub cells: Vec<ExampleCell>,
}

/// The numbers beneath the chart: each example amount under each series.
pub(super) struct Examples {
    pub labels: Vec<String>,
    pub rows: Vec<ExampleRow>,
}

pub(super) fn examples(series: &[Series]) -> Examples {
    Examples {
        labels: series.iter().map(|s| s.label.clone()).collect(),
        rows: EXAMPLE_AMOUNTS_FEN
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
            .collect(),
    }
}

/// The chart and its table, for `fees::figure` and `fees::examples` in `templates/fees/_parts.html`.
pub(super) struct Figure {
    pub chart: Chart,
    pub examples: Examples,
}

pub(super) fn figure(lang: Lang, series: &[Series], marker_fen: Option<i64>) -> Figure {
    Figure {
        chart: fee_chart(lang, series, marker_fen),
        examples: examples(series),
    }
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
                look: UNIFIED,
            },
            Series {
                label: "s".into(),
                schedule: legacy_sichuan(),
                look: SICHUAN,
            },
        ];
        let c = fee_chart(Lang::Zh, &series, Some(350 * FEN_PER_WAN));
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.lines[0].points().split(' ').count(), SAMPLES + 1);
        assert_eq!(c.x_ticks.first().unwrap().label, "1万");
        assert_eq!(c.x_ticks.last().unwrap().label, "10亿");
        // Sichuan starts at 5 %: the y axis reaches at least that.
        assert_eq!(c.y_ticks.last().unwrap().label, "5%");
        assert_eq!(c.markers.len(), 1);
        assert_eq!(c.markers[0].label, "350万元");
        assert!(fee_chart(Lang::En, &series, Some(1)).markers.is_empty());
        let en = fee_chart(Lang::En, &series, None);
        assert_eq!(en.x_ticks.first().unwrap().label, "¥10k");
        assert_eq!(en.x_ticks.last().unwrap().label, "¥1B");
        assert_eq!(en.legend.len(), 2);
    }

    #[test]
    fn the_example_table_matches_the_engine() {
        let series = vec![Series {
            label: "s".into(),
            schedule: legacy_sichuan(),
            look: SICHUAN,
        }];
        let t = examples(&series);
        assert_eq!(t.labels, ["s"]);
        assert_eq!(t.rows.len(), 10);
        let r = t
            .rows
            .iter()
            .find(|r| r.amount_fen == 350 * FEN_PER_WAN)
            .unwrap();
        assert_eq!(r.cells[0].buyer_fee_fen, 12_500_000);
        assert_eq!(r.cells[0].rate_ppm, 35_714);
    }
}
