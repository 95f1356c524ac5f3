//! Transaction service fees (交易服务费), exactly as DOMAIN.md "Money and fees" defines them.
//!
//! A side schedule is a list of bands `(up_to_fen, rate_ppm)`, the last unbounded, plus a minimum and an
//! optional cap. The fee is marginal (差额定率累进): each band charges its rate on the part of the amount inside it,
//! `raw = Σ rate_i × max(0, min(A, up_to_i) − up_to_{i−1})` in fen·ppm (i128, exact), rounded half up once:
//! `fee = ⌊(raw + 500 000) / 1 000 000⌋`, then `max(fee, min_fee)`, then `min(fee, cap)`, then `min(fee, A)`.

use serde::{Deserialize, Serialize};

use super::error::{join_path, FieldErrors};
use super::money::{format_ppm_percent, format_yuan, FEN_PER_WAN, MAX_AMOUNT_FEN};

/// The largest rate: 100 %.
pub const MAX_RATE_PPM: i64 = 1_000_000;

/// One band of a schedule: `rate_ppm` applies to the part of an amount up to `up_to_fen`
/// (from the previous band's bound); `None` on the last band, which is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub up_to_fen: Option<i64>,
    pub rate_ppm: i64,
}

/// What one party (buyer or seller) pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideSchedule {
    pub bands: Vec<Band>,
    #[serde(default)]
    pub min_fee_fen: i64,
    #[serde(default)]
    pub max_fee_fen: Option<i64>,
}

/// A whole fee schedule: one side schedule for each party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSchedule {
    pub buyer: SideSchedule,
    pub seller: SideSchedule,
}

/// The fees of one amount under one schedule; `total_fee_fen` is always buyer + seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
}

