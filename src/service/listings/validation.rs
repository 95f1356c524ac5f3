//! What a listing must be: its fields, pricing, auction terms and IP numbers checked, and the
//! search vector and canonical patent numbers derived from it.
use chrono::{DateTime, Utc};

use crate::db::listings::{AuctionTerms, ListingContent};
use crate::domain::auction::{
    validate_auction, validate_deposit, validate_start, DEFAULT_EXTENSION_SECONDS,
};
use crate::domain::codes::{Field, IpType, PricingMode, TransactionMode};
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::money::{format_yuan, MAX_AMOUNT_FEN};
use crate::domain::patent::{validate_ip_numbers, PatentNumber};
use crate::domain::text::TsVectorBuilder;
use crate::error::Result;

use super::{
    ListingInput, DESCRIPTION_MAX, KEYWORDS_MAX, KEYWORD_MAX_CHARS, SUMMARY_MAX, TITLE_MAX,
    TITLE_MIN,
};

fn check_amount(v: i64, path: &str, errs: &mut FieldErrors) {
    if v < 1 {
        errs.push(path, "err.listing.price_min", vec![]);
    } else if v > MAX_AMOUNT_FEN {
        errs.push(
            path,
            "err.amount.too_large",
            vec![("max", format_yuan(MAX_AMOUNT_FEN))],
        );
    }
}

/// The search vector of a listing: title (both languages) and IP numbers A, summary (both
/// languages) and keywords B, description D.
pub fn search_vector(
    title: &str,
    summary: &str,
    keywords: &[String],
    ip_numbers: &[String],
    description: &str,
    english: [Option<&str>; 2],
) -> String {
    search_terms(title, summary, keywords, ip_numbers, description, english).build()
}

/// The terms of [`search_vector`], before they are written as its literal (the bulk seed sends
/// them in binary form).
pub fn search_terms(
    title: &str,
    summary: &str,
    keywords: &[String],
    ip_numbers: &[String],
    description: &str,
    english: [Option<&str>; 2],
) -> TsVectorBuilder {
    let mut b = TsVectorBuilder::new();
    b.add(title, 'A');
    if let Some(t) = english[0] {
        b.add(t, 'A');
    }
    b.add_patent_numbers(ip_numbers);
    b.add(summary, 'B');
    if let Some(s) = english[1] {
        b.add(s, 'B');
    }
    for k in keywords {
        b.add(k, 'B');
    }
    b.add(description, 'D');
    b
}

