//! Matching technology demands with listings: a 0–100 score with the reasons behind it.
//!
//! # The formula
//!
//! Relevance comes first: a listing that shares no concept or word with the demand (see
//! [`relevance`](super::relevance)) is not a match: its score is 0 with one reason, `keywords`, that says so.
//! Otherwise the score is the sum of five parts (at most 15 + 60 + 10 + 10 + 5 = 100). The four fit parts
//! (field, budget, maturity, region) count in full from a relevance of 50% ([`FULL_FIT_RELEVANCE`]) and in
//! proportion below it (each rounded half up), so that field, budget and readiness cannot lift a listing
//! that hardly answers the demand above one that does:
//!
//! - **field** (15): same field 15; a related field ([`related_fields`], e.g. auto ↔ ai/eit,
//!   aerospace ↔ energy) 8; otherwise 0. The field is a hint: a listing of another field that answers
//!   the demand still ranks above one of the same field that does not.
//! - **keywords** (60): `60 × √r`, rounded half up, where `r` is the relevance (the weighted share of the
//!   demand's concepts and words that the listing answers, across Chinese and English, through synonyms,
//!   broader and related concepts of the vocabulary). The reason names the strongest bridges
//!   (`thermal spray coating ↔ 热喷涂涂层`).
//! - **budget** (10): price within `[budget_min, budget_max]` 10; below the minimum 8; unknown price or no
//!   budget 5; above the maximum `10 × (2·max − price) / max` (rounded down, 0 from twice the maximum on).
//! - **maturity** (10): TRL ≥ 7 → 10, 5–6 → 7, 3–4 → 4, else 1.
//! - **region** (5): always 5, within one province (同省) or across the provincial line (跨省协同): a
//!   cross-province match never scores lower than the same match within one province.
//!
//! All arithmetic is on integers, and reasons come in a fixed order, so the result is deterministic.
//! Reasons are listed for field and keywords when they earn points, and always for budget, maturity
//! and region.

use super::codes::{code_enum, trl_name_en, trl_name_zh, Field, Province};
use super::error::Args;
use super::money::format_yuan;
use super::relevance::{relevance, Profile, Query};
use super::vocabulary::Vocabulary;

pub const FIELD_SAME_POINTS: u8 = 15;
pub const FIELD_RELATED_POINTS: u8 = 8;
pub const KEYWORDS_MAX_POINTS: u8 = 60;
pub const BUDGET_MAX_POINTS: u8 = 10;
pub const BUDGET_BELOW_MIN_POINTS: u8 = 8;
pub const BUDGET_UNKNOWN_POINTS: u8 = 5;
pub const MATURITY_MAX_POINTS: u8 = 10;
pub const REGION_POINTS: u8 = 5;

/// Pairs of fields close enough to earn [`FIELD_RELATED_POINTS`] (symmetric).
const RELATED: &[(Field, Field)] = &[
    (Field::Auto, Field::Ai),
    (Field::Auto, Field::Eit),
    (Field::Auto, Field::Ic),
    (Field::Auto, Field::Energy),
    (Field::Auto, Field::Equipment),
    (Field::Eit, Field::Ic),
    (Field::Eit, Field::Ai),
    (Field::Eit, Field::Digital),
    (Field::Eit, Field::Rail),
    (Field::Ic, Field::Ai),
    (Field::Ic, Field::Materials),
    (Field::Ai, Field::Digital),
    (Field::Equipment, Field::Aerospace),
    (Field::Equipment, Field::Rail),
    (Field::Equipment, Field::Materials),
    (Field::Aerospace, Field::Energy),
    (Field::Aerospace, Field::Materials),
    (Field::Materials, Field::Energy),
    (Field::Energy, Field::Eco),
    (Field::Biomed, Field::Tcm),
    (Field::Biomed, Field::Food),
    (Field::Tcm, Field::Agri),
    (Field::Agri, Field::Food),
    (Field::Agri, Field::Eco),
];

