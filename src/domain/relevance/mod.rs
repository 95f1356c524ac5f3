//! How well a listing's text answers a demand's text: the demand becomes weighted *units* (the concepts it
//! mentions and the words the vocabulary does not know), the listing a *profile* (its concepts, the
//! concepts they reach, and all its tokens), and relevance is the weighted share of the demand's units that
//! the listing answers, with the bridges that answered them ("thermal spray coating ↔ 热喷涂涂层").
//!
//! # Weights (per mille, integers throughout)
//! - Where a text is: demand title and keywords 1000, description 600; listing title and keywords 1000,
//!   summary 900, description 700. The description counts, less than the title.
//! - A concept unit weighs its zone × the concept's specificity ([`Vocabulary::specificity`]: 1000 for a
//!   concept with no narrower ones, less for broad ones, 100 for generic words). A word the vocabulary does
//!   not know weighs its zone × 400 (a Chinese character bigram) or × 600 (a Latin word, e.g. `AEB`).
//! - A unit is answered by the listing's own concept (1000), or through a relation: the demand's concept
//!   is broader than the listing's (the listing's reach, 800 one step up, 600 two), the demand's concept is
//!   narrower than the listing's (700 one step, 450 two), or related (600). Meeting at a concept other
//!   than the demand's own is worth that × its specificity, so a broad meeting point counts less.
//!   The result is scaled by the zone weight where the listing has it.
//! - Relevance = Σ weight × answer / Σ weight. A listing that answers no unit with at least
//!   [`SHARED_MIN`] through a specific concept or a known word shares nothing with the demand.

use super::text::{build_tsquery, index_tokens, is_cjk};
use super::vocabulary::{fold_english_word, ConceptId, Relation, Vocabulary};

/// The listing side and its stored form.
mod profile;
pub use profile::{profile_version, token_key, Profile, StoredProfile, PROFILE_FORMAT};

/// Where a piece of text sits in a demand or a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Title,
    Keywords,
    Summary,
    Description,
}

impl Zone {
    fn demand_weight(self) -> u32 {
        match self {
            Zone::Title | Zone::Keywords => 1000,
            Zone::Summary => 800,
            Zone::Description => 600,
        }
    }

    fn listing_weight(self) -> u32 {
        match self {
            Zone::Title | Zone::Keywords => 1000,
            Zone::Summary => 900,
            Zone::Description => 700,
        }
    }
}

/// An answer at least this strong (per mille) through a specific concept or a word counts as shared.
pub const SHARED_MIN: u32 = 400;
/// Unknown Chinese bigrams and Latin words weigh this much of their zone (per mille).
const BIGRAM_WEIGHT: u32 = 400;
const WORD_WEIGHT: u32 = 600;

/// Tokens that say nothing about what is wanted (bigrams and words the vocabulary does not cover).
const GENERIC_TOKENS: &[&str] = &[
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
    "我司",
    "一个",
    "可以",
    "目前",
    "已经",
    "通过",
    "采用",
    "主要",
    "以上",
    "以下",
    "没有",
    "不能",
    "什么",
    "怎么",
    "这种",
    "这个",
    "一些",
    "很多",
    "很大",
    "非常",
    "比较",
    "经常",
    "现在",
    "以前",
    "一直",
    "我厂",
    "我们的",
    "technology",
];

fn is_generic_token(t: &str) -> bool {
    GENERIC_TOKENS.contains(&t) || t.chars().all(|c| c.is_ascii_digit()) && t.len() < 4
}

/// What a unit of the demand is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitKind {
    /// The concepts of one term (one term may name several).
    Concepts(Vec<ConceptId>),
    /// A bigram or word the vocabulary does not cover.
    Token(String),
}

/// One thing the demand asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub kind: UnitKind,
    /// Per mille × per mille / 1000.
    pub weight: u32,
    /// As the demand wrote it.
    pub surface: String,
    /// Whether a reason may name it (not a mere piece of a longer unknown word).
    pub shown: bool,
}

