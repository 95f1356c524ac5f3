//! Money: integer fen, parsing what people type, and formatting for people.
//!
//! Amounts are `i64` fen (1 yuan = 100 fen) everywhere; rates are `i64` ppm. No floating point is used:
//! parsing is exact decimal arithmetic, formatting is integer division.

use super::error::{Args, ErrorKey};
use super::normalize::fold_width;

/// The largest amount accepted anywhere: 10^14 fen, one trillion yuan.
pub const MAX_AMOUNT_FEN: i64 = 100_000_000_000_000;

/// Fen in one yuan, one 万元 and one 亿元.
pub const FEN_PER_YUAN: i64 = 100;
pub const FEN_PER_WAN: i64 = 1_000_000;
pub const FEN_PER_YI: i64 = 10_000_000_000;

/// Why a typed amount is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("no amount given")]
    Empty,
    #[error("not a number")]
    NotANumber,
    #[error("the amount is negative")]
    Negative,
    #[error("the amount is not a whole number of fen")]
    TooManyDecimals,
    #[error("the amount is zero")]
    Zero,
    #[error("the amount is above the maximum")]
    TooLarge,
}

impl ErrorKey for AmountError {
    fn key(&self) -> &'static str {
        match self {
            AmountError::Empty => "err.amount.empty",
            AmountError::NotANumber => "err.amount.not_a_number",
            AmountError::Negative => "err.amount.negative",
            AmountError::TooManyDecimals => "err.amount.too_many_decimals",
            AmountError::Zero => "err.amount.zero",
            AmountError::TooLarge => "err.amount.too_large",
        }
    }

    fn args(&self) -> Args {
        match self {
            AmountError::TooLarge => vec![("max", format_yuan(MAX_AMOUNT_FEN))],
            _ => Vec::new(),
        }
    }
}

/// Parse an amount of yuan as people type it, into fen.
///
/// Accepted: `1234.56`, `1,234.56`, full-width `１２３４．５６`, `¥1,234.56` / `￥…`, units `万` (×10^4) and
/// `亿` (×10^8) optionally followed by `元`, a bare `元` suffix, spaces around and between number and unit.
/// Commas may appear anywhere in the integer part after its first digit, never after the decimal point.
/// The result must be a whole number of fen (`1.234` → [`AmountError::TooManyDecimals`], `1.23456万` → 1 234 560),
/// at least 1 fen and at most [`MAX_AMOUNT_FEN`].
pub fn parse_yuan(input: &str) -> Result<i64, AmountError> {
    let folded: String = input.chars().map(fold_width).collect();
    let mut s = folded.trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    let mut negative = false;
    // Sign and currency sign, in either order: `-¥5`, `¥-5`.
    loop {
        if let Some(rest) = s.strip_prefix(['-', '\u{2212}']) {
            negative = true;
            s = rest.trim_start();
        } else if let Some(rest) = s.strip_prefix(['¥', '\u{FFE5}']) {
            s = rest.trim_start();
        } else {
            break;
        }
    }
    if let Some(rest) = s.strip_suffix('元') {
        s = rest.trim_end();
    }
    let mut unit_exp: u32 = 0;
    if let Some(rest) = s.strip_suffix(['万', '萬']) {
        unit_exp = 4;
        s = rest.trim_end();
    } else if let Some(rest) = s.strip_suffix(['亿', '億']) {
        unit_exp = 8;
        s = rest.trim_end();
    }
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(AmountError::NotANumber);
    }
    if !int_part.is_empty() && !int_part.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(AmountError::NotANumber);
    }
    if !int_part.chars().all(|c| c.is_ascii_digit() || c == ',')
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return Err(AmountError::NotANumber);
    }
    if negative {
        return Err(AmountError::Negative);
    }
    let int_digits: String = int_part
        .chars()
        .filter(char::is_ascii_digit)
        .skip_while(|&c| c == '0')
        .collect();
    let frac_digits = frac_part.trim_end_matches('0');
    // fen = (int . frac) × 10^(2 + unit_exp); the fraction must vanish.
    let scale = 2 + unit_exp as usize;
    if frac_digits.len() > scale {
        return Err(AmountError::TooManyDecimals);
    }
    if int_digits.len() > 20 {
        return Err(AmountError::TooLarge);
    }
    let mut fen: u128 = 0;
    for c in int_digits.chars().chain(frac_digits.chars()) {
        fen = fen * 10 + u128::from(c as u32 - '0' as u32);
    }
    fen *= 10u128.pow((scale - frac_digits.len()) as u32);
    if fen == 0 {
        return Err(AmountError::Zero);
    }
    if fen > MAX_AMOUNT_FEN as u128 {
        return Err(AmountError::TooLarge);
    }
    Ok(fen as i64)
}

/// Digits of `n` grouped by thousands with commas: `1234567` → `1,234,567`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `¥1,234.56`; negative amounts as `-¥1,234.56`.
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", group_thousands(abs / 100), abs % 100)
}

