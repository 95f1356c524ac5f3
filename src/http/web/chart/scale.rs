//! Scales (value → position), nice tick steps in exact integers, and the thinning of labels that
//! would collide. Values are the market's integers (fen, ppm, counts); only positions are `f64`.

/// Maps the values `lo..=hi` onto the positions `from..=to` (either direction), linearly or by
/// their logarithm. A log scale needs `0 < lo < hi`; values below `lo` land on `from`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
    log: bool,
}

impl Scale {
    pub fn linear(lo: i64, hi: i64, from: f64, to: f64) -> Self {
        let (lo, hi) = (lo as f64, hi as f64);
        Scale {
            lo,
            hi: if hi > lo { hi } else { lo + 1.0 },
            from,
            to,
            log: false,
        }
    }

    pub fn log(lo: i64, hi: i64, from: f64, to: f64) -> Self {
        let lo = (lo.max(1) as f64).log10();
        let hi = (hi.max(1) as f64).log10();
        Scale {
            lo,
            hi: if hi > lo { hi } else { lo + 1.0 },
            from,
            to,
            log: true,
        }
    }

    /// The position of `v`.
    pub fn px(&self, v: i64) -> f64 {
        let v = if self.log {
            (v.max(1) as f64).log10()
        } else {
            v as f64
        };
        self.from + (v - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }
}

/// An axis from `lo` to `hi` in steps of `step`, all exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NiceRange {
    pub lo: i64,
    pub hi: i64,
    pub step: i64,
}

impl NiceRange {
    /// The tick values, `lo`, `lo + step`, … `hi`.
    pub fn ticks(&self) -> Vec<i64> {
        let n = (i128::from(self.hi) - i128::from(self.lo)) / i128::from(self.step.max(1));
        (0..=n)
            .map(|k| {
                let v = i128::from(self.lo) + k * i128::from(self.step);
                i64::try_from(v).unwrap_or(i64::MAX)
            })
            .collect()
    }
}

/// The smallest step of the series 1, 2, 5 × 10ⁿ × `min_step` that spans `lo..=hi` (widened to
/// take in zero, so that bars and rates are measured from it) in at most `max_intervals`
/// intervals; the ends are rounded out to multiples of the step. An empty range gets one step.
pub fn nice_range(lo: i64, hi: i64, max_intervals: i64, min_step: i64) -> NiceRange {
    let lo = i128::from(lo.min(0));
    let hi = i128::from(hi.max(0));
    let max_intervals = i128::from(max_intervals.max(1));
    let mut unit = i128::from(min_step.max(1));
    let range = |step: i128| {
        let a = lo.div_euclid(step) * step;
        let b = -((-hi).div_euclid(step)) * step;
        let b = if a == b { b + step } else { b };
        (a, b)
    };
    let fits = |(a, b): (i128, i128), step: i128| (b - a) / step <= max_intervals;
    loop {
        for m in [1, 2, 5] {
            let step = unit * m;
            let r = range(step);
            // Any i64 range fits in a few steps of 5 × 10¹⁸, the largest step there is.
            if fits(r, step) || step >= 5 * 10i128.pow(18) {
                let clamp =
                    |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
                return NiceRange {
                    lo: clamp(r.0),
                    hi: clamp(r.1),
                    step: clamp(step),
                };
            }
        }
        unit *= 10;
    }
}

/// The powers of ten from `lo` to `hi` (both positive): the ticks of a log axis.
pub fn decades(lo: i64, hi: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut p: i64 = 1;
    loop {
        if p >= lo && p <= hi {
            out.push(p);
        }
        match p.checked_mul(10) {
            Some(next) if next <= hi => p = next,
            _ => break,
        }
    }
    out
}

/// An estimate of the width of `text` in ems: a CJK or other wide character is one em, `%` and
/// the widest letters 0.9, any other ASCII character 0.6 (generous for sans-serif digits and
/// letters), so estimates err on the wide side.
pub fn text_em(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            '%' | 'M' | 'W' | 'm' | 'w' => 0.9,
            c if c.is_ascii() => 0.6,
            _ => 1.0,
        })
        .sum()
}

