//! The bilingual technology vocabulary: concepts with Chinese and English terms, broader and related concepts,
//! and the analysis of a text into the concepts it mentions.
//!
//! The data lives in `data/vocabulary/` (format, sources and licences in its README.md): hand-written concepts
//! for each of the fifteen fields (`fields/*.txt`, plus `general.txt` for plain words that belong to no field)
//! and concepts generated from CC-CEDICT (`cedict/*.txt`). The files are embedded in the binary and parsed
//! once, on first use ([`vocabulary`]); the server touches it at start so that no request pays for it.
//!
//! # Analysis
//! A text is folded (full-width to ASCII, lower case) and scanned twice:
//! - Chinese terms (any term with a Han character) are found as substrings, leftmost-longest, by one
//!   Aho–Corasick automaton: `水轮机转轮热喷涂涂层` → 水轮机 · 转轮 · 热喷涂 · 涂层 (or one longer term if the
//!   vocabulary has it);
//! - English terms are matched as whole word sequences, longest first, after [`fold_english_word`]
//!   (British spellings and plural endings folded: `Coatings` → `coating`, `odour` → `odor`).
//!
//! What no term covers is kept as residual tokens (character bigrams of the uncovered Han text, and the
//! uncovered words), so that names the vocabulary does not know (`AEB`, `RISC-V`) still count.
//!
//! # Relations
//! Each concept has broader concepts (written `> a, b`) and related ones (`~ a, b`: a problem and its remedy,
//! a part and its whole; symmetric). A concept with no written broader one gets the concept of its
//! compound term's head when a hand-written, specific concept of the same field (or of no field) has that
//! head as a term: `热喷涂涂层` → `涂层`, `hydraulic turbine runner` → `runner` (Chinese and English
//! compounds put the head last). A CC-CEDICT entry whose Chinese headword is already a written term is
//! left out: the written concept, with its relations, stands for it.

use std::collections::{HashMap, HashSet};
use std::hash::Hasher;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

mod embedded;
mod english;

use super::codes::Field;
use super::normalize::fold_width;
use super::text::is_cjk;
pub use embedded::{embedded_files, load_errors, vocabulary};
pub use english::fold_english_word;
use english::ENGLISH_STOP;

/// Index of a concept in [`Vocabulary::concepts`].
pub type ConceptId = u32;

/// Where a concept comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Written for techmarket (`fields/*.txt`, `general.txt`).
    Written,
    /// Generated from CC-CEDICT (`cedict/*.txt`).
    Cedict,
}

/// How a concept is reached from another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The concept itself.
    Same,
    /// A broader concept, `n` steps up.
    Broader(u8),
    /// A related concept (written `~`).
    Related,
}

/// One concept: its terms in both languages and its place among the others.
#[derive(Debug, Clone)]
pub struct Concept {
    /// The first term, which names it.
    pub label: String,
    /// Every term as written (Chinese and English).
    pub terms: Vec<String>,
    /// The field of its file; `None` for general words.
    pub field: Option<Field>,
    pub source: Source,
    /// Says little on its own (written with a leading `!`): 技术, system, 方法.
    pub generic: bool,
    pub broader: Vec<ConceptId>,
    pub related: Vec<ConceptId>,
}

impl Concept {
    /// The first Chinese term, if any.
    pub fn zh(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.chars().any(is_cjk))
            .map(String::as_str)
    }

    /// The first English term, if any.
    pub fn en(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| !t.chars().any(is_cjk))
            .map(String::as_str)
    }
}

/// One vocabulary file to load.
#[derive(Debug, Clone, Copy)]
pub struct VocabularyFile<'a> {
    /// For error messages, e.g. `fields/eco.txt`.
    pub name: &'a str,
    pub field: Option<Field>,
    pub source: Source,
    pub text: &'a str,
}

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A concept found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The concepts of the matched term (one term may name several concepts).
    pub concepts: Vec<ConceptId>,
    /// The text as written.
    pub surface: String,
}

