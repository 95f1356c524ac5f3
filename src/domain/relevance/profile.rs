//! The listing side of relevance: a listing's profile (the concepts it has, the concepts they reach, and
//! all its tokens) and the profile's stored form.
//!
//! A profile depends only on the listing's texts and the vocabulary, so it is computed when a listing is
//! written and stored beside it; matching reads the stored form instead of analysing every candidate's
//! text on every request. The stored form is three arrays of integers and one of words:
//! - concepts: `id << 24 | weight << 12 | surface` (weight per mille, surface an index into the words);
//! - tokens: `key << 12 | weight`, the key being 51 bits of the token's FNV-1a hash;
//! - words: the listing's words that named each concept (for the reasons' bridges).
//!
//! Both integer arrays are sorted, and a reader may load any subset of them (the database sends only the
//! entries a demand can look up): a profile answers exactly the lookups it was given entries for.
//! [`profile_version`] names the vocabulary and this format; a stored profile of another version means
//! nothing and is recomputed.

use std::collections::HashMap;
use std::hash::Hasher;

use super::{tokens, Zone};
use crate::domain::text::is_cjk;
use crate::domain::vocabulary::{ConceptId, Relation, Vocabulary};

/// Bump when [`Profile::of`] or the stored form changes.
pub const PROFILE_FORMAT: u64 = 1;

/// A surface index meaning "not loaded" (and the most words a stored profile names).
const NO_SURFACE: u16 = 0xFFF;

/// The version of stored profiles made with `vocab` and this code.
pub fn profile_version(vocab: &Vocabulary) -> i64 {
    let mut h = fnv::FnvHasher::default();
    h.write_u64(vocab.fingerprint());
    h.write_u64(PROFILE_FORMAT);
    i64::from_ne_bytes(h.finish().to_ne_bytes())
}

/// The lookup key of a token: 51 bits of its FNV-1a hash (non-negative, room for 12 bits of weight).
pub fn token_key(t: &str) -> i64 {
    let mut h = fnv::FnvHasher::default();
    h.write(t.as_bytes());
    i64::try_from(h.finish() >> 13).unwrap_or(0)
}

/// The listing side: the concepts it has or reaches and all its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// Concept id, the strongest weight it is had or reached with (per mille), and the index in `surfaces`
    /// of the listing's words for it; sorted by id.
    concepts: Vec<(ConceptId, u32, u16)>,
    surfaces: Vec<String>,
    /// Token key and weight (per mille), sorted by key.
    tokens: Vec<(i64, u32)>,
}

/// A profile as the database keeps it (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredProfile {
    pub concepts: Vec<i64>,
    pub surfaces: Vec<String>,
    pub tokens: Vec<i64>,
    /// The specific (not generic) concepts, for retrieval by overlap.
    pub retrieval: Vec<i32>,
}

/// A concept's weight and words, kept at the strongest (the first one at equal weight).
fn keep_max(map: &mut HashMap<ConceptId, (u32, usize)>, c: ConceptId, weight: u32, surface: usize) {
    match map.get_mut(&c) {
        Some(s) if s.0 >= weight => {}
        Some(s) => *s = (weight, surface),
        None => {
            map.insert(c, (weight, surface));
        }
    }
}

impl Profile {
    /// The profile of a listing's texts.
    pub fn of(vocab: &Vocabulary, texts: &[(Zone, &str)]) -> Profile {
        let mut surfaces: Vec<String> = Vec::new();
        let mut direct: HashMap<ConceptId, (u32, usize)> = HashMap::new();
        let mut token_weights: HashMap<String, u32> = HashMap::new();
        for &(zone, text) in texts {
            let zw = zone.listing_weight();
            for hit in vocab.analyze(text).hits {
                let s = match surfaces.iter().position(|w| *w == hit.surface) {
                    Some(i) => i,
                    None => {
                        surfaces.push(hit.surface);
                        surfaces.len() - 1
                    }
                };
                for &c in &hit.concepts {
                    keep_max(&mut direct, c, zw, s);
                }
            }
            for t in tokens(text) {
                let e = token_weights.entry(t).or_insert(0);
                *e = (*e).max(zw);
            }
        }
        // What the concepts reach (in the order of their ids, so that ties always resolve alike).
        let mut had: Vec<(ConceptId, (u32, usize))> =
            direct.iter().map(|(&c, &s)| (c, s)).collect();
        had.sort_unstable_by_key(|(c, _)| *c);
        let mut reach: HashMap<ConceptId, (u32, usize)> = HashMap::new();
        for &(c, (weight, surface)) in &had {
            for n in vocab.neighbours(c) {
                let f = match n.relation {
                    Relation::Same => continue,
                    Relation::Broader(1) => 800,
                    Relation::Broader(_) => 600,
                    Relation::Related => 600,
                };
                keep_max(&mut reach, n.concept, weight * f / 1000, surface);
            }
        }
        // A concept both had and reached counts the stronger way (had, at equal weight).
        let mut merged = direct;
        for (c, r) in reach {
            match merged.get(&c) {
                Some(d) if d.0 >= r.0 => {}
                _ => {
                    merged.insert(c, r);
                }
            }
        }
        let mut concepts: Vec<(ConceptId, u32, u16)> = merged
            .into_iter()
            .map(|(c, (w, s))| (c, w, u16::try_from(s).unwrap_or(NO_SURFACE).min(NO_SURFACE)))
            .collect();
        concepts.sort_unstable_by_key(|(c, _, _)| *c);
        let mut tokens: Vec<(i64, u32)> = token_weights
            .into_iter()
            .map(|(t, w)| (token_key(&t), w))
            .collect();
        // At equal keys (a hash collision) the stronger weight.
        tokens.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        tokens.dedup_by_key(|(k, _)| *k);
        surfaces.truncate(usize::from(NO_SURFACE));
        Profile {
            concepts,
            surfaces,
            tokens,
        }
    }

