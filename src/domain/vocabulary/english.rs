//! English words: the light folding shared by terms and texts, and the stop words.

/// English words that never count on their own (a common stop-word list, folded as words are).
pub(super) const ENGLISH_STOP: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "doe", "doing", "down", "during", "each", "either",
    "etc", "even", "ever", "every", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "however", "i", "if", "in", "into",
    "is", "it", "its", "itself", "just", "least", "less", "like", "many", "may", "me", "might",
    "more", "most", "much", "must", "my", "need", "neither", "no", "nor", "not", "now", "of",
    "off", "often", "on", "once", "one", "only", "or", "other", "our", "ours", "out", "over",
    "own", "per", "same", "shall", "she", "should", "since", "so", "some", "such", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "those", "three", "through",
    "thus", "to", "too", "two", "under", "until", "up", "upon", "us", "very", "via", "was", "want",
    "we", "well", "were", "what", "when", "where", "whether", "which", "while", "who", "whom",
    "why", "will", "with", "within", "without", "would", "yet", "you", "your", "yours", "looking",
    "look", "seek", "seeking", "new", "get", "make", "use", "used", "using", "able", "keep",
    "still", "already", "every", "minute", "hour", "day", "week", "month", "year", "time", "today",
    "way", "thing", "lot", "need", "cannot", "don", "let", "let's",
];

/// Fold one lower-case English word: British spellings to American, plural endings removed
/// (`fibres` → `fiber`, `batteries` → `battery`, `odours` → `odor`, `coatings` → `coating`).
/// Words of three letters or fewer only lose nothing (`gps`, `bms` stay).
pub fn fold_english_word(word: &str) -> String {
    let mut w = word.to_string();
    for (a, b) in [
        ("aluminium", "aluminum"),
        ("sulphur", "sulfur"),
        ("mould", "mold"),
        ("tyre", "tire"),
        ("programme", "program"),
        ("colour", "color"),
        ("odour", "odor"),
        ("flavour", "flavor"),
        ("fibre", "fiber"),
        ("centre", "center"),
        ("litre", "liter"),
        ("metre", "meter"),
        ("sulphide", "sulfide"),
    ] {
        if let Some(rest) = w.strip_prefix(a) {
            w = format!("{b}{rest}");
            break;
        }
    }
    // -ise/-isation → -ize/-ization (not wise, rise, noise, …).
    const KEEP: &[&str] = &[
        "wise", "rise", "cise", "vise", "mise", "noise", "poise", "raise", "cruise", "guise",
        "praise",
    ];
    for (suffix, to) in [
        ("isations", "izations"),
        ("isation", "ization"),
        ("ising", "izing"),
        ("ised", "ized"),
        ("ises", "izes"),
        ("ise", "ize"),
    ] {
        if w.len() > suffix.len() + 2 && w.ends_with(suffix) {
            let stem_e = format!("{}ise", &w[..w.len() - suffix.len()]);
            if !KEEP.iter().any(|k| stem_e.ends_with(k)) {
                w = format!("{}{to}", &w[..w.len() - suffix.len()]);
            }
            break;
        }
    }
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..n - 3]);
    }
    if n > 4
        && ["sses", "shes", "ches", "xes", "zes"]
            .iter()
            .any(|s| w.ends_with(s))
    {
        return w[..n - 2].to_string();
    }
    if n > 3
        && w.ends_with('s')
        && !["ss", "us", "is", "os", "ys", "as"]
            .iter()
            .any(|s| w.ends_with(s))
    {
        return w[..n - 1].to_string();
    }
    w
}