/// Whether two different fields are related (see the table in the source).
pub fn related_fields(a: Field, b: Field) -> bool {
    RELATED
        .iter()
        .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
}

/// What matching needs to know about a demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandFacts {
    pub field: Field,
    pub province: Province,
    /// The units of title, keywords and description.
    pub query: Query,
    pub budget_min_fen: Option<i64>,
    pub budget_max_fen: Option<i64>,
}

/// What matching needs to know about a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingFacts {
    pub field: Field,
    pub province: Province,
    /// The profile of title, keywords, summary and description.
    pub profile: Profile,
    /// Fixed price, auction start price, or a negotiable listing's indicative price.
    pub price_hint_fen: Option<i64>,
    pub trl: u8,
}

code_enum! {
    /// Which part of the score a reason explains.
    ReasonCode {
        Field => "field", "领域", "Field";
        Keywords => "keywords", "关键词", "Keywords";
        Budget => "budget", "预算", "Budget";
        Maturity => "maturity", "成熟度", "Maturity";
        Region => "region", "地区", "Region";
    }
}

/// One part of a score, explained by a translation key and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub points: u8,
    pub detail_key: &'static str,
    pub args: Args,
}

/// A demand–listing score (0–100) with its reasons, in the order field, keywords, budget, maturity, region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub score: u8,
    pub reasons: Vec<Reason>,
    /// Whether the listing shares a concept or word with the demand at all (otherwise the score is 0).
    pub relevant: bool,
}

fn reason(code: ReasonCode, points: u8, detail_key: &'static str, args: Args) -> Reason {
    Reason {
        code,
        points,
        detail_key,
        args,
    }
}

/// `num / den` rounded half up, for non-negative values; 0 when `den` is 0.
fn div_round(num: u128, den: u128) -> u128 {
    if den == 0 {
        0
    } else {
        (2 * num + den) / (2 * den)
    }
}

fn field_reason(demand: Field, listing: Field) -> Option<Reason> {
    let args = || {
        vec![
            ("field_zh", listing.name_zh().to_string()),
            ("field_en", listing.name_en().to_string()),
        ]
    };
    if demand == listing {
        Some(reason(
            ReasonCode::Field,
            FIELD_SAME_POINTS,
            "match.field.same",
            args(),
        ))
    } else if related_fields(demand, listing) {
        Some(reason(
            ReasonCode::Field,
            FIELD_RELATED_POINTS,
            "match.field.related",
            args(),
        ))
    } else {
        None
    }
}

/// Integer square root of a per-mille value, per mille: √(x/1000) × 1000.
fn sqrt_permille(x: u32) -> u32 {
    (u64::from(x) * 1000).isqrt() as u32
}

/// The relevance (per mille) from which the fit parts count in full: below it they count in proportion.
pub const FULL_FIT_RELEVANCE: u32 = 500;

/// The keywords reason, and the relevance (per mille; `None` when nothing is shared).
fn keywords_reason(
    vocab: &Vocabulary,
    demand: &DemandFacts,
    listing: &ListingFacts,
) -> (Option<u32>, Reason) {
    let r = relevance(vocab, &demand.query, &listing.profile);
    if !r.shared {
        return (
            None,
            reason(ReasonCode::Keywords, 0, "match.keywords.none", vec![]),
        );
    }
    let max = u32::from(KEYWORDS_MAX_POINTS);
    let points = div_round(u128::from(max * sqrt_permille(r.permille.min(1000))), 1000) as u8;
    let labels: Vec<String> = r.bridges.iter().map(|b| b.label()).collect();
    (
        Some(r.permille),
        reason(
            ReasonCode::Keywords,
            points,
            "match.keywords.shared",
            vec![
                ("terms_zh", labels.join("、")),
                ("terms_en", labels.join(", ")),
                ("percent", div_round(u128::from(r.permille), 10).to_string()),
            ],
        ),
    )
}

