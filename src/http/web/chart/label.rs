//! What the numbers on a chart read as: short tick labels (`500万`, `¥5M`, `1.5%`, `1.2万`,
//! `3月`) and the full values of tables and tooltips (`350万元`, `¥3,500,000.00`). Exact: a
//! label is the value, trimmed of trailing zeros, never rounded.
use crate::domain::money::{format_ppm_percent, format_wan, format_yuan};
use crate::i18n::Lang;

/// What the values of an axis are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Money in fen; ticks in 万/亿 (Chinese) or k/M/B (English).
    Fen,
    /// Rates in parts per million; shown as percentages.
    Ppm,
    /// Plain counts (trades, listings, organisations).
    Count,
}

impl Unit {
    /// The smallest tick step worth showing: one yuan, 0.0001 %, one.
    pub fn min_step(self) -> i64 {
        match self {
            Unit::Fen => 100,
            Unit::Ppm | Unit::Count => 1,
        }
    }

    /// A short label for a tick.
    pub fn tick(self, lang: Lang, v: i64) -> String {
        match self {
            Unit::Fen => compact_amount(lang, v),
            Unit::Ppm => format_ppm_percent(v),
            Unit::Count => compact_count(lang, v),
        }
    }

    /// The value in full, for the table beneath a chart and for tooltips.
    pub fn full(self, lang: Lang, v: i64) -> String {
        match (self, lang) {
            (Unit::Fen, Lang::Zh) => format_wan(v),
            (Unit::Fen, Lang::En) => format_yuan(v),
            (Unit::Ppm, _) => format_ppm_percent(v),
            (Unit::Count, _) => grouped(v),
        }
    }
}

/// `units / 10^places` exactly, trailing zeros (and a bare point) trimmed.
fn decimal(units: u64, places: u32) -> String {
    let div = 10u64.pow(places);
    let (whole, frac) = (units / div, units % div);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = places as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

fn sign(v: i64) -> &'static str {
    if v < 0 {
        "-"
    } else {
        ""
    }
}

/// Fen as a tick reads: `5000`, `1万`, `1000万`, `1.5亿` in Chinese (the axis title says 元);
/// `¥50`, `¥10k`, `¥1M`, `¥1.5B` in English.
pub fn compact_amount(lang: Lang, fen: i64) -> String {
    let abs = fen.unsigned_abs();
    let s = sign(fen);
    match lang {
        Lang::Zh if abs >= 10_000_000_000 => format!("{s}{}亿", decimal(abs, 10)),
        Lang::Zh if abs >= 1_000_000 => format!("{s}{}万", decimal(abs, 6)),
        Lang::Zh => format!("{s}{}", decimal(abs, 2)),
        Lang::En if abs >= 100_000_000_000 => format!("{s}¥{}B", decimal(abs, 11)),
        Lang::En if abs >= 100_000_000 => format!("{s}¥{}M", decimal(abs, 8)),
        Lang::En if abs >= 100_000 => format!("{s}¥{}k", decimal(abs, 5)),
        Lang::En => format!("{s}¥{}", decimal(abs, 2)),
    }
}

/// A count as a tick reads: `1.2万`, `3亿` in Chinese; `12,000` in English.
pub fn compact_count(lang: Lang, n: i64) -> String {
    let abs = n.unsigned_abs();
    let s = sign(n);
    match lang {
        Lang::Zh if abs >= 100_000_000 => format!("{s}{}亿", decimal(abs, 8)),
        Lang::Zh if abs >= 10_000 => format!("{s}{}万", decimal(abs, 4)),
        _ => grouped(n),
    }
}

/// `12,345`
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(sign(n));
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A month on an axis: `3月` / `Mar`. Out-of-range months read as `2026-13`, never panic.
pub fn month(lang: Lang, (year, m): (i32, u32)) -> String {
    match (lang, m) {
        (Lang::Zh, 1..=12) => format!("{m}月"),
        (Lang::En, 1..=12) => MONTHS_EN[m as usize - 1].to_string(),
        _ => format!("{year}-{m:02}"),
    }
}

/// The year line beneath the first month and each January: `2026年` / `2026`.
pub fn year(lang: Lang, year: i32) -> String {
    match lang {
        Lang::Zh => format!("{year}年"),
        Lang::En => year.to_string(),
    }
}