/// `whole.frac` with `frac` having `places` digits, trailing zeros (and a bare dot) trimmed.
fn trimmed_decimal(units: u64, places: u32) -> String {
    let div = 10u64.pow(places);
    let whole = units / div;
    let frac = units % div;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{:0width$}", frac, width = places as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Chinese large-amount style, exact to the fen: below 1万元 as [`format_yuan`]; from 1万元
/// `350万元`, `123.45万元`, `12.345万元`, `1.000001万元`; whole hundredths of 1亿元 as `1.2亿元`.
/// Never rounded: a price shown this way is the price (trailing zeros trimmed).
pub fn format_wan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    if abs < FEN_PER_WAN as u64 {
        return format_yuan(fen);
    }
    // 0.01亿元 = 1,000,000 yuan = 100,000,000 fen.
    if abs >= 100 * 100_000_000 && abs % 100_000_000 == 0 {
        return format!("{sign}{}亿元", trimmed_decimal(abs / 100_000_000, 2));
    }
    // 1 fen = 0.000001万元.
    format!("{sign}{}万元", trimmed_decimal(abs, 6))
}

/// A ppm rate as a percentage, exact and trimmed: 15 000 → `1.5%`, 7 000 → `0.7%`, 500 → `0.05%`, 1 → `0.0001%`.
pub fn format_ppm_percent(ppm: i64) -> String {
    let sign = if ppm < 0 { "-" } else { "" };
    format!("{sign}{}%", trimmed_decimal(ppm.unsigned_abs(), 4))
}

