//! Tests of the vocabulary: the format, the analysis, and the embedded data.
#![allow(clippy::unwrap_used)]
use super::*;

fn small() -> Vocabulary {
    let text = "\
# a comment
涂层 | 覆层 | coating | coatings
热喷涂 | thermal spray | thermal spraying > 涂层
转轮 | runner ~ 水轮机
水轮机 | hydraulic turbine | water turbine | hydro turbine
! 技术 | technology
异味 | 臭味 | bad smell | odour ~ 除臭
除臭 | deodorization | odor control
";
    let (v, errors) = Vocabulary::load(&[VocabularyFile {
        name: "test.txt",
        field: Some(Field::Materials),
        source: Source::Written,
        text,
    }]);
    assert_eq!(errors, vec![]);
    v
}

fn labels(v: &Vocabulary, a: &Analysis) -> Vec<String> {
    a.hits
        .iter()
        .map(|h| v.concept(h.concepts[0]).label.clone())
        .collect()
}

#[test]
fn the_format_reads_terms_relations_and_generic_marks() {
    let v = small();
    assert_eq!(v.concepts().len(), 7);
    let spray = v.lookup("thermal spraying")[0];
    let coating = v.lookup("覆层")[0];
    assert_eq!(v.concept(spray).broader, vec![coating]);
    assert_eq!(v.concept(spray).zh(), Some("热喷涂"));
    assert_eq!(v.concept(spray).en(), Some("thermal spray"));
    let runner = v.lookup("runner")[0];
    let turbine = v.lookup("水轮机")[0];
    // Related is symmetric.
    assert_eq!(v.concept(runner).related, vec![turbine]);
    assert_eq!(v.concept(turbine).related, vec![runner]);
    assert!(v.concept(v.lookup("technology")[0]).generic);
    assert_eq!(v.specificity(v.lookup("技术")[0]), GENERIC_SPECIFICITY);
    // 涂层 has one narrower concept.
    assert_eq!(v.specificity(coating), 800);
    assert_eq!(v.specificity(spray), 1000);
}

#[test]
fn bad_lines_are_reported_and_skipped() {
    let (v, errors) = Vocabulary::load(&[VocabularyFile {
        name: "bad.txt",
        field: None,
        source: Source::Written,
        text: "涂层 | coating\n | \n氨 | ammonia\n热喷涂 > 不存在\n除臭 >\n",
    }]);
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 5], "{errors:?}");
    assert!(errors[1].message.contains("two characters"));
    assert!(errors[2].message.contains("不存在"));
    assert_eq!(
        errors[2].to_string(),
        "bad.txt:4: no concept has the term `不存在`"
    );
    // 氨 kept its English term; 热喷涂 loaded without the broken relation.
    assert_eq!(v.lookup("ammonia").len(), 1);
    assert!(v.concept(v.lookup("热喷涂")[0]).broader.is_empty());
}

#[test]
fn chinese_is_matched_longest_first_and_english_as_folded_words() {
    let v = small();
    let a = v.analyze("水轮机转轮热喷涂涂层技术");
    assert_eq!(labels(&v, &a), ["水轮机", "转轮", "热喷涂", "涂层", "技术"]);
    assert!(a.residual.is_empty(), "{:?}", a.residual);
    let a = v.analyze("Thermal-Spray COATINGS for Hydro Turbine runners, AEB");
    assert_eq!(labels(&v, &a), ["热喷涂", "涂层", "水轮机", "转轮"]);
    assert_eq!(a.hits[0].surface, "Thermal-Spray");
    assert_eq!(a.hits[1].surface, "COATINGS");
    assert_eq!(a.residual, ["aeb"]);
    // Full-width letters fold; surfaces keep the original text.
    let a = v.analyze("ｃｏａｔｉｎｇ与臭味");
    assert_eq!(labels(&v, &a), ["涂层", "异味"]);
    assert_eq!(a.hits[0].surface, "ｃｏａｔｉｎｇ");
    // Words of a phrase must be adjacent.
    let a = v.analyze("thermal. spray");
    assert!(a.hits.is_empty());
    assert_eq!(a.residual, ["thermal", "spray"]);
}