/// The demand side: its units, heaviest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub units: Vec<Unit>,
}

/// Tokens of a text: character bigrams of Han runs (a lone character itself) and folded words.
pub fn tokens(text: &str) -> Vec<String> {
    index_tokens(text)
        .into_iter()
        .map(|t| {
            if t.chars().any(is_cjk) {
                t
            } else {
                fold_english_word(&t)
            }
        })
        .collect()
}

impl Query {
    /// The units of a demand's texts.
    pub fn of(vocab: &Vocabulary, texts: &[(Zone, &str)]) -> Query {
        let mut units: Vec<Unit> = Vec::new();
        let mut upsert = |kind: UnitKind, weight: u32, surface: &str, shown: bool| {
            if weight == 0 {
                return;
            }
            match units.iter_mut().find(|u| u.kind == kind) {
                Some(u) => {
                    u.shown |= shown;
                    if u.weight < weight {
                        u.weight = weight;
                        u.surface = surface.to_string();
                    }
                }
                None => units.push(Unit {
                    kind,
                    weight,
                    surface: surface.to_string(),
                    shown,
                }),
            }
        };
        for &(zone, text) in texts {
            let zw = zone.demand_weight();
            let a = vocab.analyze(text);
            for hit in &a.hits {
                let mut concepts = hit.concepts.clone();
                concepts.sort_unstable();
                let spec = concepts
                    .iter()
                    .map(|&c| u32::from(vocab.specificity(c)))
                    .max()
                    .unwrap_or(0);
                upsert(
                    UnitKind::Concepts(concepts),
                    zw * spec / 1000,
                    &hit.surface,
                    true,
                );
            }
            for t in &a.residual {
                if is_generic_token(t) {
                    continue;
                }
                let w = if t.chars().any(is_cjk) {
                    BIGRAM_WEIGHT
                } else if t.chars().count() >= 2 {
                    WORD_WEIGHT
                } else {
                    0
                };
                upsert(
                    UnitKind::Token(t.clone()),
                    zw * w / 1000,
                    t,
                    !a.fragments.contains(t),
                );
            }
        }
        units.sort_by_key(|u| std::cmp::Reverse(u.weight));
        Query { units }
    }

    /// The concept units, heaviest first, with every term of their concepts and of the concepts one step
    /// broader (to find listings that use any of them); specific concepts only.
    pub fn concept_terms<'v>(&self, vocab: &'v Vocabulary) -> Vec<Vec<&'v str>> {
        let mut out = Vec::new();
        for u in &self.units {
            let UnitKind::Concepts(cs) = &u.kind else {
                continue;
            };
            let mut terms: Vec<&str> = Vec::new();
            for &c in cs {
                if vocab.concept(c).generic {
                    continue;
                }
                for n in vocab.neighbours(c) {
                    if matches!(n.relation, Relation::Same | Relation::Broader(1))
                        && !vocab.concept(n.concept).generic
                    {
                        for t in &vocab.concept(n.concept).terms {
                            if !terms.contains(&t.as_str()) {
                                terms.push(t);
                            }
                        }
                    }
                }
            }
            if !terms.is_empty() {
                out.push(terms);
            }
        }
        out
    }

    /// Everything [`relevance`] may look up in a profile for this query: the concepts its units may meet
    /// and the keys of its tokens (a stored profile need only bring these entries).
    pub fn lookups(&self, vocab: &Vocabulary) -> Lookups {
        let mut concepts: Vec<i64> = Vec::new();
        let mut tokens: Vec<i64> = Vec::new();
        for u in &self.units {
            match &u.kind {
                UnitKind::Concepts(cs) => concepts.extend(
                    cs.iter()
                        .flat_map(|&c| vocab.neighbours(c))
                        .map(|n| i64::from(n.concept)),
                ),
                UnitKind::Token(t) => tokens.extend(profile::token_keys_of(t)),
            }
        }
        concepts.sort_unstable();
        concepts.dedup();
        tokens.sort_unstable();
        tokens.dedup();
        Lookups { concepts, tokens }
    }

    /// The concept units, heaviest first, as the specific concepts a listing must have or reach to answer
    /// them fully (`strong`), and the specific concepts where it may meet them at all (`near`: broader and
    /// related ones too); for retrieval by overlap with [`StoredProfile::retrieval`].
    pub fn retrieval_sets(&self, vocab: &Vocabulary) -> Vec<RetrievalSet> {
        let mut out: Vec<RetrievalSet> = Vec::new();
        for u in &self.units {
            let UnitKind::Concepts(cs) = &u.kind else {
                continue;
            };
            let mut strong: Vec<i32> = Vec::new();
            let mut near: Vec<i32> = Vec::new();
            for &c in cs {
                for n in vocab.neighbours(c) {
                    if vocab.concept(n.concept).generic {
                        continue;
                    }
                    let Ok(id) = i32::try_from(n.concept) else {
                        continue;
                    };
                    if n.relation == Relation::Same {
                        strong.push(id);
                    }
                    near.push(id);
                }
            }
            strong.sort_unstable();
            strong.dedup();
            near.sort_unstable();
            near.dedup();
            if !strong.is_empty() && !out.iter().any(|s| s.strong == strong) {
                out.push(RetrievalSet {
                    strong,
                    near,
                    weight: u.weight,
                });
            }
        }
        out
    }

    /// The token units, heaviest first.
    pub fn token_units(&self) -> impl Iterator<Item = &str> {
        self.units.iter().filter_map(|u| match &u.kind {
            UnitKind::Token(t) => Some(t.as_str()),
            UnitKind::Concepts(_) => None,
        })
    }
}