/// A percentage as people type it (`1.5`, `1.5%`, `0.0001`) into ppm: at most four decimals.
pub fn parse_percent_ppm(input: &str) -> Result<i64, &'static str> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn typed_amounts_parse_exactly() {
        let cases: &[(&str, i64)] = &[
            ("1234.56", 123_456),
            ("1,234.56", 123_456),
            ("12,34.5", 123_450),
            ("１２３４", 123_400),
            ("１，２３４．５６", 123_456),
            ("¥1,234.56", 123_456),
            ("￥1,234.56", 123_456),
            ("  ¥ 88  ", 8_800),
            ("123.4万", 123_400_000),
            ("350万", 350_000_000),
            ("350万元", 350_000_000),
            ("350 万 元", 350_000_000),
            ("1.2亿", 12_000_000_000),
            ("1.2亿元", 12_000_000_000),
            ("12元", 1_200),
            ("0.01", 1),
            (".5", 50),
            ("5.", 500),
            ("007.10", 710),
            ("1.23456万", 1_234_560),
            ("1.234567万", 1_234_567),
            ("1.2300000000", 123),
            ("1.23456789亿", 12_345_678_900),
            ("10000亿", MAX_AMOUNT_FEN),
            ("1000000000000", MAX_AMOUNT_FEN),
        ];
        for (input, fen) in cases {
            assert_eq!(parse_yuan(input), Ok(*fen), "{input}");
        }
    }

    #[test]
    fn bad_amounts_say_why() {
        use AmountError::*;
        let cases: &[(&str, AmountError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("abc", NotANumber),
            ("1.2.3", NotANumber),
            ("1,234.5,6", NotANumber),
            (",123", NotANumber),
            ("¥", NotANumber),
            ("万", NotANumber),
            (".", NotANumber),
            ("1e5", NotANumber),
            ("+5", NotANumber),
            ("5 5", NotANumber),
            ("-5", Negative),
            ("-¥5", Negative),
            ("¥-5", Negative),
            ("1.234", TooManyDecimals),
            ("1.2345678万", TooManyDecimals),
            ("0.001", TooManyDecimals),
            ("1.00000000001亿", TooManyDecimals),
            ("0", Zero),
            ("0.00", Zero),
            ("0万", Zero),
            ("1000000000000.01", TooLarge),
            ("10000.00000001亿", TooLarge),
            ("99999999999999999999999999999", TooLarge),
        ];
        for (input, err) in cases {
            assert_eq!(parse_yuan(input), Err(*err), "{input}");
        }
        assert_eq!(TooLarge.key(), "err.amount.too_large");
        assert_eq!(
            TooLarge.args(),
            vec![("max", "¥1,000,000,000,000.00".to_string())]
        );
    }

    #[test]
    fn yuan_format_groups_thousands() {
        assert_eq!(format_yuan(0), "¥0.00");
        assert_eq!(format_yuan(5), "¥0.05");
        assert_eq!(format_yuan(123_456), "¥1,234.56");
        assert_eq!(format_yuan(100_000), "¥1,000.00");
        assert_eq!(format_yuan(-123_456), "-¥1,234.56");
        assert_eq!(format_yuan(MAX_AMOUNT_FEN), "¥1,000,000,000,000.00");
        assert_eq!(format_yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
    }

    #[test]
    fn wan_format_uses_wan_and_yi() {
        let cases: &[(i64, &str)] = &[
            (999_999, "¥9,999.99"),
            (1_000_000, "1万元"),
            (350_000_000, "350万元"),
            (123_450_000, "123.45万元"),
            (123_400_000, "123.4万元"),
            (123_454_999, "123.454999万元"),
            (123_455_000, "123.455万元"),
            (12_345_000, "12.345万元"),
            (1_000_001, "1.000001万元"),
            (9_999_994_999, "9999.994999万元"),
            (10_000_000_000, "1亿元"),
            (12_000_000_000, "1.2亿元"),
            (12_300_000_000, "1.23亿元"),
            (12_345_678_900, "12345.6789万元"),
            (MAX_AMOUNT_FEN, "10000亿元"),
            (-350_000_000, "-350万元"),
        ];
        for (fen, text) in cases {
            assert_eq!(format_wan(*fen), *text, "{fen}");
        }
    }

    #[test]
    fn ppm_format_is_an_exact_percentage() {
        assert_eq!(format_ppm_percent(15_000), "1.5%");
        assert_eq!(format_ppm_percent(7_000), "0.7%");
        assert_eq!(format_ppm_percent(500), "0.05%");
        assert_eq!(format_ppm_percent(1), "0.0001%");
        assert_eq!(format_ppm_percent(50_000), "5%");
        assert_eq!(format_ppm_percent(1_000_000), "100%");
        assert_eq!(format_ppm_percent(0), "0%");
    }

    proptest! {
        #[test]
        fn formatted_yuan_parses_back(fen in 1i64..=MAX_AMOUNT_FEN) {
            prop_assert_eq!(parse_yuan(&format_yuan(fen)), Ok(fen));
        }

        #[test]
        fn whole_wan_format_parses_back(wan in 1i64..10_000) {
            prop_assert_eq!(parse_yuan(&format_wan(wan * FEN_PER_WAN)), Ok(wan * FEN_PER_WAN));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,30}") {
            let _ = parse_yuan(&s);
        }

        /// Fuzz target: anything typed, near-numbers above all (digits, separators, units, signs,
        /// full-width forms, huge digit runs), parses to an amount in range or to an error; never a
        /// panic, a wrap or a negative.
        #[test]
        fn anything_typed_is_an_amount_in_range_or_an_error(
            s in "[-−¥￥ 0-9０-９,，.．万萬亿億元]{0,40}|[0-9]{15,60}(\\.[0-9]{0,8})?(万|亿)?",
        ) {
            if let Ok(fen) = parse_yuan(&s) {
                prop_assert!((1..=MAX_AMOUNT_FEN).contains(&fen), "{} → {}", s, fen);
            }
        }

        /// `1,234.56` and `350万` as people write them, in ASCII and in full width, are exact.
        #[test]
        fn grouped_decimals_and_wan_amounts_parse_exactly(
            fen in 1i64..=MAX_AMOUNT_FEN,
            wan_millionths in 1i64..=MAX_AMOUNT_FEN / 100,
        ) {
            let yuan = format!("{}.{:02}", group_thousands((fen / 100) as u64), fen % 100);
            prop_assert_eq!(parse_yuan(&yuan), Ok(fen));
            let wide: String = yuan.chars().map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap(),
                ',' => '，',
                '.' => '．',
                other => other,
            }).collect();
            prop_assert_eq!(parse_yuan(&wide), Ok(fen));
            // x万元 with up to six decimals is x × 10^6 fen (1 fen = 0.000001万).
            let wan = format!("{}.{:06}万", wan_millionths / 1_000_000, wan_millionths % 1_000_000);
            prop_assert_eq!(parse_yuan(&wan), Ok(wan_millionths));
            prop_assert_eq!(parse_yuan(&format!("{wan}元")), Ok(wan_millionths));
        }

        /// A third decimal of yuan that is not zero is refused, never rounded.
        #[test]
        fn a_fraction_of_a_fen_is_refused(fen in 0i64..=MAX_AMOUNT_FEN / 10, digit in 1u8..=9) {
            let s = format!("{}.{:02}{digit}", fen / 100, fen % 100);
            prop_assert_eq!(parse_yuan(&s), Err(AmountError::TooManyDecimals));
        }

        /// Fuzz target for rates typed as percentages: never a panic or a negative rate; every rate
        /// written as the pages write it reads back exactly.
        #[test]
        fn percentages_parse_back_and_never_panic(
            s in "[-−%％ 0-9０-９.．]{0,16}|\\PC{0,12}",
            ppm in 0i64..=1_000_000,
        ) {
            if let Ok(v) = parse_percent_ppm(&s) {
                prop_assert!(v >= 0, "{} → {}", s, v);
            }
            prop_assert_eq!(parse_percent_ppm(&format_ppm_percent(ppm)), Ok(ppm));
            let bare = format_ppm_percent(ppm);
            prop_assert_eq!(parse_percent_ppm(bare.trim_end_matches('%')), Ok(ppm));
        }
    }
}
