//! Search tokens for Chinese and English text: the core of listing search.
//!
//! We compute both sides of Postgres full-text search in Rust, independent of any text search configuration:
//! a `tsvector` literal (cast with `$1::tsvector`) for each listing and a `tsquery` literal (`$1::tsquery`)
//! for each search.
//!
//! Tokenisation: full-width ASCII is folded to ASCII, then the text is split into runs:
//! - a run of Han characters (CJK unified ideographs incl. extensions, and compatibility ideographs) gives
//!   its overlapping character bigrams at consecutive positions (`燃气轮机` → `燃气 气轮 轮机`);
//!   a lone Han character gives itself;
//! - a run of other letters and digits gives one lower-cased word (`F级` → `f`, `级`; `GB/T` → `gb`, `t`;
//!   `50兆瓦` → `50`, `兆瓦`), cut to 64 characters;
//! - everything else separates runs.
//!
//! Consecutive runs are two positions apart, so a phrase never matches across a run boundary.
//! Patent numbers are indexed as their canonical form and as the digits without the check character
//! ([`patent_tokens`]); a query that looks like a patent number becomes a prefix of the latter, so
//! `ZL201710601862.3`, `201710601862.3` and `CN2017106018623` all find `2017106018623`.

use std::collections::{HashMap, HashSet};

use super::normalize::fold_width;
use super::patent::PatentNumber;

/// Highest position Postgres stores in a tsvector.
pub const MAX_POSITION: u32 = 16_383;
/// Most positions Postgres keeps per lexeme.
pub const MAX_POSITIONS_PER_LEXEME: usize = 256;
/// Words are cut to this many characters (Postgres limits a lexeme to 2 KiB).
pub const MAX_WORD_CHARS: usize = 64;
/// Total lexeme bytes in one tsvector (Postgres limits a tsvector to 1 MiB).
pub const MAX_LEXEME_BYTES: usize = 512 * 1024;
/// Most terms in one query; the rest of a very long query is ignored.
pub const MAX_QUERY_TERMS: usize = 32;

/// Han ideographs: unified (incl. extensions A–H) and compatibility ideographs.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

/// A run of the text: Han characters, or one lower-cased word.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    Cjk(Vec<char>),
    Word(String),
}

impl Run {
    /// The run's tokens, one per position.
    fn tokens(&self) -> Vec<String> {
        match self {
            Run::Word(w) => vec![w.clone()],
            Run::Cjk(chars) if chars.len() == 1 => vec![chars[0].to_string()],
            Run::Cjk(chars) => chars.windows(2).map(|w| w.iter().collect()).collect(),
        }
    }
}

