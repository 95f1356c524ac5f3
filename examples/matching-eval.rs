//! The labelled matching set scored in memory: every demand of each part against every listing of all
//! parts with `domain::matching::score` (no database, no candidate retrieval), P@1 and top-3 per part.
//! For quick work on the vocabulary and the weights; the figures that count come from the API test
//! (`bench/matching-eval.sh`), which also retrieves candidates as the server does.
//!
//!   cargo run --release --example matching-eval            # the table
//!   cargo run --release --example matching-eval -- -v      # and every miss with its top three and bridges
//!   cargo run --release --example matching-eval -- X01     # one demand's top ten
use std::collections::HashMap;

use techmarket::domain::codes::{Field, Province};
use techmarket::domain::matching::{score, DemandFacts, ListingFacts, Match};
use techmarket::domain::relevance::{Profile, Query, Zone};
use techmarket::domain::vocabulary::vocabulary;
use techmarket::i18n::{self, Lang};

#[path = "../tests/fixtures/matching_set.rs"]
mod matching_set;
use matching_set::{load, FxListing};

fn keywords_detail(m: &Match) -> String {
    m.reasons
        .iter()
        .find(|r| r.code.code() == "keywords")
        .map(|r| i18n::tf(Lang::En, r.detail_key, &r.args))
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--concept") {
        let v = vocabulary();
        for term in &args[1..] {
            for c in v.lookup(term) {
                let concept = v.concept(c);
                println!(
                    "{term}: #{c} {} {:?} {:?} spec {} generic {}",
                    concept.label,
                    concept.field,
                    concept.source,
                    v.specificity(c),
                    concept.generic
                );
                for n in v.neighbours(c) {
                    println!("    {:?} {}", n.relation, v.concept(n.concept).label);
                }
            }
        }
        return Ok(());
    }
    let verbose = args.iter().any(|a| a == "-v");
    let only: Option<&String> = args.iter().find(|a| !a.starts_with('-'));
    let parts = [
        ("old", load("matching.json")?),
        ("new", load("matching-cross.json")?),
        ("tuning", load("matching-tuning.json")?),
    ];
    let vocab = vocabulary();
    let listings: Vec<(&FxListing, ListingFacts)> = parts
        .iter()
        .flat_map(|(_, fx)| &fx.listings)
        .map(|l| {
            let mut texts = vec![
                (Zone::Title, l.title.as_str()),
                (Zone::Summary, l.summary.as_str()),
                (Zone::Description, l.description.as_str()),
            ];
            texts.extend(l.keywords.iter().map(|k| (Zone::Keywords, k.as_str())));
            let facts = ListingFacts {
                field: Field::parse(&l.field).unwrap_or(Field::Eit),
                province: Province::parse(&l.province).unwrap_or(Province::Other),
                profile: Profile::of(vocab, &texts),
                price_hint_fen: l.price_fen,
                trl: l.trl,
            };
            (l, facts)
        })
        .collect();
    let titles: HashMap<&str, &str> = listings
        .iter()
        .map(|(l, _)| (l.key.as_str(), l.title.as_str()))
        .collect();
    println!("{:<8} {:>7} {:>6} {:>6}", "part", "demands", "P@1", "top-3");
    let mut report = Vec::new();
    for (name, fx) in &parts {
        let (mut at1, mut at3) = (0, 0);
        for d in &fx.demands {
            let mut texts = vec![
                (Zone::Title, d.title.as_str()),
                (Zone::Description, d.description.as_str()),
            ];
            texts.extend(d.keywords.iter().map(|k| (Zone::Keywords, k.as_str())));
            let facts = DemandFacts {
                field: Field::parse(&d.field).unwrap_or(Field::Eit),
                province: Province::parse(&d.province).unwrap_or(Province::Other),
                query: Query::of(vocab, &texts),
                budget_min_fen: d.budget_min_fen,
                budget_max_fen: d.budget_max_fen,
            };
            let mut scored: Vec<(&str, Match)> = listings
                .iter()
                .map(|(l, lf)| (l.key.as_str(), score(vocab, &facts, lf)))
                .filter(|(_, m)| m.relevant)
                .collect();
            scored.sort_by_key(|(_, m)| std::cmp::Reverse(m.score));
            let rank = scored.iter().position(|(k, _)| *k == d.expected);
            if rank == Some(0) {
                at1 += 1;
            }
            if rank.is_some_and(|r| r < 3) {
                at3 += 1;
            }
            let show = only.is_some_and(|k| *k == d.key) || (verbose && rank != Some(0));
            if show {
                let n = if only.is_some() { 10 } else { 3 };
                report.push(format!(
                    "{} [{}] {} — expected {} {} at {}",
                    d.key,
                    name,
                    d.title,
                    d.expected,
                    titles.get(d.expected.as_str()).unwrap_or(&""),
                    rank.map_or("—".to_string(), |r| (r + 1).to_string())
                ));
                for (k, m) in scored.iter().take(n) {
                    report.push(format!(
                        "    {:>3} {} {} | {}",
                        m.score,
                        k,
                        titles.get(k).unwrap_or(&""),
                        keywords_detail(m)
                    ));
                }
                if let Some(r) = rank.filter(|&r| r >= n) {
                    let m = &scored[r].1;
                    report.push(format!(
                        "    {:>3} {} (expected) | {}",
                        m.score,
                        d.expected,
                        keywords_detail(m)
                    ));
                }
            }
        }
        let n = fx.demands.len() as f64;
        println!(
            "{:<8} {:>7} {:>6.2} {:>6.2}",
            name,
            fx.demands.len(),
            at1 as f64 / n,
            at3 as f64 / n
        );
    }
    for line in report {
        println!("{line}");
    }
    Ok(())
}