impl SideSchedule {
    /// The fee on `amount_fen` (see the module doc). Exact, allocation-free; 0 for amounts ≤ 0.
    /// Well defined for any schedule, valid or not (the formula is applied literally).
    pub fn fee(&self, amount_fen: i64) -> i64 {
        if amount_fen <= 0 {
            return 0;
        }
        let a = i128::from(amount_fen);
        let mut raw: i128 = 0;
        let mut lower: i128 = 0;
        for band in &self.bands {
            let upper = band.up_to_fen.map_or(i128::MAX, i128::from);
            let hi = if upper < a { upper } else { a };
            if hi > lower {
                raw = raw.saturating_add(i128::from(band.rate_ppm).saturating_mul(hi - lower));
            }
            lower = upper;
        }
        let mut fee = raw.saturating_add(500_000).div_euclid(1_000_000);
        fee = fee.max(i128::from(self.min_fee_fen));
        if let Some(cap) = self.max_fee_fen {
            fee = fee.min(i128::from(cap));
        }
        fee = fee.min(a);
        fee.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Check the schedule, recording every problem under `path_prefix` (e.g. `buyer` gives
    /// `buyer.bands[1].up_to_fen`; an empty prefix gives `bands[1].up_to_fen`). At most one error per path.
    pub fn validate(&self, path_prefix: &str, errs: &mut FieldErrors) {
        let bands_path = join_path(path_prefix, "bands");
        if self.bands.is_empty() {
            errs.push(bands_path.clone(), "err.fees.no_bands", vec![]);
        }
        let last = self.bands.len().saturating_sub(1);
        let mut previous: Option<i64> = None;
        for (i, band) in self.bands.iter().enumerate() {
            let up_to_path = format!("{bands_path}[{i}].up_to_fen");
            match band.up_to_fen {
                None if i != last => errs.push(up_to_path, "err.fees.band_unbounded", vec![]),
                None => {}
                Some(_) if i == last => errs.push(up_to_path, "err.fees.last_band_bounded", vec![]),
                Some(u) if u <= 0 => errs.push(up_to_path, "err.fees.up_to_not_positive", vec![]),
                Some(u) if u > MAX_AMOUNT_FEN => errs.push(
                    up_to_path,
                    "err.fees.up_to_too_large",
                    vec![("max", format_yuan(MAX_AMOUNT_FEN))],
                ),
                Some(u) => {
                    if let Some(p) = previous.filter(|&p| u <= p) {
                        errs.push(
                            up_to_path,
                            "err.fees.bands_not_increasing",
                            vec![("previous", format_yuan(p))],
                        );
                    }
                }
            }
            previous = band.up_to_fen;
            if !(0..=MAX_RATE_PPM).contains(&band.rate_ppm) {
                errs.push(
                    format!("{bands_path}[{i}].rate_ppm"),
                    "err.fees.rate_out_of_range",
                    vec![("max", format_ppm_percent(MAX_RATE_PPM))],
                );
            }
        }
        let min_ok = check_fee_amount(
            self.min_fee_fen,
            &join_path(path_prefix, "min_fee_fen"),
            errs,
        );
        if let Some(cap) = self.max_fee_fen {
            let cap_path = join_path(path_prefix, "max_fee_fen");
            if check_fee_amount(cap, &cap_path, errs) && min_ok && cap < self.min_fee_fen {
                errs.push(
                    cap_path,
                    "err.fees.cap_below_min",
                    vec![("min", format_yuan(self.min_fee_fen))],
                );
            }
        }
    }
}

/// A fixed fee amount must be 0..=MAX_AMOUNT_FEN; records an error and returns false otherwise.
fn check_fee_amount(fen: i64, path: &str, errs: &mut FieldErrors) -> bool {
    if fen < 0 {
        errs.push(path, "err.fees.negative_fee", vec![]);
        false
    } else if fen > MAX_AMOUNT_FEN {
        errs.push(
            path,
            "err.fees.fee_too_large",
            vec![("max", format_yuan(MAX_AMOUNT_FEN))],
        );
        false
    } else {
        true
    }
}

impl FeeSchedule {
    /// Both parties' fees on `amount_fen`.
    pub fn quote(&self, amount_fen: i64) -> Quote {
        let buyer_fee_fen = self.buyer.fee(amount_fen);
        let seller_fee_fen = self.seller.fee(amount_fen);
        Quote {
            buyer_fee_fen,
            seller_fee_fen,
            total_fee_fen: buyer_fee_fen.saturating_add(seller_fee_fen),
        }
    }

    /// Check both sides; paths start with `buyer.` and `seller.`.
    pub fn validate(&self, errs: &mut FieldErrors) {
        self.buyer.validate("buyer", errs);
        self.seller.validate("seller", errs);
    }
}

/// The band edges of the legacy and unified v1 tables: 100, 500, 1 000, 5 000, 10 000 万元.
pub const STANDARD_BAND_EDGES_FEN: [i64; 5] = [
    100 * FEN_PER_WAN,
    500 * FEN_PER_WAN,
    1_000 * FEN_PER_WAN,
    5_000 * FEN_PER_WAN,
    10_000 * FEN_PER_WAN,
];

/// A side schedule on the standard edges with six rates (the last for the unbounded band).
fn standard_side(rates: [i64; 6], min_fee_fen: i64) -> SideSchedule {
    let bands = rates
        .iter()
        .enumerate()
        .map(|(i, &rate_ppm)| Band {
            up_to_fen: STANDARD_BAND_EDGES_FEN.get(i).copied(),
            rate_ppm,
        })
        .collect();
    SideSchedule {
        bands,
        min_fee_fen,
        max_fee_fen: None,
    }
}

fn both_sides(side: SideSchedule) -> FeeSchedule {
    FeeSchedule {
        buyer: side.clone(),
        seller: side,
    }
}

/// Legacy Sichuan (SUAEE) schedule, for comparison only (illustrative tiers in 0.5 %–5 %).
pub fn legacy_sichuan() -> FeeSchedule {
    both_sides(standard_side(
        [50_000, 30_000, 20_000, 10_000, 7_000, 5_000],
        0,
    ))
}

/// Legacy Chongqing (CQUAEE) schedule, for comparison only (illustrative tiers in 0.1 %–0.7 %).
pub fn legacy_chongqing() -> FeeSchedule {
    both_sides(standard_side([7_000, 5_000, 4_000, 3_000, 2_000, 1_000], 0))
}

/// The unified schedule v1: same bands for both sides, minimum 300 yuan per side, no cap.
pub fn unified_v1() -> FeeSchedule {
    both_sides(standard_side(
        [15_000, 10_000, 7_000, 4_000, 2_000, 1_000],
        30_000,
    ))
}

/// The effective rate of a fee, in ppm rounded half up (for charts); 0 for amounts ≤ 0.
pub fn effective_rate_ppm(fee_fen: i64, amount_fen: i64) -> i64 {
    if amount_fen <= 0 {
        return 0;
    }
    let r = (i128::from(fee_fen) * 2_000_000 + i128::from(amount_fen))
        .div_euclid(2 * i128::from(amount_fen));
    r.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Expected fees computed independently (python3, integer arithmetic), per side: (amount_fen, fee_fen).
    const SICHUAN_CASES: &[(i64, i64)] = &[
        (1, 0),
        (2, 0),
        (9, 0),
        (10, 1),
        (11, 1),
        (71, 4),
        (72, 4),
        (99, 5),
        (100, 5),
        (101, 5),
        (1999999, 100000),
        (2000000, 100000),
        (2000001, 100000),
        (2000033, 100002),
        (2000034, 100002),
        (3000000, 150000),
        (99999999, 5000000),
        (100000000, 5000000),
        (100000001, 5000000),
        (100000017, 5000001),
        (100000033, 5000001),
        (100000034, 5000001),
        (100000050, 5000002),
        (100000099, 5000003),
        (499999999, 17000000),
        (500000000, 17000000),
        (500000001, 17000000),
        (500000017, 17000000),
        (500000033, 17000001),
        (500000034, 17000001),
        (500000050, 17000001),
        (500000099, 17000002),
        (999999999, 27000000),
        (1000000000, 27000000),
        (1000000001, 27000000),
        (1000000017, 27000000),
        (1000000033, 27000000),
        (1000000034, 27000000),
        (1000000050, 27000001),
        (1000000099, 27000001),
        (4999999999, 67000000),
        (5000000000, 67000000),
        (5000000001, 67000000),
        (5000000017, 67000000),
        (5000000033, 67000000),
        (5000000034, 67000000),
        (5000000050, 67000000),
        (5000000099, 67000001),
        (9999999999, 102000000),
        (10000000000, 102000000),
        (10000000001, 102000000),
        (10000000017, 102000000),
        (10000000033, 102000000),
        (10000000034, 102000000),
        (10000000050, 102000000),
        (10000000099, 102000000),
        (350000000, 12500000),
        (12345678901, 113728395),
        (100000000000000, 500052000000),
    ];
    const CHONGQING_CASES: &[(i64, i64)] = &[
        (1, 0),
        (2, 0),
        (9, 0),
        (10, 0),
        (11, 0),
        (71, 0),
        (72, 1),
        (99, 1),
        (100, 1),
        (101, 1),
        (1999999, 14000),
        (2000000, 14000),
        (2000001, 14000),
        (2000033, 14000),
        (2000034, 14000),
        (3000000, 21000),
        (99999999, 700000),
        (100000000, 700000),
        (100000001, 700000),
        (100000017, 700000),
        (100000033, 700000),
        (100000034, 700000),
        (100000050, 700000),
        (100000099, 700000),
        (499999999, 2700000),
        (500000000, 2700000),
        (500000001, 2700000),
        (500000017, 2700000),
        (500000033, 2700000),
        (500000034, 2700000),
        (500000050, 2700000),
        (500000099, 2700000),
        (999999999, 4700000),
        (1000000000, 4700000),
        (1000000001, 4700000),
        (1000000017, 4700000),
        (1000000033, 4700000),
        (1000000034, 4700000),
        (1000000050, 4700000),
        (1000000099, 4700000),
        (4999999999, 16700000),
        (5000000000, 16700000),
        (5000000001, 16700000),
        (5000000017, 16700000),
        (5000000033, 16700000),
        (5000000034, 16700000),
        (5000000050, 16700000),
        (5000000099, 16700000),
        (9999999999, 26700000),
        (10000000000, 26700000),
        (10000000001, 26700000),
        (10000000017, 26700000),
        (10000000033, 26700000),
        (10000000034, 26700000),
        (10000000050, 26700000),
        (10000000099, 26700000),
        (350000000, 1950000),
        (12345678901, 29045679),
        (100000000000000, 100016700000),
    ];
    const UNIFIED_CASES: &[(i64, i64)] = &[
        (1, 1),
        (2, 2),
        (9, 9),
        (10, 10),
        (11, 11),
        (71, 71),
        (72, 72),
        (99, 99),
        (100, 100),
        (101, 101),
        (1999999, 30000),
        (2000000, 30000),
        (2000001, 30000),
        (2000033, 30000),
        (2000034, 30001),
        (3000000, 45000),
        (99999999, 1500000),
        (100000000, 1500000),
        (100000001, 1500000),
        (100000017, 1500000),
        (100000033, 1500000),
        (100000034, 1500000),
        (100000050, 1500001),
        (100000099, 1500001),
        (499999999, 5500000),
        (500000000, 5500000),
        (500000001, 5500000),
        (500000017, 5500000),
        (500000033, 5500000),
        (500000034, 5500000),
        (500000050, 5500000),
        (500000099, 5500001),
        (999999999, 9000000),
        (1000000000, 9000000),
        (1000000001, 9000000),
        (1000000017, 9000000),
        (1000000033, 9000000),
        (1000000034, 9000000),
        (1000000050, 9000000),
        (1000000099, 9000000),
        (4999999999, 25000000),
        (5000000000, 25000000),
        (5000000001, 25000000),
        (5000000017, 25000000),
        (5000000033, 25000000),
        (5000000034, 25000000),
        (5000000050, 25000000),
        (5000000099, 25000000),
        (9999999999, 35000000),
        (10000000000, 35000000),
        (10000000001, 35000000),
        (10000000017, 35000000),
        (10000000033, 35000000),
        (10000000034, 35000000),
        (10000000050, 35000000),
        (10000000099, 35000000),
        (350000000, 4000000),
        (12345678901, 37345679),
        (100000000000000, 100025000000),
    ];

    fn check(schedule: &FeeSchedule, cases: &[(i64, i64)]) {
        for &(amount, fee) in cases {
            let q = schedule.quote(amount);
            assert_eq!(q.buyer_fee_fen, fee, "buyer fee on {amount}");
            assert_eq!(q.seller_fee_fen, fee, "seller fee on {amount}");
            assert_eq!(q.total_fee_fen, 2 * fee, "total fee on {amount}");
        }
    }

    #[test]
    fn legacy_sichuan_fees_at_every_band_edge() {
        check(&legacy_sichuan(), SICHUAN_CASES);
    }

    #[test]
    fn legacy_chongqing_fees_at_every_band_edge() {
        check(&legacy_chongqing(), CHONGQING_CASES);
    }

    #[test]
    fn unified_v1_fees_at_every_band_edge() {
        check(&unified_v1(), UNIFIED_CASES);
    }

    #[test]
    fn the_built_in_schedules_are_valid() {
        for s in [legacy_sichuan(), legacy_chongqing(), unified_v1()] {
            let mut errs = FieldErrors::new();
            s.validate(&mut errs);
            assert_eq!(errs, FieldErrors::new());
        }
    }

    #[test]
    fn cap_and_minimum_apply_after_rounding_and_never_exceed_the_amount() {
        let side = SideSchedule {
            bands: vec![Band {
                up_to_fen: None,
                rate_ppm: 10_000,
            }],
            min_fee_fen: 500,
            max_fee_fen: Some(2_000),
        };
        assert_eq!(side.fee(1), 1); // min 500 > amount 1
        assert_eq!(side.fee(499), 499);
        assert_eq!(side.fee(10_000), 500); // raw 100 → min
        assert_eq!(side.fee(100_000), 1_000);
        assert_eq!(side.fee(1_000_000), 2_000); // raw 10 000 → cap
        assert_eq!(side.fee(0), 0);
        assert_eq!(side.fee(-5), 0);
        let no_bands = SideSchedule {
            bands: vec![],
            min_fee_fen: 0,
            max_fee_fen: None,
        };
        assert_eq!(no_bands.fee(1_000), 0);
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let side = SideSchedule {
            bands: vec![Band {
                up_to_fen: None,
                rate_ppm: i64::MAX,
            }],
            min_fee_fen: 0,
            max_fee_fen: None,
        };
        assert_eq!(side.fee(i64::MAX), i64::MAX);
        assert_eq!(
            unified_v1().quote(i64::MAX).buyer_fee_fen,
            9_223_372_061_854_776
        );
    }

    #[test]
    fn effective_rate_rounds_half_up() {
        assert_eq!(effective_rate_ppm(12_500_000, 350_000_000), 35_714);
        assert_eq!(effective_rate_ppm(1, 2), 500_000);
        assert_eq!(effective_rate_ppm(1, 3), 333_333);
        assert_eq!(effective_rate_ppm(2, 3), 666_667);
        assert_eq!(effective_rate_ppm(5, 0), 0);
    }

    #[test]
    fn schedules_round_trip_through_json_with_null_bounds() {
        let json = serde_json::to_value(unified_v1()).unwrap();
        assert_eq!(
            json["buyer"]["bands"][5]["up_to_fen"],
            serde_json::Value::Null
        );
        assert_eq!(json["seller"]["bands"][0]["up_to_fen"], 100_000_000);
        assert_eq!(json["seller"]["min_fee_fen"], 30_000);
        assert_eq!(json["seller"]["max_fee_fen"], serde_json::Value::Null);
        let back: FeeSchedule = serde_json::from_value(json).unwrap();
        assert_eq!(back, unified_v1());
    }

    fn paths_and_keys(errs: &FieldErrors) -> Vec<(&str, &str)> {
        errs.iter().map(|e| (e.path.as_str(), e.key)).collect()
    }

    #[test]
    fn validation_names_every_bad_field() {
        let s = FeeSchedule {
            buyer: SideSchedule {
                bands: vec![
                    Band {
                        up_to_fen: Some(1_000),
                        rate_ppm: 10_000,
                    },
                    Band {
                        up_to_fen: Some(1_000),
                        rate_ppm: 1_000_001,
                    },
                    Band {
                        up_to_fen: None,
                        rate_ppm: -1,
                    },
                    Band {
                        up_to_fen: Some(5_000),
                        rate_ppm: 0,
                    },
                ],
                min_fee_fen: -1,
                max_fee_fen: Some(-2),
            },
            seller: SideSchedule {
                bands: vec![
                    Band {
                        up_to_fen: Some(0),
                        rate_ppm: 0,
                    },
                    Band {
                        up_to_fen: Some(MAX_AMOUNT_FEN + 1),
                        rate_ppm: 0,
                    },
                    Band {
                        up_to_fen: None,
                        rate_ppm: 1_000_000,
                    },
                ],
                min_fee_fen: 500,
                max_fee_fen: Some(499),
            },
        };
        let mut errs = FieldErrors::new();
        s.validate(&mut errs);
        assert_eq!(
            paths_and_keys(&errs),
            vec![
                ("buyer.bands[1].up_to_fen", "err.fees.bands_not_increasing"),
                ("buyer.bands[1].rate_ppm", "err.fees.rate_out_of_range"),
                ("buyer.bands[2].up_to_fen", "err.fees.band_unbounded"),
                ("buyer.bands[2].rate_ppm", "err.fees.rate_out_of_range"),
                ("buyer.bands[3].up_to_fen", "err.fees.last_band_bounded"),
                ("buyer.min_fee_fen", "err.fees.negative_fee"),
                ("buyer.max_fee_fen", "err.fees.negative_fee"),
                ("seller.bands[0].up_to_fen", "err.fees.up_to_not_positive"),
                ("seller.bands[1].up_to_fen", "err.fees.up_to_too_large"),
                ("seller.max_fee_fen", "err.fees.cap_below_min"),
            ]
        );
        assert_eq!(
            errs.get("buyer.bands[1].up_to_fen")
                .unwrap()
                .arg("previous"),
            Some("¥10.00")
        );
        assert_eq!(
            errs.get("seller.max_fee_fen").unwrap().arg("min"),
            Some("¥5.00")
        );
    }

    #[test]
    fn a_schedule_without_bands_is_refused() {
        let side = SideSchedule {
            bands: vec![],
            min_fee_fen: 0,
            max_fee_fen: None,
        };
        let mut errs = FieldErrors::new();
        side.validate("", &mut errs);
        assert_eq!(paths_and_keys(&errs), vec![("bands", "err.fees.no_bands")]);
    }

    #[test]
    fn a_single_unbounded_band_with_equal_min_and_cap_is_valid() {
        let side = SideSchedule {
            bands: vec![Band {
                up_to_fen: None,
                rate_ppm: 0,
            }],
            min_fee_fen: 100,
            max_fee_fen: Some(100),
        };
        let mut errs = FieldErrors::new();
        side.validate("seller", &mut errs);
        assert!(errs.is_empty());
    }

    /// Any valid side schedule: 1–7 increasing bands, rates 0–100 %, min and optional cap ≥ min.
    fn valid_side() -> impl Strategy<Value = SideSchedule> {
        (
            proptest::collection::btree_set(1i64..=MAX_AMOUNT_FEN, 0..6),
            proptest::collection::vec(0i64..=MAX_RATE_PPM, 7),
            0i64..=10_000_000,
            proptest::option::of(0i64..=1_000_000_000),
        )
            .prop_map(|(edges, rates, min_fee_fen, extra)| {
                let mut bands: Vec<Band> = edges
                    .into_iter()
                    .zip(&rates)
                    .map(|(e, &rate_ppm)| Band {
                        up_to_fen: Some(e),
                        rate_ppm,
                    })
                    .collect();
                bands.push(Band {
                    up_to_fen: None,
                    rate_ppm: rates[6],
                });
                SideSchedule {
                    bands,
                    min_fee_fen,
                    max_fee_fen: extra.map(|x| min_fee_fen + x),
                }
            })
    }

    fn fixed_sides() -> impl Strategy<Value = SideSchedule> {
        proptest::sample::select(vec![
            legacy_sichuan().buyer,
            legacy_chongqing().buyer,
            unified_v1().buyer,
        ])
    }

    /// Numbers a schedule's JSON may carry: ordinary ones and the extremes of i64 and beyond.
    fn json_number() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            (-1_000_000i64..=2_000_000_000_000).prop_map(serde_json::Value::from),
            proptest::sample::select(vec![
                i64::MIN,
                -1,
                0,
                1,
                MAX_AMOUNT_FEN,
                MAX_AMOUNT_FEN + 1,
                i64::MAX
            ])
            .prop_map(serde_json::Value::from),
            Just(serde_json::json!(1e300)),
            Just(serde_json::json!(0.5)),
            Just(serde_json::Value::Null),
            Just(serde_json::json!("100")),
        ]
    }