    /// The stored form.
    pub fn to_stored(&self, vocab: &Vocabulary) -> StoredProfile {
        StoredProfile {
            concepts: self
                .concepts
                .iter()
                .map(|&(c, w, s)| i64::from(c) << 24 | i64::from(w.min(0xFFF)) << 12 | i64::from(s))
                .collect(),
            surfaces: self.surfaces.clone(),
            tokens: self
                .tokens
                .iter()
                .map(|&(k, w)| k << 12 | i64::from(w.min(0xFFF)))
                .collect(),
            retrieval: self
                .concepts
                .iter()
                .filter(|(c, _, _)| !vocab.concept(*c).generic)
                .filter_map(|(c, _, _)| i32::try_from(*c).ok())
                .collect(),
        }
    }

    /// A profile from stored entries (all of them, or the subset a query looks up); without `surfaces`,
    /// bridges name no listing words but every weight is the same.
    pub fn from_stored(concepts: &[i64], surfaces: &[String], tokens: &[i64]) -> Profile {
        let field = |v: i64, shift: u32| u32::try_from(v >> shift & 0xFFF).unwrap_or(0);
        let mut concepts: Vec<(ConceptId, u32, u16)> = concepts
            .iter()
            .filter_map(|&v| {
                let id = ConceptId::try_from(v >> 24).ok()?;
                let s = u16::try_from(v & 0xFFF).unwrap_or(NO_SURFACE);
                let s = if usize::from(s) < surfaces.len() {
                    s
                } else {
                    NO_SURFACE
                };
                Some((id, field(v, 12), s))
            })
            .collect();
        concepts.sort_unstable_by_key(|(c, _, _)| *c);
        let mut tokens: Vec<(i64, u32)> = tokens.iter().map(|&v| (v >> 12, field(v, 0))).collect();
        tokens.sort_unstable();
        Profile {
            concepts,
            surfaces: surfaces.to_vec(),
            tokens,
        }
    }

    fn token_weight(&self, t: &str) -> Option<u32> {
        let key = token_key(t);
        self.tokens
            .binary_search_by_key(&key, |(k, _)| *k)
            .ok()
            .map(|i| self.tokens[i].1)
    }

    /// How strongly the listing has a token; a Chinese word longer than two characters when it has
    /// every bigram of it.
    pub(super) fn token(&self, t: &str) -> Option<u32> {
        let chars: Vec<char> = t.chars().collect();
        if chars.len() > 2 && chars.iter().all(|&c| is_cjk(c)) {
            chars
                .windows(2)
                .map(|w| self.token_weight(&w.iter().collect::<String>()))
                .try_fold(u32::MAX, |m, w| w.map(|w| m.min(w)))
        } else {
            self.token_weight(t)
        }
    }

    /// How strongly the listing has or reaches a concept, and the words it has it in (empty when not
    /// loaded).
    pub(super) fn concept(&self, c: ConceptId) -> Option<(u32, &str)> {
        let i = self
            .concepts
            .binary_search_by_key(&c, |(id, _, _)| *id)
            .ok()?;
        let (_, w, s) = self.concepts[i];
        let surface = self
            .surfaces
            .get(usize::from(s))
            .map(String::as_str)
            .unwrap_or("");
        Some((w, surface))
    }
}

