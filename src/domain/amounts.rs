//! How amounts are shown for confirmation and checked for plausibility: Chinese capital numerals
//! (大写金额, as on cheques and contracts) and the outlier rule (an amount far above the price it
//! answers needs an explicit confirmation).

/// The capital digits 零壹贰叁肆伍陆柒捌玖.
const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// An amount above this many times its reference (the current price, the listed price or the
/// offer it answers) must be confirmed (`confirm_outlier`).
pub const OUTLIER_FACTOR: i64 = 10;

/// Below 10 000: digits with 仟佰拾, inner zeros as one 零, trailing zeros left out.
fn below_wan(n: u64) -> String {
    let mut out = String::new();
    let mut pending_zero = false;
    for (div, unit) in [(1000, "仟"), (100, "佰"), (10, "拾"), (1, "")] {
        let d = (n / div % 10) as usize;
        if d == 0 {
            if !out.is_empty() {
                pending_zero = true;
            }
            continue;
        }
        if pending_zero {
            out.push('零');
            pending_zero = false;
        }
        out.push(DIGITS[d]);
        out.push_str(unit);
    }
    out
}

/// A whole number of yuan (> 0) in capitals, by sections of 亿 and 万; a section that does not
/// start at its highest place after a higher section is preceded by 零 (壹亿零壹仟, 壹佰万零壹).
fn integer(n: u64) -> String {
    for (div, unit) in [(100_000_000u64, "亿"), (10_000, "万")] {
        if n >= div {
            let (hi, lo) = (n / div, n % div);
            let mut out = integer(hi);
            out.push_str(unit);
            if lo > 0 {
                if lo < div / 10 {
                    out.push('零');
                }
                out.push_str(&integer(lo));
            }
            return out;
        }
    }
    below_wan(n)
}

/// The amount in capital numerals as a cheque writes it: `捌佰万元整`, `壹万零伍元叁角`,
/// `壹佰元零伍分`, `伍角`; zero is `零元整`. Negative amounts start with 负.
pub fn capital(fen: i64) -> String {
    let sign = if fen < 0 { "负" } else { "" };
    let abs = fen.unsigned_abs();
    let (yuan, jiao, f) = (abs / 100, (abs / 10 % 10) as usize, (abs % 10) as usize);
    let mut out = String::from(sign);
    if yuan > 0 {
        out.push_str(&integer(yuan));
        out.push('元');
    }
    match (jiao, f) {
        (0, 0) => {
            if yuan == 0 {
                out.push_str("零元");
            }
            out.push('整');
        }
        (j, 0) => {
            out.push(DIGITS[j]);
            out.push('角');
        }
        (0, f) => {
            if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (j, f) => {
            out.push(DIGITS[j]);
            out.push('角');
            out.push(DIGITS[f]);
            out.push('分');
        }
    }
    out
}

/// How far `amount_fen` is above `reference_fen`, in tenths (`125` = 12.5 times), when it is an
/// outlier: more than [`OUTLIER_FACTOR`] times the reference. `None` when it is not, or when there
/// is no positive reference to compare with.
pub fn outlier_tenths(amount_fen: i64, reference_fen: Option<i64>) -> Option<i64> {
    let reference = reference_fen.filter(|r| *r > 0)?;
    let (a, r) = (i128::from(amount_fen), i128::from(reference));
    if a <= r * i128::from(OUTLIER_FACTOR) {
        return None;
    }
    // Rounded down to a tenth, never shown below the factor that made it an outlier.
    let tenths = (a * 10 / r).max(i128::from(OUTLIER_FACTOR) * 10 + 1);
    Some(i64::try_from(tenths).unwrap_or(i64::MAX))
}

/// `12.5` for 125 tenths, `1250` for 12 500.
pub fn format_tenths(tenths: i64) -> String {
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn capitals_as_cheques_write_them() {
        for (fen, want) in [
            (0, "零元整"),
            (1, "壹分"),
            (10, "壹角"),
            (55, "伍角伍分"),
            (100, "壹元整"),
            (1_000, "壹拾元整"),
            (10_005, "壹佰元零伍分"),
            (10_050, "壹佰元伍角"),
            (100_100, "壹仟零壹元整"),
            (101_000, "壹仟零壹拾元整"),
            (1_000_530, "壹万零伍元叁角"),
            (800_000_000, "捌佰万元整"),
            (350_000_000, "叁佰伍拾万元整"),
            (100_000_100, "壹佰万零壹元整"),
            (10_000_100_000, "壹亿零壹仟元整"),
            (11_000_000_000, "壹亿壹仟万元整"),
            (
                12_345_678_912,
                "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分",
            ),
            (10_000_000_100, "壹亿零壹元整"),
            (100_000_000_000_000, "壹万亿元整"),
            (-100, "负壹元整"),
        ] {
            assert_eq!(capital(fen), want, "{fen}");
        }
    }

    #[test]
    fn outliers_are_above_ten_times_the_reference() {
        assert_eq!(outlier_tenths(10_000, Some(1_000)), None);
        assert_eq!(outlier_tenths(10_001, Some(1_000)), Some(101));
        assert_eq!(outlier_tenths(12_500, Some(1_000)), Some(125));
        assert_eq!(outlier_tenths(i64::MAX, Some(1)), Some(i64::MAX));
        assert_eq!(outlier_tenths(1_000_000, None), None);
        assert_eq!(outlier_tenths(1_000_000, Some(0)), None);
        // 999亿 on an 800万 auction: 12 487.5 times.
        let tenths = outlier_tenths(9_990_000_000_000, Some(800_000_000));
        assert_eq!(tenths.map(format_tenths).as_deref(), Some("12487.5"));
        assert_eq!(format_tenths(120), "12");
    }

    proptest! {
        #[test]
        fn capitals_use_only_capital_characters_and_end_well(fen in 0i64..=100_000_000_000_000) {
            let s = capital(fen);
            prop_assert!(s.chars().all(|c| "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整".contains(c)));
            prop_assert!(s.ends_with('整') || s.ends_with('角') || s.ends_with('分'));
            prop_assert!(!s.contains("零零"));
        }
    }
}
