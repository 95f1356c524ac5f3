//! Matching technology demands with listings: a 0–100 score with the reasons behind it.
//!
//! # The formula
//!
//! The score is the sum of five parts (at most 30 + 40 + 15 + 10 + 5 = 100):
//!
//! - **field** (30): same field 30; a related field ([`related_fields`], e.g. auto ↔ ai/eit,
//!   aerospace ↔ energy) 15; otherwise 0.
//! - **keywords** (40): how much of the demand the listing covers. Let `K` be the demand's keywords and
//!   `k` how many of them the listing contains (every token of the keyword among the listing's terms or
//!   keywords); let `D` be the demand's distinctive terms (its term set minus a short list of generic words
//!   such as 技术, 研发, the, technology) and `d` how many of them are among the listing's terms.
//!   Coverage is `(2·k/|K| + d/|D|) / 3` (keywords count double); with no keywords it is `d/|D|`, with no
//!   distinctive terms `k/|K|`. Points are `40 × coverage`, rounded half up.
//! - **budget** (15): price within `[budget_min, budget_max]` 15; below the minimum 12; unknown price or no
//!   budget 8; above the maximum `15 × (2·max − price) / max` (rounded down, 0 from twice the maximum on).
//! - **maturity** (10): TRL ≥ 7 → 10, 5–6 → 7, 3–4 → 4, else 1.
//! - **region** (5): always 5, within one province (同省) or across the provincial line (跨省协同): a
//!   cross-province match never scores lower than the same match within one province.
//!
//! All arithmetic is on integers, and reasons come in a fixed order, so the result is deterministic.
//! Reasons are listed for field and keywords when they earn points, and always for budget, maturity
//! and region.

use std::collections::HashSet;

use super::codes::{code_enum, trl_name_en, trl_name_zh, Field, Province};
use super::error::Args;
use super::money::format_yuan;
use super::text::term_set;

pub const FIELD_SAME_POINTS: u8 = 30;
pub const FIELD_RELATED_POINTS: u8 = 15;
pub const KEYWORDS_MAX_POINTS: u8 = 40;
pub const BUDGET_MAX_POINTS: u8 = 15;
pub const BUDGET_BELOW_MIN_POINTS: u8 = 12;
pub const BUDGET_UNKNOWN_POINTS: u8 = 8;
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

/// Generic terms that say nothing about what is wanted; they do not count as distinctive.
const GENERIC_TERMS: &[&str] = &[
    "技术",
    "研发",
    "开发",
    "需求",
    "寻求",
    "寻找",
    "合作",
    "项目",
    "企业",
    "公司",
    "产品",
    "应用",
    "系统",
    "研究",
    "解决",
    "方案",
    "提供",
    "进行",
    "我们",
    "希望",
    "相关",
    "以及",
    "具有",
    "实现",
    "能够",
    "基于",
    "一种",
    "方法",
    "装置",
    "问题",
    "提高",
    "生产",
    "用于",
    "工艺",
    "成果",
    "转化",
    "引进",
    "需要",
    "有限",
    "限公",
    "a",
    "an",
    "and",
    "for",
    "in",
    "of",
    "on",
    "or",
    "the",
    "to",
    "with",
    "technology",
];

/// What matching needs to know about a demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandFacts {
    pub field: Field,
    pub province: Province,
    /// [`term_set`] of title, description and keywords.
    pub terms: HashSet<String>,
    pub keywords: Vec<String>,
    pub budget_min_fen: Option<i64>,
    pub budget_max_fen: Option<i64>,
}

/// What matching needs to know about a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingFacts {
    pub field: Field,
    pub province: Province,
    /// [`term_set`] of title, summary, description and keywords.
    pub terms: HashSet<String>,
    pub keywords: Vec<String>,
    /// Fixed price, auction start price, or a negotiable listing's indicative price.
    pub price_hint_fen: Option<i64>,
    pub trl: u8,
}

/// The term set of several texts together (no bigram spans two texts).
pub fn terms_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    texts.into_iter().flat_map(term_set).collect()
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