/// Which labels to show so that no two collide: those whose key is a multiple of `k`, for the
/// smallest `k` among `strides` (then multiples of the last) that is a multiple of `base` and
/// leaves `gap` between neighbours. So months keyed `year × 12 + month − 1` with strides
/// 1, 2, 3, 4, 6, 12 always keep January. With `keep_first`, the first label (the first month,
/// which carries its year) is shown too when it clears its neighbour. `items` are (centre,
/// width) from left to right. Returns the choice and `k`.
pub fn thin(
    items: &[(f64, f64)],
    keys: &[i64],
    strides: &[i64],
    base: i64,
    keep_first: bool,
    gap: f64,
) -> (Vec<bool>, i64) {
    let n = items.len().min(keys.len());
    let fits = |kept: &[bool]| {
        let mut last: Option<usize> = None;
        for i in (0..n).filter(|&i| kept[i]) {
            if let Some(j) = last {
                let (a, b) = (items[j], items[i]);
                if a.0 + a.1 / 2.0 + gap > b.0 - b.1 / 2.0 {
                    return false;
                }
            }
            last = Some(i);
        }
        true
    };
    let span = match (keys[..n].iter().min(), keys[..n].iter().max()) {
        (Some(a), Some(b)) => b.saturating_sub(*a).saturating_add(1),
        _ => 1,
    };
    let base = base.max(1);
    let last = strides.last().copied().unwrap_or(1).max(1);
    let candidates = strides
        .iter()
        .copied()
        .filter(|&k| k >= 1)
        .chain((2..).map(|m: i64| last.saturating_mul(m)))
        .filter(|k| k % base == 0);
    for k in candidates {
        let mut kept: Vec<bool> = (0..n).map(|i| keys[i].rem_euclid(k) == 0).collect();
        if keep_first && n > 0 && !kept[0] {
            kept[0] = true;
            if !fits(&kept) {
                kept[0] = false;
            }
        }
        // Beyond the span of the keys at most one label is left, which always fits.
        if fits(&kept) || k > span {
            return (kept, k);
        }
    }
    (vec![false; n], base)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nice_ranges_take_in_zero_and_round_out_to_a_1_2_5_step() {
        assert_eq!(
            nice_range(0, 50_000, 8, 1),
            NiceRange {
                lo: 0,
                hi: 50_000,
                step: 10_000
            }
        );
        assert_eq!(
            nice_range(0, 30_000, 8, 1),
            NiceRange {
                lo: 0,
                hi: 30_000,
                step: 5_000
            }
        );
        assert_eq!(
            nice_range(0, 7, 8, 1),
            NiceRange {
                lo: 0,
                hi: 7,
                step: 1
            }
        );
        assert_eq!(
            nice_range(0, 15, 8, 1),
            NiceRange {
                lo: 0,
                hi: 16,
                step: 2
            }
        );
        assert_eq!(
            nice_range(0, 17, 8, 1),
            NiceRange {
                lo: 0,
                hi: 20,
                step: 5
            }
        );
        assert_eq!(
            nice_range(-30, 45, 8, 1),
            NiceRange {
                lo: -30,
                hi: 50,
                step: 10
            }
        );
        assert_eq!(
            nice_range(5, 9, 4, 1),
            NiceRange {
                lo: 0,
                hi: 10,
                step: 5
            }
        );
        // Nothing to show: one step of the smallest kind.
        assert_eq!(
            nice_range(0, 0, 8, 100),
            NiceRange {
                lo: 0,
                hi: 100,
                step: 100
            }
        );
        assert_eq!(nice_range(0, 0, 8, 1).ticks(), [0, 1]);
        assert_eq!(nice_range(0, 30_000, 8, 1).ticks().len(), 7);
        // The extremes neither overflow nor loop.
        let r = nice_range(i64::MIN, i64::MAX, 8, 1);
        assert!(r.lo <= 0 && r.hi > 0 && r.step > 0);
        assert!(r.ticks().len() <= 12);
    }

    #[test]
    fn decades_are_the_powers_of_ten_in_range() {
        assert_eq!(
            decades(1_000_000, 100_000_000_000),
            [
                1_000_000,
                10_000_000,
                100_000_000,
                1_000_000_000,
                10_000_000_000,
                100_000_000_000
            ]
        );
        assert_eq!(decades(2, 9), Vec::<i64>::new());
        assert_eq!(decades(1, i64::MAX).len(), 19);
    }

    #[test]
    fn scales_map_their_ends_onto_their_ends() {
        let s = Scale::linear(0, 50, 320.0, 20.0);
        assert_eq!(s.px(0), 320.0);
        assert_eq!(s.px(50), 20.0);
        assert_eq!(s.px(25), 170.0);
        let l = Scale::log(1_000_000, 100_000_000_000, 70.0, 700.0);
        assert!((l.px(1_000_000) - 70.0).abs() < 1e-9);
        assert!((l.px(100_000_000_000) - 700.0).abs() < 1e-9);
        assert!((l.px(10_000_000_000) - 574.0).abs() < 1e-9);
        // Degenerate ranges still give finite positions.
        assert!(Scale::linear(5, 5, 0.0, 10.0).px(5).is_finite());
        assert!(Scale::log(0, 0, 0.0, 10.0).px(-3).is_finite());
    }

    #[test]
    fn wide_characters_count_one_em_and_ascii_less() {
        assert_eq!(text_em("1万"), 1.6);
        assert_eq!(text_em("5%"), 1.5);
        assert_eq!(text_em("四川"), 2.0);
        assert_eq!(text_em(""), 0.0);
    }

    #[test]
    fn thinning_keeps_every_kth_label_and_january() {
        // Five labels 50 apart and 60 wide: every other one.
        let items: Vec<(f64, f64)> = (0..5).map(|i| (50.0 * f64::from(i), 60.0)).collect();
        let keys: Vec<i64> = (0..5).collect();
        assert_eq!(
            thin(&items, &keys, &[1], 1, false, 4.0),
            (vec![true, false, true, false, true], 2)
        );
        let narrow: Vec<(f64, f64)> = (0..5).map(|i| (50.0 * f64::from(i), 40.0)).collect();
        assert_eq!(thin(&narrow, &keys, &[1], 1, false, 4.0).0, [true; 5]);
        // Only multiples of a base: a narrow screen shows a subset of what a wide one shows.
        assert_eq!(
            thin(&narrow, &keys, &[1], 3, false, 4.0).0,
            [true, false, false, true, false]
        );
        // Months from August 2026, crowded: every sixth, so January; August (with its year) too.
        let months: Vec<i64> = (0..8).map(|i| 2026 * 12 + 7 + i).collect();
        let items: Vec<(f64, f64)> = (0..8).map(|i| (10.0 * f64::from(i), 40.0)).collect();
        let strides = [1, 2, 3, 4, 6, 12];
        let (kept, k) = thin(&items, &months, &strides, 1, true, 4.0);
        assert_eq!(k, 6);
        assert_eq!(kept, [true, false, false, false, false, true, false, false]);
        // From December, August's room is gone: January alone.
        let (kept, _) = thin(&items[3..], &months[4..], &strides, 1, true, 4.0);
        assert_eq!(kept, [false, true, false, false]);
        assert_eq!(thin(&[], &[], &[1], 1, true, 4.0), (vec![], 1));
    }

    proptest! {
        #[test]
        fn nice_ranges_cover_the_data_within_the_interval_budget(
            a in -10_000_000_000_000i64..10_000_000_000_000,
            b in -10_000_000_000_000i64..10_000_000_000_000,
            max in 2i64..12,
            min_exp in 0u32..4,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let min_step = 10i64.pow(min_exp);
            let r = nice_range(lo, hi, max, min_step);
            prop_assert!(r.lo <= lo.min(0) && r.hi >= hi.max(0));
            prop_assert!(r.lo % r.step == 0 && r.hi % r.step == 0);
            prop_assert!((r.hi - r.lo) / r.step <= max);
            prop_assert!(r.step % min_step == 0);
            // The step is 1, 2 or 5 times a power of ten.
            let mut m = r.step / min_step;
            while m % 10 == 0 { m /= 10; }
            prop_assert!([1, 2, 5].contains(&m), "step {}", r.step);
            // And no smaller such step would have done.
            let smaller = if m == 5 { r.step / 5 * 2 } else { r.step / 2 };
            if smaller >= min_step && smaller % min_step == 0 {
                let (a, b) = (lo.min(0).div_euclid(smaller) * smaller, -((-hi.max(0)).div_euclid(smaller)) * smaller);
                prop_assert!((b - a) / smaller > max, "{} would do", smaller);
            }
            let ticks = r.ticks();
            prop_assert_eq!(ticks.first().copied(), Some(r.lo));
            prop_assert_eq!(ticks.last().copied(), Some(r.hi));
        }

        #[test]
        fn scales_are_monotonic(lo in 1i64..1_000_000, span in 1i64..1_000_000_000, a in 0i64..1_000_000_000, b in 0i64..1_000_000_000) {
            let hi = lo + span;
            for s in [Scale::linear(lo, hi, 300.0, 20.0), Scale::log(lo, hi, 300.0, 20.0)] {
                let (x, y) = (lo + a % span, lo + b % span);
                if x < y { prop_assert!(s.px(x) >= s.px(y)); }
                prop_assert!(s.px(x) <= 300.0 + 1e-9 && s.px(x) >= 20.0 - 1e-9);
            }
        }

        #[test]
        fn thinned_labels_never_overlap_and_fall_on_a_stride(
            widths in proptest::collection::vec(1.0f64..200.0, 0..40),
            step in 1.0f64..100.0,
            first_key in -100i64..100,
            base in 1i64..4,
            keep_first in any::<bool>(),
        ) {
            let items: Vec<(f64, f64)> = widths.iter().enumerate().map(|(i, &w)| (step * i as f64, w)).collect();
            let keys: Vec<i64> = (0..items.len() as i64).map(|i| first_key + i).collect();
            let (kept, k) = thin(&items, &keys, &[1, 2, 3, 4, 6, 12], base, keep_first, 4.0);
            prop_assert_eq!(k % base, 0);
            let shown: Vec<usize> = (0..items.len()).filter(|&i| kept[i]).collect();
            for w in shown.windows(2) {
                let (a, b) = (items[w[0]], items[w[1]]);
                prop_assert!(a.0 + a.1 / 2.0 + 4.0 <= b.0 - b.1 / 2.0 + 1e-9);
            }
            for &i in &shown {
                prop_assert!(keys[i].rem_euclid(k) == 0 || (i == 0 && keep_first));
            }
        }
    }
}