/// The keys that [`super::relevance`] looks up in a profile for the units of a query: the concepts it may
/// meet (as stored, `id`) and its tokens (`key`, a Chinese word's bigrams).
pub(super) fn token_keys_of(t: &str) -> Vec<i64> {
    let chars: Vec<char> = t.chars().collect();
    if chars.len() > 2 && chars.iter().all(|&c| is_cjk(c)) {
        chars
            .windows(2)
            .map(|w| token_key(&w.iter().collect::<String>()))
            .collect()
    } else {
        vec![token_key(t)]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{relevance, Query};
    use super::*;
    use crate::domain::vocabulary::vocabulary;

    fn texts(v: &serde_json::Value, zones: &[(&str, Zone)]) -> Vec<(Zone, String)> {
        let mut out = Vec::new();
        for (key, zone) in zones {
            match &v[key] {
                serde_json::Value::String(s) => out.push((*zone, s.clone())),
                serde_json::Value::Array(a) => out.extend(
                    a.iter()
                        .filter_map(|k| Some((*zone, k.as_str()?.to_string()))),
                ),
                _ => {}
            }
        }
        out
    }

    fn borrow(t: &[(Zone, String)]) -> Vec<(Zone, &str)> {
        t.iter().map(|(z, s)| (*z, s.as_str())).collect()
    }

    /// What matching keeps of a stored profile for a query: the entries it may look up
    /// (`Lookups::concepts_of`, `Lookups::tokens_of`), checked against a plain filter.
    fn subset(s: &StoredProfile, l: &super::super::Lookups) -> (Vec<i64>, Vec<i64>) {
        let plain: Vec<i64> = s
            .concepts
            .iter()
            .copied()
            .filter(|v| l.concepts.contains(&(v >> 24)))
            .collect();
        assert_eq!(l.concepts_of(&s.concepts), plain);
        let plain_tokens: Vec<i64> = s
            .tokens
            .iter()
            .copied()
            .filter(|v| l.tokens.contains(&(v >> 12)))
            .collect();
        assert_eq!(l.tokens_of(&s.tokens), plain_tokens);
        (plain, plain_tokens)
    }

    #[test]
    fn a_stored_profile_answers_every_labelled_demand_exactly_as_the_text_does() {
        let vocab = vocabulary();
        let sets: Vec<serde_json::Value> = [
            include_str!("../../../tests/fixtures/matching.json"),
            include_str!("../../../tests/fixtures/matching-cross.json"),
            include_str!("../../../tests/fixtures/matching-tuning.json"),
        ]
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect();
        let listings: Vec<Profile> = sets
            .iter()
            .flat_map(|s| s["listings"].as_array().unwrap().iter())
            .map(|l| {
                let t = texts(
                    l,
                    &[
                        ("title", Zone::Title),
                        ("summary", Zone::Summary),
                        ("description", Zone::Description),
                        ("keywords", Zone::Keywords),
                    ],
                );
                Profile::of(vocab, &borrow(&t))
            })
            .collect();
        let queries: Vec<Query> = sets
            .iter()
            .flat_map(|s| s["demands"].as_array().unwrap().iter())
            .map(|d| {
                let t = texts(
                    d,
                    &[
                        ("title", Zone::Title),
                        ("description", Zone::Description),
                        ("keywords", Zone::Keywords),
                    ],
                );
                Query::of(vocab, &borrow(&t))
            })
            .collect();
        assert!(listings.len() >= 90 && queries.len() >= 90);
        let mut shared = 0;
        for p in &listings {
            let stored = p.to_stored(vocab);
            let whole = Profile::from_stored(&stored.concepts, &stored.surfaces, &stored.tokens);
            assert_eq!(&whole, p);
            for q in &queries {
                let want = relevance(vocab, q, p);
                assert_eq!(relevance(vocab, q, &whole), want);
                let (c, t) = subset(&stored, &q.lookups(vocab));
                let part = relevance(vocab, q, &Profile::from_stored(&c, &[], &t));
                assert_eq!((part.permille, part.shared), (want.permille, want.shared));
                let named = relevance(vocab, q, &Profile::from_stored(&c, &stored.surfaces, &t));
                assert_eq!(named, want);
                shared += usize::from(want.shared);
            }
        }
        // The pairs are not all trivially unrelated.
        assert!(shared > 200, "{shared}");
    }

    #[test]
    fn the_version_names_the_vocabulary_and_the_format() {
        let v = vocabulary();
        assert_eq!(profile_version(v), profile_version(v));
        assert_ne!(token_key("热喷"), token_key("喷涂"));
        assert!(token_key("aeb") >= 0 && token_key("aeb") < 1 << 51);
    }
}