    /// One side of fee-schedule JSON as a client may send it: the right shape with any numbers,
    /// bands missing or many, members of the wrong type.
    fn side_json() -> impl Strategy<Value = serde_json::Value> {
        let band = (json_number(), json_number())
            .prop_map(|(u, r)| serde_json::json!({"up_to_fen": u, "rate_ppm": r}));
        (
            proptest::collection::vec(band, 0..9),
            json_number(),
            json_number(),
            any::<bool>(),
        )
            .prop_map(|(bands, min, max, as_object)| {
                if as_object {
                    serde_json::json!({"bands": bands, "min_fee_fen": min, "max_fee_fen": max})
                } else {
                    serde_json::json!(bands)
                }
            })
    }

    fn schedule_json() -> impl Strategy<Value = serde_json::Value> {
        // Valid sides too, so that the fee checks below run on many schedules.
        let side = || {
            prop_oneof![
                side_json(),
                valid_side().prop_map(|s| serde_json::to_value(s).unwrap_or_default()),
            ]
        };
        (side(), side()).prop_map(|(b, s)| serde_json::json!({"buyer": b, "seller": s}))
    }

    proptest! {
        /// Fuzz target: any schedule JSON either fails to read, or fails validation naming a field,
        /// or is a schedule whose fees for every amount lie between 0 and the amount, with the total
        /// the sum of the sides; computing a fee never panics, valid or not.
        #[test]
        fn any_schedule_json_is_refused_or_charges_sane_fees(
            json in schedule_json(),
            amounts in proptest::collection::vec(prop_oneof![1i64..1_000_000, 1i64..=MAX_AMOUNT_FEN], 1..6),
        ) {
            let Ok(schedule) = serde_json::from_value::<FeeSchedule>(json) else {
                return Ok(());
            };
            for &a in amounts.iter().chain([&1, &MAX_AMOUNT_FEN, &-5, &i64::MAX]) {
                let _ = schedule.quote(a);
            }
            let mut errs = FieldErrors::new();
            schedule.validate(&mut errs);
            if !errs.is_empty() {
                prop_assert!(errs.0.iter().all(|e| e.path.starts_with("buyer") || e.path.starts_with("seller")));
                return Ok(());
            }
            for &a in amounts.iter().chain([&1, &MAX_AMOUNT_FEN]) {
                let q = schedule.quote(a);
                prop_assert!((0..=a).contains(&q.buyer_fee_fen), "buyer fee {} on {}", q.buyer_fee_fen, a);
                prop_assert!((0..=a).contains(&q.seller_fee_fen), "seller fee {} on {}", q.seller_fee_fen, a);
                prop_assert_eq!(q.total_fee_fen, q.buyer_fee_fen + q.seller_fee_fen);
            }
        }

        #[test]
        fn generated_schedules_pass_validation(side in valid_side()) {
            let mut errs = FieldErrors::new();
            side.validate("buyer", &mut errs);
            prop_assert!(errs.is_empty(), "{}", errs);
        }

        #[test]
        fn fee_never_decreases_with_the_amount(
            side in prop_oneof![valid_side(), fixed_sides()],
            a in 1i64..MAX_AMOUNT_FEN,
            d in prop_oneof![Just(1i64), 1i64..1_000_000_000_000],
        ) {
            let b = a.saturating_add(d).min(MAX_AMOUNT_FEN);
            prop_assert!(side.fee(a) <= side.fee(b), "fee({}) > fee({})", a, b);
        }

        #[test]
        fn fee_stays_between_the_minimum_and_the_amount_and_below_the_cap(
            side in prop_oneof![valid_side(), fixed_sides()],
            a in prop_oneof![1i64..1_000_000, 1i64..=MAX_AMOUNT_FEN],
        ) {
            let fee = side.fee(a);
            prop_assert!(fee >= side.min_fee_fen.min(a));
            prop_assert!(fee <= a);
            if let Some(cap) = side.max_fee_fen {
                prop_assert!(fee <= cap);
            }
        }

        #[test]
        fn one_more_wan_inside_a_band_costs_exactly_the_band_rate(
            side in fixed_sides(),
            band in 0usize..6,
            offset in 0i64..1_000_000_000_000,
        ) {
            let lower = if band == 0 { 2_000_000 } else { STANDARD_BAND_EDGES_FEN[band - 1] };
            let upper = STANDARD_BAND_EDGES_FEN.get(band).copied().unwrap_or(MAX_AMOUNT_FEN);
            let a = lower + offset % (upper - lower - FEN_PER_WAN);
            prop_assume!(side.fee(a) > side.min_fee_fen);
            let delta = side.fee(a + FEN_PER_WAN) - side.fee(a);
            // Δraw is exactly rate × 10^6, so the single rounding cannot move the difference.
            prop_assert_eq!(delta, side.bands[band].rate_ppm);
        }
    }
}
