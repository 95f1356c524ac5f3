//! Matching: the candidates of a demand or a listing, scored with `domain::matching::score`.
//!
//! A demand's candidates come from the listings' stored profiles (`service::listings::profiles`): listings
//! whose concepts overlap the demand's (those with both of its two heaviest concepts, a few with each of its
//! heaviest concepts, a few meeting them only through a broader or related concept) and a few sharing a word
//! the vocabulary does not know, found by the search index). Their ids come from simple statements whose
//! plans do not depend on the demand (one big statement was planned anew for every demand, 8–17 ms), their
//! profiles by primary key — or both from the process's index (`index.rs`) when it has applied every
//! change the request can see; they are scored from the entries the demand can look up, kept in Rust; no
//! listing text is analysed on the request path. The best are read in full, with the words of their
//! profiles for the reasons.
//!
//! A listing's candidates (open demands, far fewer) are found through the search index with the
//! listing's own text read as a query, and their texts analysed.
use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::{MatchIndex, MATCH_LIMIT};
use crate::db;
use crate::db::demands::{DemandRow, ListingFactsRow};
use crate::domain::codes::{Field, Province};
use crate::domain::matching::{self, DemandFacts, ListingFacts, Match};
use crate::domain::relevance::{Profile, Query, Zone};
use crate::domain::text;
use crate::domain::vocabulary::vocabulary;
use crate::error::Result;
use crate::service::listings::profiles;

fn demand_facts(d: &DemandRow) -> Option<DemandFacts> {
    let mut texts = vec![
        (Zone::Title, d.title.as_str()),
        (Zone::Description, d.description.as_str()),
    ];
    texts.extend(d.keywords.iter().map(|k| (Zone::Keywords, k.as_str())));
    Some(DemandFacts {
        field: Field::parse(&d.field)?,
        province: Province::parse(&d.province)?,
        query: Query::of(vocabulary(), &texts),
        budget_min_fen: d.budget_min_fen,
        budget_max_fen: d.budget_max_fen,
    })
}

/// A match whose listing's TRL is a published expert evaluation's: its maturity reason says so
/// (the points are already those of the evaluated TRL).
fn evaluated(mut m: Match, l: &ListingFactsRow) -> Match {
    if l.trl_evaluated {
        for r in &mut m.reasons {
            if r.code == matching::ReasonCode::Maturity {
                r.detail_key = "match.maturity_evaluated";
            }
        }
    }
    m
}

/// A listing's facts with its profile computed from its texts.
fn listing_facts(l: &ListingFactsRow) -> Option<ListingFacts> {
    let profile = profiles::profile_of(&l.title, &l.summary, &l.description, &l.keywords);
    listing_facts_with(l, profile)
}

fn listing_facts_with(l: &ListingFactsRow, profile: Profile) -> Option<ListingFacts> {
    Some(ListingFacts {
        field: Field::parse(&l.field)?,
        province: Province::parse(&l.province)?,
        profile,
        price_hint_fen: l.price_fen.or(l.sort_price_fen),
        trl: u8::try_from(l.trl).unwrap_or(1),
    })
}

/// The same field and its related ones (candidates beyond the text matches).
fn near_fields(field: Field) -> Vec<String> {
    Field::ALL
        .iter()
        .filter(|f| **f == field || matching::related_fields(field, **f))
        .map(|f| f.code().to_string())
        .collect()
}

/// Most alternatives in one retrieval query.
const MAX_QUERY_PARTS: usize = 40;

/// A `tsquery` that matches any of `terms` (each a phrase of its bigrams or its words).
fn any_of(terms: &[&str]) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .filter_map(|t| text::build_tsquery(t))
        .map(|q| format!("({q})"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" | "))
}

/// The text queries that retrieve candidates, cheapest to answer first:
/// `strict` — every keyword (each a phrase of its bigrams) must occur;
/// `concepts` — the two heaviest concepts of the text must both occur, each in any of its terms, in
/// either language (`热喷涂 | thermal spray | …`);
/// `any` — any keyword, any term of the text's concepts, any four-character window of the title (a phrase
/// of three bigrams), or any Latin word of the title. Phrases keep retrieval selective where single
/// bigrams (系统, 智能) are in half the market; the database stops at the first rows found (no ranking),
/// and the score decides.
struct Retrieval {
    strict: Option<String>,
    concepts: Option<String>,
    any: Option<String>,
}