fn budget_reason(demand: &DemandFacts, listing: &ListingFacts) -> Reason {
    let Some(price) = listing.price_hint_fen else {
        return reason(
            ReasonCode::Budget,
            BUDGET_UNKNOWN_POINTS,
            "match.budget.unknown_price",
            vec![],
        );
    };
    let price_arg = ("price", format_yuan(price));
    match (demand.budget_min_fen, demand.budget_max_fen) {
        (None, None) => reason(
            ReasonCode::Budget,
            BUDGET_UNKNOWN_POINTS,
            "match.budget.no_budget",
            vec![price_arg],
        ),
        (_, Some(max)) if price > max => {
            let points = if max <= 0 || price >= max.saturating_mul(2) {
                0
            } else {
                (i128::from(BUDGET_MAX_POINTS) * (2 * i128::from(max) - i128::from(price))
                    / i128::from(max)) as u8
            };
            let over = if max > 0 {
                div_round(
                    100 * (i128::from(price) - i128::from(max)) as u128,
                    max as u128,
                )
                .to_string()
            } else {
                "100".to_string()
            };
            reason(
                ReasonCode::Budget,
                points,
                "match.budget.above_max",
                vec![price_arg, ("max", format_yuan(max)), ("percent_over", over)],
            )
        }
        (Some(min), _) if price < min => reason(
            ReasonCode::Budget,
            BUDGET_BELOW_MIN_POINTS,
            "match.budget.below_min",
            vec![price_arg, ("min", format_yuan(min))],
        ),
        _ => reason(
            ReasonCode::Budget,
            BUDGET_MAX_POINTS,
            "match.budget.within",
            vec![price_arg],
        ),
    }
}

/// Points for a technology readiness level.
pub fn maturity_points(trl: u8) -> u8 {
    match trl {
        7.. => 10,
        5..=6 => 7,
        3..=4 => 4,
        _ => 1,
    }
}

fn maturity_reason(trl: u8) -> Reason {
    reason(
        ReasonCode::Maturity,
        maturity_points(trl),
        "match.maturity",
        vec![
            ("trl", trl.to_string()),
            ("trl_name_zh", trl_name_zh(trl).unwrap_or("").to_string()),
            ("trl_name_en", trl_name_en(trl).unwrap_or("").to_string()),
        ],
    )
}

fn region_reason(demand: Province, listing: Province) -> Reason {
    let same = demand == listing && demand != Province::Other;
    reason(
        ReasonCode::Region,
        REGION_POINTS,
        if same {
            "match.region.same_province"
        } else {
            "match.region.cross_province"
        },
        vec![
            ("demand_province_zh", demand.name_zh().to_string()),
            ("demand_province_en", demand.name_en().to_string()),
            ("listing_province_zh", listing.name_zh().to_string()),
            ("listing_province_en", listing.name_en().to_string()),
        ],
    )
}

