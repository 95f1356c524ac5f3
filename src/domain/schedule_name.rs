//! A fee schedule's public name, given when it is approved. The name a draft is saved under is a
//! working title for the administrators ("统一收费标准 v2（草案：单方封顶 50 万元）"); the public
//! /fees pages and trades show the public name only, which must not read as a draft.

/// The drafting notes a working title carries (`草案：`, `draft: `), matched case-insensitively.
const DRAFT_WORDS: &[&str] = &["草案", "draft"];

/// The public name a working title suggests: the title without its drafting notes.
/// `统一收费标准 v2（草案：单方封顶 50 万元）/ Unified v2 (draft: cap ¥500,000 per side)` →
/// `统一收费标准 v2（单方封顶 50 万元）/ Unified v2 (cap ¥500,000 per side)`; a bracket that held
/// only the note (`（草案）`, `(draft)`) goes with it.
pub fn suggestion(working_title: &str) -> String {
    let mut s = working_title.to_string();
    for note in [
        "草案：",
        "草案:",
        "草案，",
        "草案,",
        "draft: ",
        "Draft: ",
        "DRAFT: ",
        "draft:",
        "Draft:",
        "draft, ",
        "Draft, ",
    ] {
        s = s.replace(note, "");
    }
    for bracket in [
        "（草案）",
        "(草案)",
        "（draft）",
        "(draft)",
        "(Draft)",
        "[draft]",
        "【草案】",
    ] {
        s = s.replace(bracket, "");
    }
    // Tidy what the removals left: empty brackets, doubled or trailing spaces.
    for empty in ["（）", "()"] {
        s = s.replace(empty, "");
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    words.join(" ")
}

/// Whether `name` still reads as a draft (then it cannot be a public name).
pub fn reads_as_draft(name: &str) -> bool {
    let lower = name.to_lowercase();
    DRAFT_WORDS.iter().any(|w| lower.contains(w))
}

/// A name written in both languages, `中文名 / English name` (fee schedules are named so), in one
/// language (`zh`: Chinese); any other name as it is.
pub fn in_lang(name: &str, zh: bool) -> String {
    if let Some((zh_part, en_part)) = name.rsplit_once('/') {
        let (zh_part, en_part) = (zh_part.trim(), en_part.trim());
        let zh_is_chinese = zh_part.chars().any(crate::domain::text::is_cjk);
        let en_is_latin = !en_part.is_empty() && !en_part.chars().any(crate::domain::text::is_cjk);
        if zh_is_chinese && en_is_latin {
            return if zh { zh_part } else { en_part }.to_string();
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drafting_notes_leave_the_suggested_public_name() {
        for (working, public) in [
            (
                "统一收费标准 v2（草案：单方封顶 50 万元）/ Unified v2 (draft: cap ¥500,000 per side)",
                "统一收费标准 v2（单方封顶 50 万元）/ Unified v2 (cap ¥500,000 per side)",
            ),
            ("统一收费标准 v3（草案）", "统一收费标准 v3"),
            ("Unified v3 (draft)", "Unified v3"),
            ("统一收费标准 v3", "统一收费标准 v3"),
            ("  spaced   out  ", "spaced out"),
        ] {
            assert_eq!(suggestion(working), public, "{working}");
            assert!(!reads_as_draft(&suggestion(working)), "{working}");
        }
    }

    #[test]
    fn a_name_with_a_drafting_word_reads_as_a_draft() {
        for name in [
            "v2 草案",
            "Draft of v2",
            "DRAFT",
            "统一收费标准（草案：封顶）",
        ] {
            assert!(reads_as_draft(name), "{name}");
        }
        for name in ["统一收费标准 v2", "Unified schedule v2", "方案二"] {
            assert!(!reads_as_draft(name), "{name}");
        }
    }
}