/// A month in full, for tables: `2026年3月` / `Mar 2026`.
pub fn month_full(lang: Lang, (y, m): (i32, u32)) -> String {
    match (lang, m) {
        (Lang::Zh, 1..=12) => format!("{y}年{m}月"),
        (Lang::En, 1..=12) => format!("{} {y}", MONTHS_EN[m as usize - 1]),
        _ => format!("{y}-{m:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_read_in_wan_and_yi_or_k_m_b() {
        let wan = 1_000_000;
        let cases: &[(i64, &str, &str)] = &[
            (0, "0", "¥0"),
            (5_000, "50", "¥50"),
            (500_000, "5000", "¥5k"),
            (wan, "1万", "¥10k"),
            (10 * wan, "10万", "¥100k"),
            (100 * wan, "100万", "¥1M"),
            (350 * wan, "350万", "¥3.5M"),
            (1_000 * wan, "1000万", "¥10M"),
            (10_000 * wan, "1亿", "¥100M"),
            (15_000 * wan, "1.5亿", "¥150M"),
            (100_000 * wan, "10亿", "¥1B"),
            (-500 * wan, "-500万", "-¥5M"),
            (123, "1.23", "¥1.23"),
        ];
        for &(fen, zh, en) in cases {
            assert_eq!(compact_amount(Lang::Zh, fen), zh, "{fen}");
            assert_eq!(compact_amount(Lang::En, fen), en, "{fen}");
        }
        assert_eq!(Unit::Fen.full(Lang::Zh, 350 * wan), "350万元");
        assert_eq!(Unit::Fen.full(Lang::En, 350 * wan), "¥3,500,000.00");
    }

    #[test]
    fn rates_and_counts_read_plainly() {
        assert_eq!(Unit::Ppm.tick(Lang::Zh, 15_000), "1.5%");
        assert_eq!(Unit::Ppm.tick(Lang::En, 0), "0%");
        assert_eq!(Unit::Count.tick(Lang::Zh, 12_000), "1.2万");
        assert_eq!(Unit::Count.tick(Lang::Zh, 800), "800");
        assert_eq!(Unit::Count.tick(Lang::En, 12_000), "12,000");
        assert_eq!(Unit::Count.full(Lang::Zh, 1_234_567), "1,234,567");
        assert_eq!(grouped(-1_000), "-1,000");
        assert_eq!(grouped(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn months_read_short_with_the_year_apart() {
        assert_eq!(month(Lang::Zh, (2026, 3)), "3月");
        assert_eq!(month(Lang::En, (2026, 3)), "Mar");
        assert_eq!(year(Lang::Zh, 2026), "2026年");
        assert_eq!(month_full(Lang::Zh, (2027, 1)), "2027年1月");
        assert_eq!(month_full(Lang::En, (2027, 12)), "Dec 2027");
        assert_eq!(month(Lang::En, (2027, 13)), "2027-13");
        assert_eq!(month_full(Lang::Zh, (2027, 0)), "2027-00");
    }

    proptest! {
        /// A compact label loses nothing: read back through its suffix, it is the value.
        #[test]
        fn compact_amounts_are_exact(fen in any::<i64>()) {
            for lang in [Lang::Zh, Lang::En] {
                let label = compact_amount(lang, fen);
                let neg = label.starts_with('-');
                let body = label.trim_start_matches('-').trim_start_matches('¥');
                let (num, scale): (&str, u32) = if let Some(n) = body.strip_suffix('亿') { (n, 10) }
                    else if let Some(n) = body.strip_suffix('万') { (n, 6) }
                    else if let Some(n) = body.strip_suffix('B') { (n, 11) }
                    else if let Some(n) = body.strip_suffix('M') { (n, 8) }
                    else if let Some(n) = body.strip_suffix('k') { (n, 5) }
                    else { (body, 2) };
                let (w, f) = num.split_once('.').unwrap_or((num, ""));
                prop_assert!(f.len() <= scale as usize);
                let digits = format!("{w}{f:0<width$}", width = scale as usize);
                let back: u128 = digits.parse().unwrap_or(u128::MAX);
                prop_assert_eq!(back, u128::from(fen.unsigned_abs()), "{}", label);
                prop_assert_eq!(neg, fen < 0);
            }
        }
    }
}