fn keywords_reason(demand: &DemandFacts, listing: &ListingFacts) -> Option<Reason> {
    let listing_terms = &listing.terms;
    let listing_keyword_terms = terms_of(listing.keywords.iter().map(String::as_str));
    let has = |t: &str| listing_terms.contains(t) || listing_keyword_terms.contains(t);

    // Keywords: distinct (by their token sets), in the demand's order.
    let mut seen: Vec<HashSet<String>> = Vec::new();
    let mut matched: Vec<&str> = Vec::new();
    for kw in &demand.keywords {
        let tokens = term_set(kw);
        if tokens.is_empty() || seen.contains(&tokens) {
            continue;
        }
        if tokens.iter().all(|t| has(t)) {
            matched.push(kw.trim());
        }
        seen.push(tokens);
    }
    let k_total = seen.len() as u128;
    let k = matched.len() as u128;

    let distinctive: Vec<&String> = demand
        .terms
        .iter()
        .filter(|t| !GENERIC_TERMS.contains(&t.as_str()))
        .collect();
    let d_total = distinctive.len() as u128;
    let d = distinctive.iter().filter(|t| has(t)).count() as u128;

    let max = u128::from(KEYWORDS_MAX_POINTS);
    let points = match (k_total, d_total) {
        (0, 0) => 0,
        (0, _) => div_round(max * d, d_total),
        (_, 0) => div_round(max * k, k_total),
        // 40 × (2k/K + d/D) / 3
        _ => div_round(max * (2 * k * d_total + d * k_total), 3 * k_total * d_total),
    };
    if points == 0 {
        return None;
    }
    let points = points.min(max) as u8;
    let percent = div_round(100 * d, d_total).to_string();
    if matched.is_empty() {
        Some(reason(
            ReasonCode::Keywords,
            points,
            "match.keywords.overlap",
            vec![("percent", percent)],
        ))
    } else {
        Some(reason(
            ReasonCode::Keywords,
            points,
            "match.keywords.matched",
            vec![
                ("keywords_zh", matched.join("、")),
                ("keywords_en", matched.join(", ")),
                ("percent", percent),
            ],
        ))
    }
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
pub fn score(demand: &DemandFacts, listing: &ListingFacts) -> Match {
    let mut reasons = Vec::with_capacity(5);
    reasons.extend(field_reason(demand.field, listing.field));
    reasons.extend(keywords_reason(demand, listing));
    reasons.push(budget_reason(demand, listing));
    reasons.push(maturity_reason(listing.trl));
    reasons.push(region_reason(demand.province, listing.province));
    let total: u32 = reasons.iter().map(|r| u32::from(r.points)).sum();
    Match {
        score: total.min(100) as u8,
        reasons,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn demand() -> DemandFacts {
        let keywords = vec!["燃气轮机".to_string(), "叶片".to_string()];
        DemandFacts {
            field: Field::Aerospace,
            province: Province::Chongqing,
            terms: terms_of([
                "寻求重型燃气轮机叶片冷却技术",
                "我们希望引进燃气轮机叶片冷却技术",
                "燃气轮机",
                "叶片",
            ]),
            keywords,
            budget_min_fen: Some(100_000_000),
            budget_max_fen: Some(500_000_000),
        }
    }

    fn gas_turbine() -> ListingFacts {
        ListingFacts {
            field: Field::Aerospace,
            province: Province::Sichuan,
            terms: terms_of([
                "F级50兆瓦重型燃气轮机",
                "重型燃气轮机整机设计与叶片冷却",
                "燃气轮机",
            ]),
            keywords: vec!["燃气轮机".to_string(), "重型燃机".to_string()],
            price_hint_fen: Some(350_000_000),
            trl: 7,
        }
    }

    #[test]
    fn a_close_match_scores_high_with_all_reasons() {
        let m = score(&demand(), &gas_turbine());
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
        assert_eq!(m.reasons[0].points, 30);
        assert_eq!(m.reasons[1].detail_key, "match.keywords.matched");
        assert_eq!(m.reasons[2].points, 15);
        assert_eq!(m.reasons[3].points, 10);
        assert_eq!(m.reasons[4].detail_key, "match.region.cross_province");
        let sum: u32 = m.reasons.iter().map(|r| u32::from(r.points)).sum();
        assert_eq!(u32::from(m.score), sum);
        assert!(m.score >= 80, "{m:?}");
    }

    #[test]
    fn keyword_points_follow_the_formula() {
        // Demand: keywords {芯片, 模数转换}, terms = their bigrams + 高速; listing has 芯片 and 高速 only.
        let d = DemandFacts {
            field: Field::Ic,
            province: Province::Sichuan,
            terms: terms_of(["高速", "芯片", "模数转换"]),
            keywords: vec!["芯片".into(), "模数转换".into(), "芯片".into()],
            budget_min_fen: None,
            budget_max_fen: None,
        };
        let l = ListingFacts {
            field: Field::Digital,
            province: Province::Sichuan,
            terms: terms_of(["高速芯片"]),
            keywords: vec![],
            price_hint_fen: None,
            trl: 2,
        };
        // K = 2 distinct keywords, k = 1; D = {高速, 芯片, 模数, 数转, 转换}, d = 2.
        // 40 × (2·1/2 + 2/5) / 3 = 40 × 1.4 / 3 = 18.67 → 19.
        let m = score(&d, &l);
        let kw = m
            .reasons
            .iter()
            .find(|r| r.code == ReasonCode::Keywords)
            .unwrap();
        assert_eq!(kw.points, 19);
        assert_eq!(kw.args[0], ("keywords_zh", "芯片".to_string()));
        // ic and digital are not related: no field reason.
        assert!(m.reasons.iter().all(|r| r.code != ReasonCode::Field));
        // No budget and no price: 8; TRL 2: 1; region 5.
        assert_eq!(m.score, 19 + 8 + 1 + 5);
    }

    #[test]
    fn generic_terms_do_not_count() {
        let d = DemandFacts {
            field: Field::Eco,
            province: Province::Sichuan,
            terms: terms_of(["技术研发"]),
            keywords: vec![],
            budget_min_fen: None,
            budget_max_fen: None,
        };
        let l = ListingFacts {
            field: Field::Food,
            province: Province::Chongqing,
            terms: terms_of(["技术研发"]),
            keywords: vec![],
            price_hint_fen: None,
            trl: 1,
        };
        // 技术, 研发 are generic; 术研 is the only distinctive term and it matches.
        assert_eq!(
            score(&d, &l)
                .reasons
                .iter()
                .find(|r| r.code == ReasonCode::Keywords)
                .unwrap()
                .points,
            40
        );
    }

    #[test]
    fn related_fields_earn_half() {
        assert!(related_fields(Field::Auto, Field::Ai));
        assert!(related_fields(Field::Ai, Field::Auto));
        assert!(related_fields(Field::Energy, Field::Aerospace));
        assert!(!related_fields(Field::Food, Field::Ic));
        let mut l = gas_turbine();
        l.field = Field::Energy;
        let m = score(&demand(), &l);
        assert_eq!(m.reasons[0].points, 15);
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
        assert_eq!(points(None), (8, "match.budget.unknown_price"));
        assert_eq!(points(Some(100_000_000)), (15, "match.budget.within"));
        assert_eq!(points(Some(500_000_000)), (15, "match.budget.within"));
        assert_eq!(points(Some(99_999_999)), (12, "match.budget.below_min"));
        assert_eq!(points(Some(500_000_001)), (14, "match.budget.above_max"));
        assert_eq!(points(Some(750_000_000)), (7, "match.budget.above_max"));
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
        let r = score(&demand(), &l).reasons.pop().unwrap();
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
            ])
            .prop_map(String::from),
            0..5,
        )
    }

    prop_compose! {
        fn demand_facts()(f in field(), p in province(), text in words(), keywords in words(),
                          min in proptest::option::of(1i64..1_000_000_000),
                          span in proptest::option::of(0i64..1_000_000_000)) -> DemandFacts {
            DemandFacts {
                field: f,
                province: p,
                terms: terms_of(text.iter().chain(&keywords).map(String::as_str)),
                keywords,
                budget_min_fen: min,
                budget_max_fen: span.map(|s| min.unwrap_or(1) + s),
            }
        }
    }

    prop_compose! {
        fn listing_facts()(f in field(), p in province(), text in words(), keywords in words(),
                           price in proptest::option::of(1i64..3_000_000_000), trl in 0u8..=9) -> ListingFacts {
            ListingFacts {
                field: f,
                province: p,
                terms: terms_of(text.iter().chain(&keywords).map(String::as_str)),
                keywords,
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
            prop_assert!(score(&d, &cross).score >= score(&d, &same).score);
        }

        #[test]
        fn the_score_is_the_sum_of_its_parts_and_at_most_100(d in demand_facts(), l in listing_facts()) {
            let m = score(&d, &l);
            let sum: u32 = m.reasons.iter().map(|r| u32::from(r.points)).sum();
            prop_assert_eq!(u32::from(m.score), sum);
            prop_assert!(m.score <= 100);
            prop_assert_eq!(score(&d, &l), m);
        }
    }
}
