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

    /// The vector [`TsVectorBuilder::build`] writes, as its lexemes in PostgreSQL's order (bytewise),
    /// each with its positions (position, weight: 3 = A … 0 = D), for the binary form.
    pub fn sorted(&self) -> Vec<(&str, &[(u16, u8)])> {
        let mut lexemes: Vec<(&str, &[(u16, u8)])> = self
            .lexemes
            .iter()
            .map(|(l, p)| (l.as_str(), p.as_slice()))
            .collect();
        lexemes.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        lexemes
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

/// Tests (their own file: this one is near the size limit).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