/// Canonical forms of the patent numbers among `numbers`.
pub fn canonical_numbers(numbers: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in numbers {
        if let Ok(p) = PatentNumber::parse(n) {
            let c = p.canonical();
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// Checks everything and returns what is stored; every problem at its JSON path.
pub fn validate(input: &ListingInput, now: DateTime<Utc>) -> Result<ListingContent, FieldErrors> {
    let mut errs = FieldErrors::new();
    check_text(&input.title, "title", TITLE_MIN, TITLE_MAX, &mut errs);
    check_text(&input.summary, "summary", 0, SUMMARY_MAX, &mut errs);
    // The English title and summary are optional: blank is none.
    let english = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (title_en, summary_en) = (english(&input.title_en), english(&input.summary_en));
    if let Some(t) = &title_en {
        check_text(t, "title_en", TITLE_MIN, TITLE_MAX, &mut errs);
    }
    if let Some(s) = &summary_en {
        check_text(s, "summary_en", 0, SUMMARY_MAX, &mut errs);
    }
    check_text(
        &input.description,
        "description",
        0,
        DESCRIPTION_MAX,
        &mut errs,
    );
    let field = Field::parse(input.field.trim());
    if input.field.trim().is_empty() {
        errs.push("field", "err.code.choose", vec![]);
    } else if field.is_none() {
        errs.push(
            "field",
            "err.code.unknown",
            vec![("value", input.field.clone())],
        );
    }
    let ip_type = IpType::parse(input.ip_type.trim());
    let ip_numbers: Vec<String> = input
        .ip_numbers
        .iter()
        .map(|n| n.trim().to_string())
        .collect();
    for (i, n) in ip_numbers.iter().enumerate() {
        if n.chars().any(char::is_control) {
            errs.push(format!("ip_numbers[{i}]"), "err.text.control_chars", vec![]);
        }
    }
    match ip_type {
        Some(t) => validate_ip_numbers(t, &ip_numbers, "ip_numbers", &mut errs),
        None if input.ip_type.trim().is_empty() => errs.push("ip_type", "err.code.choose", vec![]),
        None => errs.push(
            "ip_type",
            "err.code.unknown",
            vec![("value", input.ip_type.clone())],
        ),
    }
    if input.trl == 0 {
        errs.push("trl", "err.code.choose", vec![]);
    } else if !(1..=9).contains(&input.trl) {
        errs.push("trl", "err.listing.trl_range", vec![]);
    }
    let mut modes: Vec<String> = Vec::new();
    if input.transaction_modes.is_empty() {
        errs.push("transaction_modes", "err.listing.modes_required", vec![]);
    }
    for (i, m) in input.transaction_modes.iter().enumerate() {
        match TransactionMode::parse(m.trim()) {
            Some(m) => {
                if !modes.iter().any(|x| x == m.code()) {
                    modes.push(m.code().to_string());
                }
            }
            None => errs.push(
                format!("transaction_modes[{i}]"),
                "err.code.unknown",
                vec![("value", m.clone())],
            ),
        }
    }
    let mut keywords: Vec<String> = Vec::new();
    if input.keywords.len() > KEYWORDS_MAX {
        errs.push(
            "keywords",
            "err.listing.keywords_too_many",
            vec![("max", KEYWORDS_MAX.to_string())],
        );
    } else {
        for (i, k) in input.keywords.iter().enumerate() {
            let k = k.trim();
            let path = format!("keywords[{i}]");
            let before = errs.len();
            check_text(k, &path, 1, KEYWORD_MAX_CHARS, &mut errs);
            if errs.len() == before && !keywords.iter().any(|x| x == k) {
                keywords.push(k.to_string());
            }
        }
    }
    let mode = PricingMode::parse(input.pricing.mode.trim());
    let mut auction = None;
    let mut price_fen = input.pricing.price_fen;
    match mode {
        None => errs.push(
            "pricing.mode",
            "err.code.unknown",
            vec![("value", input.pricing.mode.clone())],
        ),
        Some(PricingMode::Fixed) => {
            match input.pricing.price_fen {
                None => errs.push("pricing.price_fen", "err.listing.price_required", vec![]),
                Some(p) => check_amount(p, "pricing.price_fen", &mut errs),
            }
            if input.pricing.auction.is_some() {
                errs.push("pricing.auction", "err.listing.auction_not_allowed", vec![]);
            }
        }
        Some(PricingMode::Negotiable) => {
            if let Some(p) = input.pricing.price_fen {
                check_amount(p, "pricing.price_fen", &mut errs);
            }
            if input.pricing.auction.is_some() {
                errs.push("pricing.auction", "err.listing.auction_not_allowed", vec![]);
            }
        }
        Some(PricingMode::Auction) => {
            if input.pricing.price_fen.is_some() {
                errs.push("pricing.price_fen", "err.listing.price_not_allowed", vec![]);
            }
            price_fen = None;
            match &input.pricing.auction {
                None => errs.push("pricing.auction", "err.listing.auction_required", vec![]),
                Some(a) => {
                    validate_auction(
                        a.start_price_fen,
                        a.increment_fen,
                        a.reserve_fen,
                        a.ends_at,
                        a.extension_seconds,
                        now,
                        "pricing.auction",
                        &mut errs,
                    );
                    validate_start(a.starts_at, a.ends_at, "pricing.auction", &mut errs);
                    validate_deposit(
                        a.deposit_fen,
                        a.start_price_fen,
                        "pricing.auction",
                        &mut errs,
                    );
                    auction = Some(AuctionTerms {
                        deposit_fen: a.deposit_fen,
                        start_price_fen: a.start_price_fen,
                        increment_fen: a.increment_fen,
                        reserve_fen: a.reserve_fen,
                        ends_at: a.ends_at,
                        starts_at: a.starts_at,
                        extension_seconds: a
                            .extension_seconds
                            .unwrap_or(DEFAULT_EXTENSION_SECONDS)
                            .clamp(0, 3600) as i32,
                    });
                }
            }
        }
    }
    errs.into_result()?;
    let (Some(field), Some(ip_type), Some(mode)) = (field, ip_type, mode) else {
        return Err(FieldErrors::new());
    };
    let title = input.title.clone();
    let sort_price_fen = match &auction {
        Some(a) => Some(a.start_price_fen),
        None => price_fen,
    };
    Ok(ListingContent {
        search: search_vector(
            &title,
            &input.summary,
            &keywords,
            &ip_numbers,
            &input.description,
            [title_en.as_deref(), summary_en.as_deref()],
        ),
        ip_canonical: canonical_numbers(&ip_numbers),
        title,
        summary: input.summary.clone(),
        description: input.description.clone(),
        field: field.code().to_string(),
        ip_type: ip_type.code().to_string(),
        ip_numbers,
        trl: input.trl as i16,
        transaction_modes: modes,
        keywords,
        pricing_mode: mode.code().to_string(),
        price_fen,
        auction,
        sort_price_fen,
        title_en,
        summary_en,
    })
}