/// What a query looks up in a profile (see [`Query::lookups`]): concept ids and token keys, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lookups {
    pub concepts: Vec<i64>,
    pub tokens: Vec<i64>,
}

impl Lookups {
    /// The entries of a stored profile's `concepts` that these lookups may read (see
    /// [`StoredProfile`]): a profile made of them scores exactly as the whole one.
    pub fn concepts_of(&self, stored: &[i64]) -> Vec<i64> {
        stored
            .iter()
            .copied()
            .filter(|v| self.reads_concept(*v))
            .collect()
    }

    /// The entries of a stored profile's `tokens` that these lookups may read.
    pub fn tokens_of(&self, stored: &[i64]) -> Vec<i64> {
        stored
            .iter()
            .copied()
            .filter(|v| self.reads_token(*v))
            .collect()
    }

    /// Whether these lookups may read this entry of a stored profile's `concepts`.
    pub fn reads_concept(&self, stored: i64) -> bool {
        self.concepts.binary_search(&(stored >> 24)).is_ok()
    }

    /// Whether these lookups may read this entry of a stored profile's `tokens`.
    pub fn reads_token(&self, stored: i64) -> bool {
        self.tokens.binary_search(&(stored >> 12)).is_ok()
    }
}

/// One concept unit of a query for retrieval (see [`Query::retrieval_sets`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievalSet {
    pub strong: Vec<i32>,
    pub near: Vec<i32>,
    pub weight: u32,
}

/// A unit of the demand that the listing answers, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    /// As the demand wrote it.
    pub demand: String,
    /// As the listing wrote what answered it.
    pub listing: String,
    /// Weight × answer (for ordering).
    pub strength: u32,
}

impl Bridge {
    /// `demand ↔ listing`, or one of them when they are the same words.
    pub fn label(&self) -> String {
        if self.demand.to_lowercase() == self.listing.to_lowercase() {
            self.demand.clone()
        } else {
            format!("{} ↔ {}", self.demand, self.listing)
        }
    }
}

/// How well a listing answers a demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relevance {
    /// Weighted share of the demand answered, per mille.
    pub permille: u32,
    /// Whether they share a concept or a word at all.
    pub shared: bool,
    /// The strongest answers, strongest first (at most [`MAX_BRIDGES`]).
    pub bridges: Vec<Bridge>,
}