/// Score how well `listing` answers `demand` (see the module doc for the formula).
pub fn score(vocab: &Vocabulary, demand: &DemandFacts, listing: &ListingFacts) -> Match {
    let (relevance, keywords) = keywords_reason(vocab, demand, listing);
    let Some(relevance) = relevance else {
        return Match {
            score: 0,
            reasons: vec![keywords],
            relevant: false,
        };
    };
    // The fit parts count in proportion to relevance up to FULL_FIT_RELEVANCE.
    let gate = u128::from(relevance.min(FULL_FIT_RELEVANCE));
    let fit = |mut r: Reason| {
        r.points = div_round(u128::from(r.points) * gate, u128::from(FULL_FIT_RELEVANCE)) as u8;
        r
    };
    let mut reasons = Vec::with_capacity(5);
    reasons.extend(field_reason(demand.field, listing.field).map(fit));
    reasons.push(keywords);
    reasons.push(fit(budget_reason(demand, listing)));
    reasons.push(fit(maturity_reason(listing.trl)));
    reasons.push(fit(region_reason(demand.province, listing.province)));
    let total: u32 = reasons.iter().map(|r| u32::from(r.points)).sum();
    Match {
        score: total.min(100) as u8,
        reasons,
        relevant: true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::relevance::Zone;
    use crate::domain::vocabulary::vocabulary;
    use proptest::prelude::*;

    fn query(title: &str, keywords: &[&str], description: &str) -> Query {
        let mut texts = vec![(Zone::Title, title), (Zone::Description, description)];
        texts.extend(keywords.iter().map(|k| (Zone::Keywords, *k)));
        Query::of(vocabulary(), &texts)
    }

    fn profile(title: &str, keywords: &[&str], summary: &str) -> Profile {
        let mut texts = vec![(Zone::Title, title), (Zone::Summary, summary)];
        texts.extend(keywords.iter().map(|k| (Zone::Keywords, *k)));
        Profile::of(vocabulary(), &texts)
    }

    fn demand() -> DemandFacts {
        DemandFacts {
            field: Field::Aerospace,
            province: Province::Chongqing,
            query: query(
                "寻求重型燃气轮机叶片冷却技术",
                &["燃气轮机", "叶片冷却"],
                "我们希望引进燃气轮机叶片冷却技术",
            ),
            budget_min_fen: Some(100_000_000),
            budget_max_fen: Some(500_000_000),
        }
    }

    fn gas_turbine() -> ListingFacts {
        ListingFacts {
            field: Field::Aerospace,
            province: Province::Sichuan,
            profile: profile(
                "F级50兆瓦重型燃气轮机",
                &["燃气轮机", "重型燃机"],
                "重型燃气轮机整机设计与叶片冷却",
            ),
            price_hint_fen: Some(350_000_000),
            trl: 7,
        }
    }

    fn score_of(d: &DemandFacts, l: &ListingFacts) -> Match {
        score(vocabulary(), d, l)
    }

    #[test]
    fn a_close_match_scores_high_with_all_reasons() {
        let m = score_of(&demand(), &gas_turbine());
        let codes: Vec<_> = m.reasons.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            [
                ReasonCode::Field,
                ReasonCode::Keywords,
                ReasonCode::Budget,
                ReasonCode::Maturity,
                ReasonCode::Region
            ]
        );
        assert!(m.relevant);
        assert_eq!(m.reasons[0].points, 15);
        assert_eq!(m.reasons[1].detail_key, "match.keywords.shared");
        assert!(m.reasons[1].args[0].1.contains("燃气轮机"), "{m:?}");
        assert_eq!(m.reasons[2].points, 10);
        assert_eq!(m.reasons[3].points, 10);
        assert_eq!(m.reasons[4].detail_key, "match.region.cross_province");
        let sum: u32 = m.reasons.iter().map(|r| u32::from(r.points)).sum();
        assert_eq!(u32::from(m.score), sum);
        assert!(m.score >= 80, "{m:?}");
    }

    #[test]
    fn keyword_points_are_sixty_times_the_square_root_of_relevance() {
        assert_eq!(sqrt_permille(1000), 1000);
        assert_eq!(sqrt_permille(250), 500);
        assert_eq!(sqrt_permille(0), 0);
        let d = demand();
        let l = gas_turbine();
        let r = relevance(vocabulary(), &d.query, &l.profile);
        let m = score_of(&d, &l);
        let kw = m
            .reasons
            .iter()
            .find(|r| r.code == ReasonCode::Keywords)
            .unwrap();
        let expected = div_round(u128::from(60 * sqrt_permille(r.permille)), 1000) as u8;
        assert_eq!(kw.points, expected);
        assert_eq!(
            kw.args[2],
            ("percent", div_round(u128::from(r.permille), 10).to_string())
        );
    }

    #[test]
    fn an_english_demand_finds_the_chinese_listing_and_names_the_bridge() {
        let d = DemandFacts {
            field: Field::Energy,
            province: Province::Sichuan,
            query: query(
                "Thermal spray coatings for hydraulic turbine runners",
                &["thermal spray", "hydro turbine"],
                "",
            ),
            budget_min_fen: None,
            budget_max_fen: None,
        };
        let l = ListingFacts {
            field: Field::Materials,
            province: Province::Sichuan,
            profile: profile("水轮机转轮热喷涂涂层技术", &["热喷涂", "水轮机转轮"], ""),
            price_hint_fen: None,
            trl: 8,
        };
        let m = score_of(&d, &l);
        assert!(m.relevant);
        let kw = m
            .reasons
            .iter()
            .find(|r| r.code == ReasonCode::Keywords)
            .unwrap();
        assert!(kw.points >= 45, "{m:?}");
        assert!(kw.args[1].1.contains("↔ 热喷涂"), "{:?}", kw.args);
        // materials and energy are related: a hint, 8 points.
        assert_eq!(m.reasons[0].points, FIELD_RELATED_POINTS);
    }

    #[test]
    fn a_listing_sharing_nothing_is_not_a_match_and_says_why() {
        let d = DemandFacts {
            field: Field::Auto,
            province: Province::Chongqing,
            query: query("寻求自动紧急制动算法", &["自动紧急制动", "AEB"], ""),
            budget_min_fen: Some(200_000_000),
            budget_max_fen: Some(800_000_000),
        };
        let l = ListingFacts {
            field: Field::Energy,
            province: Province::Chongqing,
            profile: profile("页岩气地震勘探与甜点预测技术", &["页岩气勘探"], ""),
            price_hint_fen: Some(300_000_000),
            trl: 9,
        };
        let m = score_of(&d, &l);
        assert!(!m.relevant);
        assert_eq!(m.score, 0);
        assert_eq!(m.reasons.len(), 1);
        assert_eq!(m.reasons[0].code, ReasonCode::Keywords);
        assert_eq!(m.reasons[0].detail_key, "match.keywords.none");
    }

    #[test]
    fn the_field_is_a_hint_not_a_filter() {
        // The right listing in another field beats a same-field listing that only shares the field.
        let d = DemandFacts {
            field: Field::Agri,
            province: Province::Chongqing,
            query: query(
                "猪舍氨气味大，工人受不了，环保也不达标",
                &["养猪场", "气味"],
                "",
            ),
            budget_min_fen: None,
            budget_max_fen: None,
        };
        let remedy = ListingFacts {
            field: Field::Eco,
            province: Province::Chongqing,
            profile: profile("畜禽舍氨气生物除臭技术", &["生物除臭", "氨气"], ""),
            price_hint_fen: None,
            trl: 8,
        };
        let same_field = ListingFacts {
            field: Field::Agri,
            profile: profile("优质杂交水稻新品种", &["杂交水稻"], ""),
            ..remedy.clone()
        };
        let a = score_of(&d, &remedy);
        let b = score_of(&d, &same_field);
        assert!(a.score > b.score, "{a:?} vs {b:?}");
    }

    #[test]
    fn related_fields_earn_a_little() {
        assert!(related_fields(Field::Auto, Field::Ai));
        assert!(related_fields(Field::Ai, Field::Auto));
        assert!(related_fields(Field::Energy, Field::Aerospace));
        assert!(!related_fields(Field::Food, Field::Ic));
        let mut l = gas_turbine();
        l.field = Field::Energy;
        let m = score_of(&demand(), &l);
        assert_eq!(m.reasons[0].points, 8);
        assert_eq!(m.reasons[0].detail_key, "match.field.related");
    }

    #[test]
    fn budget_points_by_price() {
        let d = demand(); // 100万–500万
        let points = |price: Option<i64>| {
            let l = ListingFacts {
                price_hint_fen: price,
                ..gas_turbine()
            };
            let r = budget_reason(&d, &l);
            (r.points, r.detail_key)
        };
        assert_eq!(points(None), (5, "match.budget.unknown_price"));
        assert_eq!(points(Some(100_000_000)), (10, "match.budget.within"));
        assert_eq!(points(Some(500_000_000)), (10, "match.budget.within"));
        assert_eq!(points(Some(99_999_999)), (8, "match.budget.below_min"));
        assert_eq!(points(Some(500_000_001)), (9, "match.budget.above_max"));
        assert_eq!(points(Some(750_000_000)), (5, "match.budget.above_max"));
        assert_eq!(points(Some(999_999_999)), (0, "match.budget.above_max"));
        assert_eq!(points(Some(1_000_000_000)), (0, "match.budget.above_max"));
        let no_budget = DemandFacts {
            budget_min_fen: None,
            budget_max_fen: None,
            ..demand()
        };
        assert_eq!(
            budget_reason(&no_budget, &gas_turbine()).detail_key,
            "match.budget.no_budget"
        );
        let r = budget_reason(
            &d,
            &ListingFacts {
                price_hint_fen: Some(750_000_000),
                ..gas_turbine()
            },
        );
        assert_eq!(r.args[2], ("percent_over", "50".to_string()));
    }

    #[test]
    fn maturity_points_by_trl() {
        let got: Vec<u8> = (0..=9).map(maturity_points).collect();
        assert_eq!(got, [1, 1, 1, 4, 4, 7, 7, 10, 10, 10]);
    }

    #[test]
    fn same_province_gets_the_same_five_points() {
        let l = ListingFacts {
            province: Province::Chongqing,
            ..gas_turbine()
        };
        let r = score_of(&demand(), &l).reasons.pop().unwrap();
        assert_eq!(r.points, 5);
        assert_eq!(r.detail_key, "match.region.same_province");
        assert_eq!(
            region_reason(Province::Other, Province::Other).detail_key,
            "match.region.cross_province"
        );
    }

    fn field() -> impl Strategy<Value = Field> {
        proptest::sample::select(Field::ALL.to_vec())
    }

    fn province() -> impl Strategy<Value = Province> {
        proptest::sample::select(Province::ALL.to_vec())
    }

    fn words() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                "燃气轮机",
                "芯片",
                "模数转换",
                "叶片",
                "齿轮",
                "油菜",
                "页岩气",
                "turbine",
                "chip",
                "技术",
                "thermal spray",
                "热喷涂",
                "氨气味",
            ])
            .prop_map(String::from),
            0..5,
        )
    }

    fn texts(words: &[String]) -> Vec<(Zone, &str)> {
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                (
                    if i == 0 {
                        Zone::Title
                    } else {
                        Zone::Description
                    },
                    w.as_str(),
                )
            })
            .collect()
    }

    prop_compose! {
        fn demand_facts()(f in field(), p in province(), text in words(),
                          min in proptest::option::of(1i64..1_000_000_000),
                          span in proptest::option::of(0i64..1_000_000_000)) -> DemandFacts {
            DemandFacts {
                field: f,
                province: p,
                query: Query::of(vocabulary(), &texts(&text)),
                budget_min_fen: min,
                budget_max_fen: span.map(|s| min.unwrap_or(1) + s),
            }
        }
    }

    prop_compose! {
        fn listing_facts()(f in field(), p in province(), text in words(),
                           price in proptest::option::of(1i64..3_000_000_000), trl in 0u8..=9) -> ListingFacts {
            ListingFacts {
                field: f,
                province: p,
                profile: Profile::of(vocabulary(), &texts(&text)),
                price_hint_fen: price,
                trl,
            }
        }
    }

    proptest! {
        #[test]
        fn crossing_the_provincial_line_never_lowers_the_score(
            d in demand_facts(), l in listing_facts(), other in province(),
        ) {
            let same = ListingFacts { province: d.province, ..l.clone() };
            let cross = ListingFacts { province: other, ..l };
            prop_assume!(other != d.province);
            prop_assert!(score_of(&d, &cross).score >= score_of(&d, &same).score);
        }

        #[test]
        fn the_score_is_the_sum_of_its_parts_and_at_most_100(d in demand_facts(), l in listing_facts()) {
            let m = score_of(&d, &l);
            let sum: u32 = m.reasons.iter().map(|r| u32::from(r.points)).sum();
            prop_assert_eq!(u32::from(m.score), sum);
            prop_assert!(m.score <= 100);
            prop_assert_eq!(m.relevant, m.score > 0);
            prop_assert_eq!(score_of(&d, &l), m);
        }
    }
}
