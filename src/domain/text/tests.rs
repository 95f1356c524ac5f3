//! Tests of the search tokens and the two literal formats (tsvector, tsquery).
use super::*;
use proptest::prelude::*;

// ---- A tiny reader of the two literal formats we produce, and a matcher. ----

/// Read one quoted lexeme at the start of `s`; returns it and the rest.
fn read_lexeme(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    if chars.next().map(|(_, c)| c) != Some('\'') {
        return Err(format!("expected a quote at {s:?}"));
    }
    let mut lex = String::new();
    let mut iter = s[1..].char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        match c {
            '\'' => {
                if iter.peek().map(|&(_, c)| c) == Some('\'') {
                    iter.next();
                    lex.push('\'');
                } else {
                    if lex.is_empty() {
                        return Err("empty lexeme".into());
                    }
                    return Ok((lex, &s[1 + i + 1..]));
                }
            }
            '\\' => match iter.next() {
                Some((_, e)) => lex.push(e),
                None => return Err("dangling backslash".into()),
            },
            _ => lex.push(c),
        }
    }
    Err("unterminated lexeme".into())
}

type Vector = HashMap<String, Vec<u32>>;

/// Parse our tsvector literal strictly: `'lex'[:pos[W](,pos[W])*]` separated by single spaces.
fn parse_tsvector(s: &str) -> Result<Vector, String> {
    let mut v = Vector::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (lex, r) = read_lexeme(rest)?;
        if v.contains_key(&lex) {
            return Err(format!("duplicate lexeme {lex}"));
        }
        let mut positions = Vec::new();
        rest = r;
        if let Some(r) = rest.strip_prefix(':') {
            rest = r;
            loop {
                let n = rest.bytes().take_while(u8::is_ascii_digit).count();
                let pos: u32 = rest[..n]
                    .parse()
                    .map_err(|_| format!("bad position at {rest:?}"))?;
                if !(1..=MAX_POSITION).contains(&pos) {
                    return Err(format!("position {pos} out of range"));
                }
                if positions.last().is_some_and(|&p| p >= pos) {
                    return Err("positions not increasing".into());
                }
                positions.push(pos);
                rest = &rest[n..];
                rest = rest.strip_prefix(['A', 'B', 'C']).unwrap_or(rest);
                match rest.strip_prefix(',') {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            if positions.len() > MAX_POSITIONS_PER_LEXEME {
                return Err("too many positions".into());
            }
        }
        v.insert(lex, positions);
        if !rest.is_empty() {
            rest = rest
                .strip_prefix(' ')
                .ok_or_else(|| format!("expected a space at {rest:?}"))?;
            if rest.is_empty() {
                return Err("trailing space".into());
            }
        }
    }
    Ok(v)
}

#[derive(Debug)]
enum Term {
    Phrase(Vec<String>),
    Exact(String),
    Prefix(String),
}

/// Parse our tsquery literal strictly: terms joined by ` & `.
fn parse_tsquery(s: &str) -> Result<Vec<Term>, String> {
    let mut terms = Vec::new();
    let mut rest = s;
    loop {
        if let Some(r) = rest.strip_prefix('(') {
            let mut lexemes = Vec::new();
            rest = r;
            loop {
                let (lex, r) = read_lexeme(rest)?;
                lexemes.push(lex);
                rest = r;
                match rest.strip_prefix(" <-> ") {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            rest = rest.strip_prefix(')').ok_or("unclosed phrase")?;
            if lexemes.len() < 2 {
                return Err("phrase of one".into());
            }
            terms.push(Term::Phrase(lexemes));
        } else {
            let (lex, r) = read_lexeme(rest)?;
            rest = r;
            match rest.strip_prefix(":*") {
                Some(r) => {
                    rest = r;
                    terms.push(Term::Prefix(lex));
                }
                None => terms.push(Term::Exact(lex)),
            }
        }
        if rest.is_empty() {
            return Ok(terms);
        }
        rest = rest
            .strip_prefix(" & ")
            .ok_or_else(|| format!("expected & at {rest:?}"))?;
    }
}

/// Whether the query matches the vector, as Postgres would.
fn matches(query: &str, vector: &str) -> bool {
    let v = parse_tsvector(vector).unwrap();
    parse_tsquery(query).unwrap().iter().all(|t| match t {
        Term::Exact(l) => v.contains_key(l),
        Term::Prefix(p) => v.keys().any(|k| k.starts_with(p.as_str())),
        Term::Phrase(ls) => v.get(&ls[0]).is_some_and(|starts| {
            starts.iter().any(|&p| {
                ls.iter()
                    .enumerate()
                    .all(|(i, l)| v.get(l).is_some_and(|ps| ps.contains(&(p + i as u32))))
            })
        }),
    })
}

fn vector(text: &str) -> String {
    TsVectorBuilder::new().add(text, 'A').build()
}

fn search(q: &str, text: &str) -> bool {
    matches(&build_tsquery(q).unwrap(), &vector(text))
}

// ---- Tokens ----

#[test]
fn han_runs_give_bigrams_and_words_are_lower_cased() {
    assert_eq!(
        index_tokens("F级50兆瓦重型燃气轮机"),
        ["f", "级", "50", "兆瓦", "瓦重", "重型", "型燃", "燃气", "气轮", "轮机"]
    );
    assert_eq!(index_tokens("GB/T 22900"), ["gb", "t", "22900"]);
    assert_eq!(
        index_tokens("Gas-Turbine ＡＤＣ"),
        ["gas", "turbine", "adc"]
    );
    assert_eq!(index_tokens("芯"), ["芯"]);
    assert_eq!(index_tokens("  ，。！ "), Vec::<String>::new());
    assert_eq!(index_tokens("㐀㐁"), ["㐀㐁"]);
    let long = "a".repeat(100);
    assert_eq!(index_tokens(&long), ["a".repeat(MAX_WORD_CHARS)]);
}

#[test]
fn the_tsvector_has_positions_weights_and_gaps_between_runs() {
    let v = TsVectorBuilder::new()
        .add("燃气轮机", 'A')
        .add("gas turbine", 'D')
        .add("燃气", 'b')
        .build();
    assert_eq!(v, "'燃气':1A,9B '气轮':2A '轮机':3A 'gas':5 'turbine':7");
    assert_eq!(TsVectorBuilder::new().add("，。", 'A').build(), "");
}

#[test]
fn gas_turbine_is_found_in_a_longer_title() {
    assert_eq!(
        build_tsquery("燃气轮机").unwrap(),
        "('燃气' <-> '气轮' <-> '轮机')"
    );
    assert!(search("燃气轮机", "F级50兆瓦重型燃气轮机"));
    assert!(search("重型燃气轮机", "F级50兆瓦重型燃气轮机"));
    assert!(search("F级 燃气轮机", "F级50兆瓦重型燃气轮机"));
    assert!(!search("燃气轮机", "燃气与轮机"));
    assert!(!search("燃气轮机", "燃气 轮机"));
    assert!(!search("汽轮机", "F级50兆瓦重型燃气轮机"));
}

#[test]
fn chip_and_adc_are_found_in_the_adc_chip_title() {
    let title = "高速高精度流水线模数转换器芯片";
    assert_eq!(build_tsquery("芯片").unwrap(), "'芯片'");
    assert!(search("芯片", title));
    assert!(search("模数转换", title));
    assert!(search("芯", title));
    assert!(search("模数转换 芯片", title));
    assert!(!search("数模转换", title));
    assert_eq!(build_tsquery("芯").unwrap(), "'芯':*");
}

#[test]
fn english_is_case_insensitive_and_prefix_matched() {
    let text = "Heavy-duty F-class Gas Turbine";
    assert_eq!(build_tsquery("TURBINE").unwrap(), "'turbine':*");
    assert!(search("TURBINE", text));
    assert!(search("gas turb", text));
    assert!(search("ｇａｓ", text));
    assert!(!search("steam turbine", text));
}

#[test]
fn the_three_spellings_of_a_patent_number_find_it() {
    let v = TsVectorBuilder::new()
        .add("专利号", 'A')
        .add_patent_numbers(&["ZL201710601862.3".to_string()])
        .build();
    assert!(v.contains("'2017106018623':"), "{v}");
    assert!(v.contains("'201710601862':"), "{v}");
    for q in [
        "ZL201710601862.3",
        "201710601862.3",
        "CN2017106018623",
        "zl 201710601862.3",
        "专利号：ZL201710601862.3",
        "ＺＬ２０１７１０６０１８６２．３",
        "201710601862",
    ] {
        let query = build_tsquery(q).unwrap();
        assert!(query.contains("'201710601862':*"), "{q} → {query}");
        assert!(matches(&query, &v), "{q} → {query}");
    }
    assert!(!matches(&build_tsquery("201710601863").unwrap(), &v));
}

#[test]
fn patent_tokens_cover_canonical_and_check_free_forms() {
    let tokens = patent_tokens(&[
        "ZL201710601862.3".to_string(),
        "95115608.X".to_string(),
        "2021SR0123456".to_string(),
        "201710601862.3".to_string(),
        "—".to_string(),
    ]);
    assert_eq!(
        tokens,
        [
            "2017106018623",
            "201710601862",
            "95115608x",
            "95115608",
            "2021sr0123456"
        ]
    );
    assert!(matches(
        &build_tsquery("95115608.X").unwrap(),
        &TsVectorBuilder::new().add_tokens(&tokens, 'A').build()
    ));
    assert!(matches(
        &build_tsquery("2021SR0123456").unwrap(),
        &TsVectorBuilder::new().add_tokens(&tokens, 'A').build()
    ));
}

#[test]
fn queries_without_tokens_are_none_and_quotes_are_escaped() {
    assert_eq!(build_tsquery(""), None);
    assert_eq!(build_tsquery("  ,.!'&|()<->:*  "), None);
    assert_eq!(
        build_tsquery("a'b & c|d"),
        Some("'a':* & 'b':* & 'c':* & 'd':*".to_string())
    );
    let mut s = String::new();
    quote("it's a\\b", &mut s);
    assert_eq!(s, "'it''s a\\\\b'");
    assert_eq!(
        build_tsquery("芯 芯 chip CHIP"),
        Some("'芯':* & 'chip':*".to_string())
    );
}

#[test]
fn term_sets_are_distinct_tokens() {
    let s = term_set("燃气轮机 燃气");
    assert_eq!(s.len(), 3);
    assert!(s.contains("燃气") && s.contains("轮机"));
}

#[test]
fn positions_stop_at_the_postgres_limit_and_output_stays_bounded() {
    let text = "ab ".repeat(20_000) + " zz";
    let v = TsVectorBuilder::new().add(&text, 'C').build();
    let parsed = parse_tsvector(&v).unwrap();
    assert_eq!(parsed["ab"].len(), MAX_POSITIONS_PER_LEXEME);
    assert_eq!(parsed["zz"], Vec::<u32>::new());
    let distinct: String = (0..40_000u32)
        .filter_map(|i| char::from_u32(0x4E00 + i % 20_000))
        .collect();
    let v = TsVectorBuilder::new().add(&distinct, 'D').build();
    let parsed = parse_tsvector(&v).unwrap();
    assert!(parsed
        .values()
        .all(|ps| ps.iter().all(|&p| p <= MAX_POSITION)));
    assert!(v.len() < 2 * MAX_LEXEME_BYTES);
}

proptest! {
    #[test]
    fn any_text_gives_a_well_formed_tsquery_or_none(q in "\\PC{0,40}") {
        if let Some(query) = build_tsquery(&q) {
            prop_assert!(parse_tsquery(&query).is_ok(), "{:?} → {}", q, query);
        }
    }

    #[test]
    fn any_text_gives_a_well_formed_tsvector(t in "\\PC{0,80}", w in proptest::sample::select(vec!['A', 'B', 'C', 'D', 'x'])) {
        let v = TsVectorBuilder::new().add(&t, w).add_patent_numbers(std::slice::from_ref(&t)).build();
        prop_assert!(parse_tsvector(&v).is_ok(), "{:?} → {}", t, v);
    }

    #[test]
    fn mixed_scripts_give_well_formed_literals(
        q in proptest::collection::vec(
            prop_oneof![
                Just("燃气".to_string()), Just("'".to_string()), Just("\\".to_string()),
                Just("ZL".to_string()), Just("201710601862.3".to_string()), Just(" ".to_string()),
                Just("Ａ".to_string()), Just(".".to_string()), "[a-z0-9]{1,4}", "[\u{4e00}-\u{4e10}]{1,3}",
            ],
            0..12,
        ).prop_map(|v| v.concat())
    ) {
        if let Some(query) = build_tsquery(&q) {
            prop_assert!(parse_tsquery(&query).is_ok(), "{:?} → {}", q, query);
        }
        let v = vector(&q);
        prop_assert!(parse_tsvector(&v).is_ok());
    }

    #[test]
    fn a_text_always_matches_its_own_query(t in "[a-zA-Z0-9\u{4e00}-\u{4e20} ,.]{1,30}") {
        if let Some(query) = build_tsquery(&t) {
            prop_assert!(matches(&query, &vector(&t)), "{:?} → {} vs {}", t, query, vector(&t));
        }
    }
}