/// Bridges named in a reason.
pub const MAX_BRIDGES: usize = 4;

/// How well `profile` answers `query` (see the module doc).
pub fn relevance(vocab: &Vocabulary, query: &Query, profile: &Profile) -> Relevance {
    let mut total: u64 = 0;
    let mut answered: u64 = 0;
    let mut shared = false;
    let mut bridges: Vec<Bridge> = Vec::new();
    for u in &query.units {
        total += u64::from(u.weight);
        let (answer, surface, specific) = match &u.kind {
            UnitKind::Token(t) => match profile.token(t) {
                Some(w) => (w, t.clone(), true),
                None => (0, String::new(), false),
            },
            UnitKind::Concepts(cs) => {
                let mut best: (u32, &str, bool) = (0, "", false);
                for &c in cs {
                    for n in vocab.neighbours(c) {
                        let Some((weight, surface)) = profile.concept(n.concept) else {
                            continue;
                        };
                        let f = match n.relation {
                            Relation::Same => 1000,
                            Relation::Broader(1) => 700,
                            Relation::Broader(_) => 450,
                            Relation::Related => 600,
                        };
                        let spec = u32::from(vocab.specificity(n.concept));
                        let meet = if n.relation == Relation::Same {
                            1000
                        } else {
                            spec
                        };
                        let a = f * weight / 1000 * meet / 1000;
                        if a > best.0 {
                            best = (a, surface, !vocab.concept(n.concept).generic);
                        }
                    }
                }
                (best.0, best.1.to_string(), best.2)
            }
        };
        if answer == 0 {
            continue;
        }
        answered += u64::from(u.weight) * u64::from(answer) / 1000;
        if answer >= SHARED_MIN && specific {
            shared = true;
        }
        if u.shown {
            bridges.push(Bridge {
                demand: u.surface.clone(),
                listing: surface,
                strength: u.weight * answer / 1000,
            });
        }
    }
    bridges.retain(|b| b.strength > 0);
    bridges.sort_by_key(|b| std::cmp::Reverse(b.strength));
    // One bridge per listing term, strongest first.
    let mut seen_listing: Vec<String> = Vec::new();
    bridges.retain(|b| {
        let key = b.listing.to_lowercase();
        if seen_listing.contains(&key) {
            false
        } else {
            seen_listing.push(key);
            true
        }
    });
    bridges.truncate(MAX_BRIDGES);
    let permille = (answered * 1000).checked_div(total).unwrap_or(0) as u32;
    Relevance {
        permille,
        shared,
        bridges,
    }
}

/// Most alternatives one concept of a search brings.
const MAX_ALTERNATIVES: usize = 12;