/// What a text mentions: concept hits in order, and residual tokens no term covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub hits: Vec<Hit>,
    pub residual: Vec<String>,
    /// Residual tokens that are only pieces of a longer uncovered run (bigrams of `受不了`): they count,
    /// but a reason does not show them.
    pub fragments: Vec<String>,
}

/// A concept reached from another, with how strongly (per mille) and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    pub concept: ConceptId,
    pub relation: Relation,
}

/// The loaded vocabulary: concepts, term indexes and precomputed neighbourhoods.
pub struct Vocabulary {
    concepts: Vec<Concept>,
    zh: Option<AhoCorasick>,
    /// Concepts of each Chinese pattern of `zh`.
    zh_concepts: Vec<Vec<ConceptId>>,
    /// Folded English phrase (words joined by one space) → concepts.
    en: HashMap<String, Vec<ConceptId>>,
    en_max_words: usize,
    /// For each concept: itself, its broader concepts up to two steps, and its related concepts.
    neighbours: Vec<Vec<Neighbour>>,
    /// Per mille: how much a concept says (fewer narrower concepts → more).
    specificity: Vec<u16>,
    /// FNV-1a of the files it was loaded from (names and texts, in order): what concept ids mean.
    fingerprint: u64,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("concepts", &self.concepts.len())
            .field("english_phrases", &self.en.len())
            .finish()
    }
}

/// A character as the scanner sees it: full-width folded and lower-cased (one char for one char).
fn fold_char(c: char) -> char {
    let c = fold_width(c);
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// An English word character (letters and digits that are not Han).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// The folded English words of a term or text.
fn english_words(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(fold_char(c)))
        .filter(|w| !w.is_empty())
        .map(|w| fold_english_word(&w.chars().map(fold_char).collect::<String>()))
        .collect()
}

/// A term's key: Chinese terms folded as text, English ones as folded words joined by spaces
/// (a leading article dropped). `None` for a term that cannot be matched.
fn term_key(term: &str) -> Option<(bool, String)> {
    if term.chars().any(is_cjk) {
        let key: String = term
            .chars()
            .map(fold_char)
            .filter(|c| !c.is_whitespace())
            .collect();
        Some((true, key))
    } else {
        let mut words = english_words(term);
        if words.len() > 1 && matches!(words[0].as_str(), "a" | "an" | "the") {
            words.remove(0);
        }
        (!words.is_empty()).then(|| (false, words.join(" ")))
    }
}

/// Relations of a concept, still by name.
struct Pending {
    concept: usize,
    file: usize,
    line: usize,
    broader: Vec<String>,
    related: Vec<String>,
}

/// One parsed line.
struct Line<'a> {
    generic: bool,
    terms: Vec<&'a str>,
    broader: Vec<&'a str>,
    related: Vec<&'a str>,
}