/// Split text into runs (see the module doc).
fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut cjk: Vec<char> = Vec::new();
    let mut word = String::new();
    let mut word_chars = 0usize;
    let flush_word = |word: &mut String, word_chars: &mut usize, out: &mut Vec<Run>| {
        if !word.is_empty() {
            out.push(Run::Word(std::mem::take(word)));
        }
        *word_chars = 0;
    };
    for c in text.chars().map(fold_width) {
        if is_cjk(c) {
            flush_word(&mut word, &mut word_chars, &mut out);
            cjk.push(c);
        } else if c.is_alphanumeric() {
            if !cjk.is_empty() {
                out.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
            for l in c.to_lowercase() {
                if word_chars < MAX_WORD_CHARS {
                    word.push(l);
                    word_chars += 1;
                }
            }
        } else {
            flush_word(&mut word, &mut word_chars, &mut out);
            if !cjk.is_empty() {
                out.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
        }
    }
    flush_word(&mut word, &mut word_chars, &mut out);
    if !cjk.is_empty() {
        out.push(Run::Cjk(cjk));
    }
    out
}

/// The tokens of `text` in order, repeats included.
pub fn index_tokens(text: &str) -> Vec<String> {
    runs(text).iter().flat_map(Run::tokens).collect()
}

/// The distinct tokens of `text` (bigrams and words), for overlap scores.
pub fn term_set(text: &str) -> HashSet<String> {
    runs(text).iter().flat_map(Run::tokens).collect()
}

/// The lower-cased letters and digits of `s`, cut to [`MAX_WORD_CHARS`].
fn alnum_lower(s: &str) -> String {
    s.chars()
        .map(fold_width)
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .take(MAX_WORD_CHARS)
        .collect()
}

/// Index tokens of IP numbers: for a valid patent number its canonical form (`2017106018623`) and its
/// digits without the check character (`201710601862`); otherwise its lower-cased letters and digits.
pub fn patent_tokens(numbers: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |t: String| {
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    };
    for n in numbers {
        match PatentNumber::parse(n) {
            Ok(p) => {
                push(p.canonical().to_lowercase());
                push(p.digits().to_string());
            }
            Err(_) => push(alnum_lower(n)),
        }
    }
    out
}

/// Quote a lexeme for a tsvector or tsquery literal: `'…'` with `''` for a quote and `\\` for a backslash.
fn quote(lexeme: &str, out: &mut String) {
    out.push('\'');
    for c in lexeme.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
}

/// Builds a Postgres `tsvector` literal with positions and weights, e.g.
/// `'燃气':1A '气轮':2A '轮机':3A 'turbine':7`.
///
/// Positions run from 1; each run (and each `add` call) starts two positions after the previous run ended.
/// Past position 16 383 new lexemes are still recorded, without positions (plain matches still work, phrases
/// do not); a lexeme keeps at most 256 positions; total lexeme bytes are bounded by [`MAX_LEXEME_BYTES`].
/// Add the important text (title, IP numbers) first.
#[derive(Debug, Clone, Default)]
pub struct TsVectorBuilder {
    lexemes: Vec<(String, Vec<(u16, u8)>)>,
    index: HashMap<String, usize>,
    /// Position of the last token added; 0 before the first.
    last_pos: u32,
    bytes: usize,
}

/// Weight letter → 3 (A) … 0 (D); anything else is D.
fn weight_code(weight: char) -> u8 {
    match weight.to_ascii_uppercase() {
        'A' => 3,
        'B' => 2,
        'C' => 1,
        _ => 0,
    }
}

impl TsVectorBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the tokens of `text` with `weight` (`'A'` most important … `'D'`, the default).
    pub fn add(&mut self, text: &str, weight: char) -> &mut Self {
        let w = weight_code(weight);
        for run in runs(text) {
            self.add_run(&run.tokens(), w);
        }
        self
    }

    /// Add ready-made tokens (each its own run), e.g. from [`patent_tokens`].
    pub fn add_tokens(&mut self, tokens: &[String], weight: char) -> &mut Self {
        let w = weight_code(weight);
        for t in tokens {
            if !t.is_empty() {
                self.add_run(std::slice::from_ref(t), w);
            }
        }
        self
    }

    /// Add IP numbers as weight `A` tokens ([`patent_tokens`]).
    pub fn add_patent_numbers(&mut self, numbers: &[String]) -> &mut Self {
        self.add_tokens(&patent_tokens(numbers), 'A')
    }

    fn add_run(&mut self, tokens: &[String], weight: u8) {
        let mut pos = if self.last_pos == 0 {
            1
        } else {
            self.last_pos.saturating_add(2)
        };
        for t in tokens {
            self.record(t, pos, weight);
            self.last_pos = pos;
            pos = pos.saturating_add(1);
        }
    }

    fn record(&mut self, token: &str, pos: u32, weight: u8) {
        let idx = match self.index.get(token) {
            Some(&i) => i,
            None => {
                if self.bytes + token.len() > MAX_LEXEME_BYTES {
                    return;
                }
                self.bytes += token.len();
                self.lexemes.push((token.to_string(), Vec::new()));
                self.index.insert(token.to_string(), self.lexemes.len() - 1);
                self.lexemes.len() - 1
            }
        };
        if pos <= MAX_POSITION {
            if let Some((_, positions)) = self.lexemes.get_mut(idx) {
                if positions.len() < MAX_POSITIONS_PER_LEXEME {
                    positions.push((pos as u16, weight));
                }
            }
        }
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.lexemes.is_empty()
    }

    /// The tsvector literal (empty string for no tokens, which Postgres reads as an empty tsvector).
    pub fn build(&self) -> String {
        let mut out = String::with_capacity(self.bytes * 2 + self.lexemes.len() * 8);
        for (i, (lexeme, positions)) in self.lexemes.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            quote(lexeme, &mut out);
            for (j, &(pos, weight)) in positions.iter().enumerate() {
                out.push(if j == 0 { ':' } else { ',' });
                out.push_str(&pos.to_string());
                match weight {
                    3 => out.push('A'),
                    2 => out.push('B'),
                    1 => out.push('C'),
                    _ => {}
                }
            }
        }
        out
    }
}

/// A query term.
#[derive(Debug, Clone, PartialEq, Eq)]
enum QueryTerm {
    /// Consecutive bigrams of a Han run.
    Phrase(Vec<String>),
    /// One lexeme, exactly.
    Exact(String),
    /// Any lexeme starting with this.
    Prefix(String),
}

impl QueryTerm {
    fn render(&self, out: &mut String) {
        match self {
            QueryTerm::Exact(l) => quote(l, out),
            QueryTerm::Prefix(l) => {
                quote(l, out);
                out.push_str(":*");
            }
            QueryTerm::Phrase(ls) => {
                out.push('(');
                for (i, l) in ls.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" <-> ");
                    }
                    quote(l, out);
                }
                out.push(')');
            }
        }
    }
}