#[test]
fn uncovered_chinese_gives_bigrams() {
    let v = small();
    let a = v.analyze("猪舍异味大");
    assert_eq!(labels(&v, &a), ["异味"]);
    assert_eq!(a.residual, ["猪舍"]);
    let a = v.analyze("工人受不了");
    assert_eq!(a.residual, ["工人", "人受", "受不", "不了"]);
    assert_eq!(a.fragments, a.residual);
    assert!(v.analyze("猪舍异味").fragments.is_empty());
}

#[test]
fn compound_terms_get_their_head_as_broader() {
    let (v, errors) = Vocabulary::load(&[
        VocabularyFile {
            name: "w.txt",
            field: None,
            source: Source::Written,
            text: "涂层 | coating\n转轮 | runner\n",
        },
        VocabularyFile {
            name: "c.txt",
            field: None,
            source: Source::Cedict,
            text: "热喷涂涂层 | thermal spray coating\n水轮机转轮 | hydraulic turbine runner\n",
        },
    ]);
    assert_eq!(errors, vec![]);
    let c = v.lookup("thermal spray coating")[0];
    assert_eq!(v.concept(c).broader, vec![v.lookup("coating")[0]]);
    let r = v.lookup("水轮机转轮")[0];
    assert_eq!(v.concept(r).broader, vec![v.lookup("转轮")[0]]);
    assert_eq!(
        v.neighbours(r)[1],
        Neighbour {
            concept: v.lookup("runner")[0],
            relation: Relation::Broader(1)
        }
    );
}

#[test]
fn english_words_fold_plurals_and_british_spellings() {
    for (w, f) in [
        ("coatings", "coating"),
        ("batteries", "battery"),
        ("fibres", "fiber"),
        ("odours", "odor"),
        ("sterilisation", "sterilization"),
        ("sterilise", "sterilize"),
        ("noise", "noise"),
        ("gps", "gps"),
        ("gas", "gas"),
        ("process", "process"),
        ("boxes", "box"),
        ("aluminium", "aluminum"),
        ("analysis", "analysis"),
    ] {
        assert_eq!(fold_english_word(w), f, "{w}");
    }
}

#[test]
fn the_embedded_vocabulary_loads_without_errors() {
    let (v, errors) = Vocabulary::load(&embedded_files());
    assert!(
        errors.is_empty(),
        "{}",
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(v.concepts().len() > 4000, "{}", v.concepts().len());
}

#[test]
fn every_field_has_a_few_hundred_concepts_in_both_languages() {
    let v = vocabulary();
    for f in Field::ALL {
        let of_field: Vec<&Concept> = v
            .concepts()
            .iter()
            .filter(|c| c.field == Some(*f))
            .collect();
        let written = of_field
            .iter()
            .filter(|c| c.source == Source::Written)
            .count();
        let bilingual = of_field
            .iter()
            .filter(|c| c.zh().is_some() && c.en().is_some())
            .count();
        eprintln!(
            "{}: {} concepts, {} bilingual, {} written",
            f.code(),
            of_field.len(),
            bilingual,
            written
        );
        assert!(
            of_field.len() >= 250 && bilingual >= 200 && written >= 100,
            "{}: {} concepts, {} bilingual, {} written",
            f.code(),
            of_field.len(),
            bilingual,
            written
        );
    }
}

#[test]
fn the_bridges_named_in_issue_20_exist() {
    let v = vocabulary();
    let reaches = |from: &str, to: &str| {
        let targets = v.lookup(to);
        assert!(!targets.is_empty(), "{to} is not a term");
        let from_ids = v.lookup(from);
        assert!(!from_ids.is_empty(), "{from} is not a term");
        from_ids
            .iter()
            .any(|&f| v.neighbours(f).iter().any(|n| targets.contains(&n.concept)))
    };
    // 转轮 ↔ runner ↔ 水轮机部件
    assert!(v
        .lookup("转轮")
        .iter()
        .any(|c| v.lookup("runner").contains(c)));
    assert!(reaches("转轮", "水轮机部件"));
    // 氨气味 → 氨气 → 除臭
    assert!(reaches("氨气味", "氨气"));
    assert!(reaches("氨气", "除臭") || reaches("氨气味", "除臭"));
    // 目视检查 → 人工检测 → 机器视觉检测
    assert!(reaches("目视检查", "人工检测"));
    assert!(reaches("人工检测", "机器视觉检测") || reaches("目视检查", "机器视觉检测"));
    // Across languages.
    assert!(v
        .lookup("thermal spraying")
        .iter()
        .any(|c| v.lookup("热喷涂").contains(c)));
}