fn split_names(s: &str) -> Vec<&str> {
    s.split([',', '，', '、'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect()
}

/// Parse one non-empty, non-comment line: `[!] term | term … [> broader, …] [~ related, …]`.
fn parse_line(line: &str) -> Result<Line<'_>, String> {
    let (generic, body) = match line.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let cut = body.find(['>', '~']).unwrap_or(body.len());
    let terms: Vec<&str> = body[..cut]
        .split('|')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if terms.is_empty() {
        return Err("a concept needs at least one term".into());
    }
    let mut broader = Vec::new();
    let mut related = Vec::new();
    let mut rest = &body[cut..];
    while let Some(mark) = rest.chars().next() {
        let after = &rest[mark.len_utf8()..];
        let end = after.find(['>', '~']).unwrap_or(after.len());
        let names = split_names(&after[..end]);
        if names.is_empty() {
            return Err(format!("`{mark}` needs at least one concept name"));
        }
        if mark == '>' {
            broader.extend(names);
        } else {
            related.extend(names);
        }
        rest = &after[end..];
    }
    Ok(Line {
        generic,
        terms,
        broader,
        related,
    })
}

/// Specificity (per mille) of a concept with `descendants` narrower concepts: 4000 / (4 + ⌊log2(1 + n)⌋),
/// so 1000 with none, 800 with one, 500 with 15, 400 with 63.
fn specificity_of(descendants: usize) -> u16 {
    let log2 = usize::BITS - 1 - (descendants + 1).leading_zeros();
    (4000 / (4 + log2)) as u16
}

/// Per mille of a generic concept.
pub const GENERIC_SPECIFICITY: u16 = 100;

impl Vocabulary {
    /// Load files; lines that cannot be read are skipped and reported.
    pub fn load(files: &[VocabularyFile<'_>]) -> (Vocabulary, Vec<LoadError>) {
        let mut errors = Vec::new();
        let mut concepts: Vec<Concept> = Vec::new();
        // Chinese terms of written concepts: a dictionary entry with one of them adds nothing.
        let written_zh: HashSet<String> = files
            .iter()
            .filter(|f| f.source == Source::Written)
            .flat_map(|f| f.text.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| parse_line(l).ok())
            .flat_map(|l| l.terms)
            .filter_map(term_key)
            .filter(|(zh, _)| *zh)
            .map(|(_, k)| k)
            .collect();
        let mut pending: Vec<Pending> = Vec::new();
        for (fi, file) in files.iter().enumerate() {
            for (i, raw) in file.text.lines().enumerate() {
                let line = raw.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let err = |message: String| LoadError {
                    file: file.name.to_string(),
                    line: i + 1,
                    message,
                };
                let parsed = match parse_line(line) {
                    Ok(p) => p,
                    Err(m) => {
                        errors.push(err(m));
                        continue;
                    }
                };
                let mut terms = Vec::new();
                for t in &parsed.terms {
                    match term_key(t) {
                        Some((true, key)) if key.chars().count() < 2 => {
                            errors.push(err(format!(
                                "`{t}`: a Chinese term needs two characters or more"
                            )));
                        }
                        Some(_) => terms.push(t.to_string()),
                        None => errors.push(err(format!("`{t}` has no letters"))),
                    }
                }
                if terms.is_empty() {
                    continue;
                }
                if file.source == Source::Cedict
                    && terms
                        .iter()
                        .any(|t| term_key(t).is_some_and(|(zh, k)| zh && written_zh.contains(&k)))
                {
                    continue;
                }
                let id = concepts.len();
                concepts.push(Concept {
                    label: terms[0].clone(),
                    terms,
                    field: file.field,
                    source: file.source,
                    generic: parsed.generic,
                    broader: Vec::new(),
                    related: Vec::new(),
                });
                if !parsed.broader.is_empty() || !parsed.related.is_empty() {
                    pending.push(Pending {
                        concept: id,
                        file: fi,
                        line: i + 1,
                        broader: parsed.broader.iter().map(|s| s.to_string()).collect(),
                        related: parsed.related.iter().map(|s| s.to_string()).collect(),
                    });
                }
            }
        }

        // Term indexes.
        let mut by_key: HashMap<(bool, String), Vec<ConceptId>> = HashMap::new();
        for (id, c) in concepts.iter().enumerate() {
            for t in &c.terms {
                if let Some(k) = term_key(t) {
                    let ids = by_key.entry(k).or_default();
                    if !ids.contains(&(id as ConceptId)) {
                        ids.push(id as ConceptId);
                    }
                }
            }
        }

        // Relations by name: prefer a written concept, then one of the same file's field.
        let resolve = |name: &str, from: usize| -> Option<ConceptId> {
            let ids = by_key.get(&term_key(name)?)?;
            let field = concepts[from].field;
            ids.iter()
                .copied()
                .filter(|&c| c as usize != from)
                .min_by_key(|&c| {
                    let concept = &concepts[c as usize];
                    (concept.source != Source::Written, concept.field != field, c)
                })
        };
        let mut links: Vec<(usize, ConceptId, bool)> = Vec::new();
        for p in &pending {
            for (names, is_broader) in [(&p.broader, true), (&p.related, false)] {
                for name in names {
                    match resolve(name, p.concept) {
                        Some(target) => links.push((p.concept, target, is_broader)),
                        None => errors.push(LoadError {
                            file: files[p.file].name.to_string(),
                            line: p.line,
                            message: format!("no concept has the term `{name}`"),
                        }),
                    }
                }
            }
        }
        for (id, target, is_broader) in links {
            if is_broader {
                if !concepts[id].broader.contains(&target) {
                    concepts[id].broader.push(target);
                }
            } else {
                if !concepts[id].related.contains(&target) {
                    concepts[id].related.push(target);
                }
                let back = id as ConceptId;
                if !concepts[target as usize].related.contains(&back) {
                    concepts[target as usize].related.push(back);
                }
            }
        }

        // Heads: for a concept with no written broader one, the longest proper suffix of a compound term
        // that is a term of a written, specific concept of the same field (or of no field).
        let written_head = |key: &(bool, String), from: usize| -> Option<ConceptId> {
            let ids = by_key.get(key)?;
            ids.iter().copied().find(|&c| {
                let head = &concepts[c as usize];
                c as usize != from
                    && head.source == Source::Written
                    && !head.generic
                    && (head.field.is_none() || head.field == concepts[from].field)
            })
        };
        let mut heads: Vec<(usize, ConceptId)> = Vec::new();
        for (id, c) in concepts.iter().enumerate() {
            if !c.broader.is_empty() {
                continue;
            }
            for t in &c.terms {
                let Some((zh, key)) = term_key(t) else {
                    continue;
                };
                let found = if zh {
                    let chars: Vec<char> = key.chars().collect();
                    (1..chars.len().saturating_sub(1)).find_map(|start| {
                        let suffix: String = chars[start..].iter().collect();
                        written_head(&(true, suffix), id)
                    })
                } else {
                    let words: Vec<&str> = key.split(' ').collect();
                    (1..words.len())
                        .find_map(|start| written_head(&(false, words[start..].join(" ")), id))
                };
                if let Some(h) = found {
                    heads.push((id, h));
                }
            }
        }
        for (id, h) in heads {
            if !concepts[id].broader.contains(&h) {
                concepts[id].broader.push(h);
            }
        }

        // Neighbourhoods and specificity.
        let n = concepts.len();
        let mut neighbours = Vec::with_capacity(n);
        for id in 0..n {
            let mut out = vec![Neighbour {
                concept: id as ConceptId,
                relation: Relation::Same,
            }];
            let mut seen: HashSet<ConceptId> = HashSet::from([id as ConceptId]);
            let mut level: Vec<ConceptId> = vec![id as ConceptId];
            for depth in 1..=2u8 {
                let mut next = Vec::new();
                for &c in &level {
                    for &b in &concepts[c as usize].broader {
                        if seen.insert(b) {
                            out.push(Neighbour {
                                concept: b,
                                relation: Relation::Broader(depth),
                            });
                            next.push(b);
                        }
                    }
                }
                level = next;
            }
            for &r in &concepts[id].related {
                if seen.insert(r) {
                    out.push(Neighbour {
                        concept: r,
                        relation: Relation::Related,
                    });
                }
            }
            neighbours.push(out);
        }
        let mut descendants: Vec<HashSet<ConceptId>> = vec![HashSet::new(); n];
        for id in 0..n {
            // Every ancestor (any depth, cycles cut) counts this concept as a descendant.
            let mut stack: Vec<ConceptId> = concepts[id].broader.clone();
            let mut seen: HashSet<ConceptId> = HashSet::new();
            while let Some(a) = stack.pop() {
                if a as usize == id || !seen.insert(a) {
                    continue;
                }
                descendants[a as usize].insert(id as ConceptId);
                stack.extend(concepts[a as usize].broader.iter().copied());
            }
        }
        let specificity = (0..n)
            .map(|id| {
                if concepts[id].generic {
                    GENERIC_SPECIFICITY
                } else {
                    specificity_of(descendants[id].len())
                }
            })
            .collect();

        // Scanners.
        let mut zh_patterns: Vec<String> = Vec::new();
        let mut zh_concepts: Vec<Vec<ConceptId>> = Vec::new();
        let mut en: HashMap<String, Vec<ConceptId>> = HashMap::new();
        let mut en_max_words = 1;
        let mut keys: Vec<(&(bool, String), &Vec<ConceptId>)> = by_key.iter().collect();
        keys.sort();
        for ((zh, key), ids) in keys {
            if *zh {
                zh_patterns.push(key.clone());
                zh_concepts.push(ids.clone());
            } else {
                en_max_words = en_max_words.max(key.split(' ').count());
                en.insert(key.clone(), ids.clone());
            }
        }
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        let zh = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&zh_patterns)
            .map_err(|e| {
                errors.push(LoadError {
                    file: "(all)".into(),
                    line: 0,
                    message: format!("Chinese term index: {e}"),
                })
            })
            .ok();
        let mut fingerprint = fnv::FnvHasher::default();
        for f in files {
            fingerprint.write(f.name.as_bytes());
            fingerprint.write(&[0]);
            fingerprint.write(f.text.as_bytes());
            fingerprint.write(&[0]);
        }
        (
            Vocabulary {
                fingerprint: fingerprint.finish(),
                concepts,
                zh,
                zh_concepts,
                en,
                en_max_words,
                neighbours,
                specificity,
            },
            errors,
        )
    }

    /// Identifies the data the vocabulary was loaded from: concept ids stored with one fingerprint mean
    /// nothing under another (stored listing profiles are recomputed when it changes).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    pub fn concept(&self, id: ConceptId) -> &Concept {
        &self.concepts[id as usize]
    }

    /// The concept itself, its broader concepts (two steps) and its related ones.
    pub fn neighbours(&self, id: ConceptId) -> &[Neighbour] {
        &self.neighbours[id as usize]
    }

    /// How much a concept says on its own, per mille (generic ones 100).
    pub fn specificity(&self, id: ConceptId) -> u16 {
        self.specificity[id as usize]
    }

    /// The concepts that have `term` (Chinese or English, in any spelling the scanner folds).
    pub fn lookup(&self, term: &str) -> Vec<ConceptId> {
        match term_key(term) {
            Some((true, key)) => self
                .zh
                .as_ref()
                .and_then(|ac| {
                    ac.find_iter(&key)
                        .find(|m| m.start() == 0 && m.end() == key.len())
                        .map(|m| self.zh_concepts[m.pattern().as_usize()].clone())
                })
                .unwrap_or_default(),
            Some((false, key)) => self.en.get(&key).cloned().unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// The concepts and residual tokens of `text` (see the module doc).
    pub fn analyze(&self, text: &str) -> Analysis {
        let mut out = Analysis::default();
        // Folded text, one char per original char; `orig` maps folded byte offsets to original ones.
        let mut folded = String::with_capacity(text.len());
        let mut orig: Vec<usize> = Vec::with_capacity(text.len() + 1);
        for (i, c) in text.char_indices() {
            let f = fold_char(c);
            for _ in 0..f.len_utf8() {
                orig.push(i);
            }
            folded.push(f);
        }
        orig.push(text.len());
        let surface = |a: usize, b: usize| text[orig[a]..orig[b]].to_string();

        // Chinese terms: spans of the folded text, in order.
        let mut covered: Vec<(usize, usize)> = Vec::new();
        let mut zh_hits: Vec<(usize, Hit)> = Vec::new();
        if let Some(ac) = &self.zh {
            for m in ac.find_iter(&folded) {
                covered.push((m.start(), m.end()));
                zh_hits.push((
                    m.start(),
                    Hit {
                        concepts: self.zh_concepts[m.pattern().as_usize()].clone(),
                        surface: surface(m.start(), m.end()),
                    },
                ));
            }
        }

        // Runs: Han characters outside Chinese terms → bigrams; words → English phrases or residual.
        let mut en_hits: Vec<(usize, Hit)> = Vec::new();
        let mut words: Vec<(usize, usize, String)> = Vec::new(); // (start, end, folded word)
        let mut han: Vec<char> = Vec::new();
        let flush_han = |han: &mut Vec<char>, out: &mut Analysis| {
            let (tokens, whole) = han_tokens(han);
            for t in tokens {
                if !whole && !out.fragments.contains(&t) {
                    out.fragments.push(t.clone());
                }
                if !out.residual.contains(&t) {
                    out.residual.push(t);
                }
            }
            han.clear();
        };
        let mut word_start: Option<usize> = None;
        // Covered spans are in order and do not overlap: one pointer walks them.
        let mut span = 0;
        for (pos, c) in folded
            .char_indices()
            .chain(std::iter::once((folded.len(), ' ')))
        {
            while span < covered.len() && covered[span].1 <= pos {
                span += 1;
            }
            let in_term = span < covered.len() && covered[span].0 <= pos;
            if is_cjk(c) && !in_term {
                han.push(c);
            } else {
                flush_han(&mut han, &mut out);
            }
            if is_word_char(c) && !in_term {
                word_start.get_or_insert(pos);
            } else if let Some(s) = word_start.take() {
                words.push((s, pos, fold_english_word(&folded[s..pos])));
            }
        }
        // English phrases, longest first at each word.
        let mut i = 0;
        while i < words.len() {
            let mut found = None;
            let max = self.en_max_words.min(words.len() - i);
            let mut key = String::new();
            let mut candidates: Vec<(usize, String)> = Vec::with_capacity(max);
            for n in 1..=max {
                // Words of a phrase must be adjacent: only spaces or hyphens between them.
                if n > 1 {
                    let gap = &folded[words[i + n - 2].1..words[i + n - 1].0];
                    if !gap.chars().all(|c| c == ' ' || c == '-' || c == '/') {
                        break;
                    }
                    key.push(' ');
                }
                key.push_str(&words[i + n - 1].2);
                candidates.push((n, key.clone()));
            }
            for (n, k) in candidates.into_iter().rev() {
                if let Some(ids) = self.en.get(&k) {
                    found = Some((n, ids.clone()));
                    break;
                }
            }
            match found {
                Some((n, ids)) => {
                    en_hits.push((
                        words[i].0,
                        Hit {
                            concepts: ids,
                            surface: surface(words[i].0, words[i + n - 1].1),
                        },
                    ));
                    i += n;
                }
                None => {
                    let w = &words[i].2;
                    if !ENGLISH_STOP.contains(&w.as_str()) && !out.residual.contains(w) {
                        out.residual.push(w.clone());
                    }
                    i += 1;
                }
            }
        }
        let mut hits: Vec<(usize, Hit)> = zh_hits.into_iter().chain(en_hits).collect();
        hits.sort_by_key(|(pos, _)| *pos);
        out.hits = hits.into_iter().map(|(_, h)| h).collect();
        out
    }
}

/// Tokens of Han text that no term covers: its character bigrams (a lone character gives none), and
/// whether they are whole words (the run is two characters long).
#[cfg(not(feature = "jieba"))]
fn han_tokens(han: &[char]) -> (Vec<String>, bool) {
    (
        han.windows(2).map(|w| w.iter().collect()).collect(),
        han.len() == 2,
    )
}

/// Tokens of Han text that no term covers: its words of two characters or more, as jieba cuts them
/// (whole words).
#[cfg(feature = "jieba")]
fn han_tokens(han: &[char]) -> (Vec<String>, bool) {
    static JIEBA: std::sync::LazyLock<jieba_rs::Jieba> =
        std::sync::LazyLock::new(jieba_rs::Jieba::new);
    let text: String = han.iter().collect();
    let words = JIEBA
        .cut(&text, false)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_string)
        .collect();
    (words, true)
}

#[cfg(test)]
mod tests;