/// The query prefix for a piece of text that looks like a patent number, if it does:
/// a valid number (any spelling) gives its digits without the check character; otherwise, after removing a
/// `ZL`/`CN` prefix and dots, 8 or more digits (optionally ending in `X`) give themselves.
fn patent_query_prefix(segment: &str) -> Option<String> {
    let seg = segment.trim_matches('.');
    if let Ok(p) = PatentNumber::parse(seg) {
        return Some(p.digits().to_string());
    }
    let upper = seg.to_ascii_uppercase();
    let body = upper
        .strip_prefix("ZL")
        .or_else(|| upper.strip_prefix("CN"))
        .unwrap_or(&upper);
    let compact: String = body.chars().filter(|&c| c != '.').collect();
    let digits = compact.strip_suffix('X').unwrap_or(&compact);
    if digits.len() >= 8 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Some(
            compact
                .to_lowercase()
                .chars()
                .take(MAX_WORD_CHARS)
                .collect(),
        )
    } else {
        None
    }
}

/// Take the patent-number-looking pieces out of a query: returns their prefixes and the rest of the text
/// (each piece replaced by a space). A piece is a maximal run of ASCII letters, digits and dots; a lone
/// `ZL`/`CN` directly before such a number (`ZL 201710601862.3`) belongs to it.
fn extract_patent_numbers(q: &str) -> (Vec<String>, String) {
    let chars: Vec<char> = q.chars().collect();
    let mut prefixes = Vec::new();
    let mut rest = String::with_capacity(q.len());
    let is_piece = |c: char| c.is_ascii_alphanumeric() || c == '.';
    let mut i = 0;
    while i < chars.len() {
        if !is_piece(chars[i]) {
            rest.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_piece(chars[i]) {
            i += 1;
        }
        let piece: String = chars[start..i].iter().collect();
        if let Some(p) = patent_query_prefix(&piece) {
            prefixes.push(p);
            rest.push(' ');
            continue;
        }
        // `ZL` / `CN` followed by spaces and a number.
        if piece.eq_ignore_ascii_case("zl") || piece.eq_ignore_ascii_case("cn") {
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            let next_start = j;
            while j < chars.len() && is_piece(chars[j]) {
                j += 1;
            }
            let next: String = chars[next_start..j].iter().collect();
            if next_start > i && next.starts_with(|c: char| c.is_ascii_digit()) {
                if let Some(p) = patent_query_prefix(&next) {
                    prefixes.push(p);
                    rest.push(' ');
                    i = j;
                    continue;
                }
            }
        }
        rest.push_str(&piece);
    }
    (prefixes, rest)
}

/// The Postgres `tsquery` literal for a search, or `None` when `q` has nothing searchable.
///
/// A Han run of two or more characters becomes a phrase of its bigrams (`('燃气' <-> '气轮' <-> '轮机')`),
/// a lone Han character a prefix (`'芯':*`), a word a prefix (`'turbine':*`), a patent number the prefix
/// of its indexed form (`'201710601862':*`). Terms are joined with `&`. Every lexeme is quoted, so any input
/// gives a well-formed query. At most [`MAX_QUERY_TERMS`] terms.
pub fn build_tsquery(q: &str) -> Option<String> {
    let folded: String = q.chars().map(fold_width).collect();
    let (patents, rest) = extract_patent_numbers(&folded);
    let mut terms: Vec<QueryTerm> = patents.into_iter().map(QueryTerm::Prefix).collect();
    for run in runs(&rest) {
        let term = match run {
            Run::Word(w) => QueryTerm::Prefix(w),
            Run::Cjk(chars) if chars.len() == 1 => QueryTerm::Prefix(chars[0].to_string()),
            Run::Cjk(chars) if chars.len() == 2 => QueryTerm::Exact(chars.iter().collect()),
            Run::Cjk(chars) => {
                QueryTerm::Phrase(chars.windows(2).map(|w| w.iter().collect()).collect())
            }
        };
        terms.push(term);
    }
    let mut unique: Vec<QueryTerm> = Vec::new();
    for t in terms {
        if !unique.contains(&t) && unique.len() < MAX_QUERY_TERMS {
            unique.push(t);
        }
    }
    if unique.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (i, t) in unique.iter().enumerate() {
        if i > 0 {
            out.push_str(" & ");
        }
        t.render(&mut out);
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
            [
                "f", "级", "50", "兆瓦", "瓦重", "重型", "型燃", "燃气", "气轮", "轮机"
            ]
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
}