fn retrieval_queries(title: &str, keywords: &[String], query: &Query) -> Retrieval {
    let kw: Vec<String> = keywords
        .iter()
        .filter_map(|k| text::build_tsquery(k))
        .map(|q| format!("({q})"))
        .collect();
    let strict = (!kw.is_empty()).then(|| kw.join(" & "));
    let concept_terms = query.concept_terms(vocabulary());
    let groups: Vec<String> = concept_terms
        .iter()
        .take(2)
        .filter_map(|terms| any_of(terms))
        .map(|q| format!("({q})"))
        .collect();
    let concepts = (groups.len() == 2).then(|| groups.join(" & "));
    // Keywords first, then the concepts' terms, the title's windows and its words; in that order until the cap.
    let mut parts: Vec<String> = kw;
    let push = |q: String, parts: &mut Vec<String>| {
        let q = format!("({q})");
        if !parts.contains(&q) && parts.len() < MAX_QUERY_PARTS {
            parts.push(q);
        }
    };
    for terms in concept_terms.iter().take(8) {
        for t in terms.iter().take(6) {
            if let Some(q) = text::build_tsquery(t) {
                push(q, &mut parts);
            }
        }
    }
    let chars: Vec<char> = title.chars().collect();
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, parts: &mut Vec<String>| {
        // Four-character windows every two characters: each bigram is still covered, at half the cost.
        let windows: Vec<String> = if run.len() >= 4 {
            run.windows(4)
                .step_by(2)
                .map(|w| w.iter().collect())
                .collect()
        } else if run.len() >= 2 {
            vec![run.iter().collect()]
        } else {
            vec![]
        };
        for w in windows {
            if let Some(q) = text::build_tsquery(&w) {
                push(q, parts);
            }
        }
        run.clear();
    };
    for c in chars {
        if text::is_cjk(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut parts);
        }
    }
    flush(&mut run, &mut parts);
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 3)
    {
        if let Some(q) = text::build_tsquery(word) {
            push(q, &mut parts);
        }
    }
    let any = (!parts.is_empty()).then(|| parts.join(" | "));
    Retrieval {
        strict,
        concepts,
        any,
    }
}

/// How many concept units retrieve a few listings each, and how many reach broader and related ones.
const EACH_UNITS: usize = 8;
const NEAR_UNITS: usize = 4;
/// How many of the demand's unknown words retrieve listings through the search index.
const TOKEN_UNITS: usize = 6;

