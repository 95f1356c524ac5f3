//! Likely duplicate listings: how alike two titles are (Dice coefficient over character bigrams of
//! the titles with case, spaces and punctuation folded away), for reviewers' hints. Pure.

use std::collections::HashMap;

/// Titles at least this alike (percent) are shown to reviewers as likely duplicates.
pub const LIKELY_PERCENT: u32 = 60;

/// The title as compared: letters and digits (any script), lower case, full-width folded.
fn folded(title: &str) -> Vec<char> {
    crate::domain::normalize::fold_width_str(title)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn bigrams(chars: &[char]) -> HashMap<(char, char), u32> {
    let mut out = HashMap::new();
    if chars.len() == 1 {
        out.insert((chars[0], '\0'), 1);
    }
    for w in chars.windows(2) {
        *out.entry((w[0], w[1])).or_insert(0) += 1;
    }
    out
}

/// How alike two titles are, 0–100: 2·|common bigrams| / (|bigrams of a| + |bigrams of b|).
pub fn title_similarity(a: &str, b: &str) -> u32 {
    let (a, b) = (folded(a), folded(b));
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    if a == b {
        return 100;
    }
    let (ga, gb) = (bigrams(&a), bigrams(&b));
    let total: u32 = ga.values().sum::<u32>() + gb.values().sum::<u32>();
    let common: u32 = ga
        .iter()
        .map(|(k, n)| (*n).min(gb.get(k).copied().unwrap_or(0)))
        .sum();
    if total == 0 {
        return 0;
    }
    // Integer percent, rounded down: 2·common ≤ total, so at most 100.
    (200 * u64::from(common) / u64::from(total)) as u32
}

/// Whether two titles are alike enough to show as a likely duplicate.
pub fn likely_duplicate(a: &str, b: &str) -> bool {
    title_similarity(a, b) >= LIKELY_PERCENT
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn similar_titles_score_high_and_different_ones_low() {
        for (a, b, likely) in [
            ("F级50兆瓦重型燃气轮机", "F级50兆瓦重型燃气轮机", true),
            (
                "F级50兆瓦重型燃气轮机",
                "F级 50 兆瓦重型燃气轮机（改进型）",
                true,
            ),
            ("F级50兆瓦重型燃气轮机", "Ｆ级５０兆瓦重型燃气轮机", true),
            (
                "高速高精度流水线模数转换器芯片",
                "高速高精度流水线模数转换芯片",
                true,
            ),
            (
                "Thermal spray coating process",
                "thermal-spray coating process!",
                true,
            ),
            ("F级50兆瓦重型燃气轮机", "齿轨列车", false),
            ("页岩气勘探技术", "油菜新品种", false),
            ("Thermal spray coating", "Rack railway train", false),
            ("", "任何标题", false),
            ("!!!", "???", false),
        ] {
            assert_eq!(
                likely_duplicate(a, b),
                likely,
                "{a} / {b}: {}",
                title_similarity(a, b)
            );
            assert_eq!(title_similarity(a, b), title_similarity(b, a), "symmetric");
            assert!(title_similarity(a, b) <= 100);
        }
        assert_eq!(title_similarity("芯", "芯"), 100);
        assert_eq!(title_similarity("芯", "片"), 0);
    }
}