/// A search across languages: each concept of `q` as any of its terms (Chinese and English synonyms),
/// its other words as they are, all required (`&`). `None` when `q` names no specific concept (the query
/// as written says it all), e.g. a patent number. `thermal spray coating` → `(('热' <-> …) | …)`.
pub fn expanded_tsquery(vocab: &Vocabulary, q: &str) -> Option<String> {
    let a = vocab.analyze(q);
    let specific = a
        .hits
        .iter()
        .any(|h| h.concepts.iter().any(|&c| !vocab.concept(c).generic));
    if !specific {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for hit in &a.hits {
        let mut alternatives: Vec<String> = Vec::new();
        for t in std::iter::once(hit.surface.as_str()).chain(
            hit.concepts
                .iter()
                .flat_map(|&c| vocab.concept(c).terms.iter().map(String::as_str)),
        ) {
            // A one-letter word (`D/A转换器`) would become a prefix matching half the market.
            let one_letter = t
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w.len() == 1);
            if one_letter {
                continue;
            }
            if let Some(tq) = build_tsquery(t) {
                let tq = format!("({tq})");
                if !alternatives.contains(&tq) && alternatives.len() < MAX_ALTERNATIVES {
                    alternatives.push(tq);
                }
            }
        }
        let part = format!("({})", alternatives.join(" | "));
        if !alternatives.is_empty() && !parts.contains(&part) {
            parts.push(part);
        }
    }
    for t in &a.residual {
        if let Some(tq) = build_tsquery(t) {
            let part = format!("({tq})");
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join(" & "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::vocabulary::vocabulary;

    fn rel(demand: &[(Zone, &str)], listing: &[(Zone, &str)]) -> Relevance {
        let v = vocabulary();
        relevance(v, &Query::of(v, demand), &Profile::of(v, listing))
    }

    #[test]
    fn an_english_demand_reaches_a_chinese_listing_and_names_the_bridge() {
        let r = rel(
            &[(
                Zone::Title,
                "Thermal spray coatings for hydraulic turbine runners",
            )],
            &[(Zone::Title, "水轮机转轮热喷涂涂层技术")],
        );
        assert!(r.shared, "{r:?}");
        assert!(r.permille >= 700, "{r:?}");
        let labels: Vec<String> = r.bridges.iter().map(Bridge::label).collect();
        assert!(
            labels
                .iter()
                .any(|l| l.contains("Thermal spray") && l.contains("热喷涂")),
            "{labels:?}"
        );
        assert!(labels.iter().any(|l| l.contains("转轮")), "{labels:?}");
    }

    #[test]
    fn a_problem_in_plain_words_reaches_its_remedy() {
        let demand = [(Zone::Title, "猪舍氨气味大，工人受不了，环保也不达标")];
        let right = rel(&demand, &[(Zone::Title, "畜禽舍氨气生物除臭技术")]);
        let wrong = rel(&demand, &[(Zone::Title, "生猪智能化精准饲喂系统")]);
        assert!(right.shared);
        assert!(right.permille > wrong.permille, "{right:?} vs {wrong:?}");
    }

    #[test]
    fn unrelated_texts_share_nothing() {
        let r = rel(
            &[(Zone::Title, "寻求自动紧急制动算法")],
            &[(Zone::Title, "页岩气压裂返排液处理与回用技术")],
        );
        assert!(!r.shared, "{r:?}");
        assert_eq!(r.permille, 0);
        assert!(r.bridges.is_empty());
    }

    #[test]
    fn unknown_words_still_count() {
        let r = rel(
            &[(Zone::Keywords, "AEB")],
            &[(Zone::Title, "自动紧急制动（AEB）系统")],
        );
        assert!(r.shared);
        assert!(r.permille >= 900, "{r:?}");
    }

    #[test]
    fn generic_words_alone_are_not_shared() {
        let r = rel(
            &[(Zone::Title, "技术研发系统")],
            &[(Zone::Title, "系统技术")],
        );
        assert!(!r.shared, "{r:?}");
    }

    #[test]
    fn a_search_is_widened_to_the_terms_of_its_concepts() {
        let v = vocabulary();
        let q = expanded_tsquery(v, "thermal spray coating").unwrap();
        assert!(q.contains("('热喷' <-> '喷涂')"), "{q}");
        assert!(q.contains("'thermal':* & 'spray':*"), "{q}");
        let q = expanded_tsquery(v, "热喷涂").unwrap();
        assert!(q.contains("'thermal':*"), "{q}");
        // A patent number or generic words alone: the query as written says it all.
        assert_eq!(expanded_tsquery(v, "ZL201710601862.3"), None);
        assert_eq!(expanded_tsquery(v, "技术"), None);
        // Words the vocabulary does not know are still required.
        let q = expanded_tsquery(v, "热喷涂 qzv").unwrap();
        assert!(q.ends_with(" & ('qzv':*)"), "{q}");
    }

    #[test]
    fn the_title_counts_more_than_the_description() {
        let demand = [(Zone::Title, "热喷涂")];
        let in_title = rel(&demand, &[(Zone::Title, "热喷涂涂层")]);
        let in_description = rel(
            &demand,
            &[
                (Zone::Title, "水电站设备"),
                (Zone::Description, "采用热喷涂"),
            ],
        );
        assert!(in_title.permille > in_description.permille);
        assert!(in_description.shared);
    }
}