/// The listings that fit a demand best (at most [`MATCH_LIMIT`]), or, with `all`, every candidate scored,
/// the ones that share nothing with it last (score 0, the reason says why). `index`: the process's index
/// and the database's `listing_matches_generation` read before (with the demand); the index is used only
/// if it has applied that generation.
pub(super) async fn score_listings(
    conn: &mut PgConnection,
    index: Option<(&MatchIndex, i64)>,
    d: &DemandRow,
    all: bool,
) -> Result<Vec<(ListingFactsRow, Match)>> {
    let Some(facts) = demand_facts(d) else {
        return Ok(vec![]);
    };
    if d.status != "open" {
        return Ok(vec![]);
    }
    let vocab = vocabulary();
    let version = profiles::current_version();
    let sets = facts.query.retrieval_sets(vocab);
    let none: &[i32] = &[];
    let (first, second) = match sets.as_slice() {
        [a, b, ..] => (a.strong.as_slice(), b.strong.as_slice()),
        _ => (none, none),
    };
    let mut each_ids: Vec<i32> = Vec::new();
    let mut each_units: Vec<i32> = Vec::new();
    for (i, s) in sets.iter().take(EACH_UNITS).enumerate() {
        each_ids.extend(&s.strong);
        each_units.extend(std::iter::repeat_n(
            i32::try_from(i).unwrap_or(0),
            s.strong.len(),
        ));
    }
    let mut near: Vec<i32> = sets
        .iter()
        .take(NEAR_UNITS)
        .flat_map(|s| s.near.iter().copied())
        .filter(|c| !each_ids.contains(c))
        .collect();
    near.sort_unstable();
    near.dedup();
    let token_terms: Vec<&str> = facts.query.token_units().take(TOKEN_UNITS).collect();
    let lookups = facts.query.lookups(vocab);
    // The process's index when it has applied every change this request can see; else the database.
    let index = index
        .filter(|(ix, generation)| ix.covers(*generation))
        .map(|(ix, _)| ix);
    // The candidates' ids from memory or from simple statements (each planned cheaply, or once), then
    // what scoring needs of them, from memory or by primary key.
    let retrieval = db::match_profiles::Retrieval {
        version,
        first,
        second,
        each_ids: &each_ids,
        each_units: &each_units,
        near: &near,
    };
    let mut ids = match index.and_then(|ix| ix.concept_candidates(&retrieval)) {
        Some(ids) => ids,
        None => db::match_profiles::concept_candidates(conn, &retrieval).await?,
    };
    if let Some(tokens) = any_of(&token_terms) {
        ids.extend(db::match_profiles::token_candidates(conn, &tokens).await?);
    }
    // With `all`, also the newest of the demand's and related fields, whatever they share.
    if all {
        ids.extend(db::match_profiles::field_candidates(conn, &near_fields(facts.field)).await?);
    }
    ids.sort_unstable();
    ids.dedup();
    let candidates = match index.and_then(|ix| ix.candidates(&ids, &lookups)) {
        Some(c) => c,
        None => db::match_profiles::candidates(conn, version, &ids).await?,
    };
    // Each candidate's profile entries that the demand looks up (the rest cannot change its score).
    let entries: HashMap<Uuid, (Vec<i64>, Vec<i64>)> = candidates
        .iter()
        .map(|c| {
            (
                c.id,
                (
                    lookups.concepts_of(&c.concepts),
                    lookups.tokens_of(&c.tokens),
                ),
            )
        })
        .collect();
    // Scored from the entries the demand looks up (the words come with the ones shown).
    let mut scored: Vec<(Uuid, Option<chrono::DateTime<chrono::Utc>>, Match)> = candidates
        .into_iter()
        .filter(|c| c.organization_id != d.organization_id)
        .filter_map(|c| {
            let lf = ListingFacts {
                field: Field::parse(&c.field)?,
                province: Province::parse(&c.province)?,
                profile: entries
                    .get(&c.id)
                    .map(|(cs, ts)| Profile::from_stored(cs, &[], ts))
                    .unwrap_or_default(),
                price_hint_fen: c.price_fen.or(c.sort_price_fen),
                trl: u8::try_from(c.trl).unwrap_or(1),
            };
            let m = matching::score(vocab, &facts, &lf);
            (all || m.relevant).then_some((c.id, c.listed_at, m))
        })
        .collect();
    let order = |a: &(u8, Option<chrono::DateTime<chrono::Utc>>, Uuid),
                 b: &(u8, Option<chrono::DateTime<chrono::Utc>>, Uuid)| {
        b.0.cmp(&a.0)
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| a.2.cmp(&b.2))
    };
    scored.sort_by(|a, b| order(&(a.2.score, a.1, a.0), &(b.2.score, b.1, b.0)));
    // The best matches; with `all`, as many of the rest after them.
    let (mut scored, mut rest): (Vec<_>, Vec<_>) = scored.into_iter().partition(|s| s.2.relevant);
    scored.truncate(MATCH_LIMIT);
    rest.truncate(MATCH_LIMIT);
    scored.append(&mut rest);
    let ids: Vec<Uuid> = scored.iter().map(|(id, _, _)| *id).collect();
    let shown = db::match_profiles::shown(conn, version, &ids).await?;
    let mut out: Vec<(ListingFactsRow, Match)> = shown
        .into_iter()
        .filter_map(|s| {
            let (cs, ts) = entries.get(&s.listing.id)?;
            let profile = Profile::from_stored(cs, &s.surfaces, ts);
            let lf = listing_facts_with(&s.listing, profile)?;
            let m = evaluated(matching::score(vocab, &facts, &lf), &s.listing);
            (all || m.relevant).then_some((s.listing, m))
        })
        .collect();
    out.sort_by(|a, b| {
        b.1.relevant.cmp(&a.1.relevant).then_with(|| {
            order(
                &(a.1.score, a.0.listed_at, a.0.id),
                &(b.1.score, b.0.listed_at, b.0.id),
            )
        })
    });
    Ok(out)
}

pub(super) async fn score_demands(
    conn: &mut PgConnection,
    l: &ListingFactsRow,
) -> Result<Vec<(DemandRow, Match)>> {
    let Some(facts) = listing_facts(l) else {
        return Ok(vec![]);
    };
    // The listing's own text, read as a query, finds the demands that may ask for it.
    let mut texts = vec![
        (Zone::Title, l.title.as_str()),
        (Zone::Summary, l.summary.as_str()),
    ];
    texts.extend(l.keywords.iter().map(|k| (Zone::Keywords, k.as_str())));
    let as_query = Query::of(vocabulary(), &texts);
    let r = retrieval_queries(&l.title, &l.keywords, &as_query);
    let candidates = db::demands::demand_candidates(
        conn,
        &db::demands::Retrieval {
            strict: r.strict.as_deref(),
            concepts: r.concepts.as_deref(),
            any: r.any.as_deref(),
            fields: &near_fields(facts.field),
        },
    )
    .await?;
    let vocab = vocabulary();
    let mut scored: Vec<(DemandRow, Match)> = candidates
        .into_iter()
        .filter(|d| d.organization_id != l.organization_id)
        .filter_map(|d| {
            let df = demand_facts(&d)?;
            let m = evaluated(matching::score(vocab, &df, &facts), l);
            m.relevant.then_some((d, m))
        })
        .collect();
    scored.sort_by(|a, b| {
        b.1.score
            .cmp(&a.1.score)
            .then_with(|| b.0.created_at.cmp(&a.0.created_at))
            .then_with(|| a.0.id.cmp(&b.0.id))
    });
    scored.truncate(MATCH_LIMIT);
    Ok(scored)
}
