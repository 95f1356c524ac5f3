//! The audit log as people read it: each record as a sentence in the page's language (amounts in
//! 元/万元, rates in %, times in Asia/Shanghai, codes by their names), with the raw record beside it.
//!
//! The words are `audit.sentence."<action>"` in `i18n/audit.*.toml`, one per action code the
//! service writes (a test below finds every code in `src/` and checks both languages). A sentence
//! names the values of the record by their JSON keys: `{amount_fen}` is the `after` value (else the
//! `before` one) formatted for its kind, `{old_role}` the `before` value; `{actor}`, `{target}`,
//! `{organization}` and `{effective}`, `{until}` are made here.
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::codes::{Named, OrgRole, TransactionMode};
use crate::domain::dispute::{Outcome, Payee};
use crate::http::context::PageCtx;
use crate::i18n;
use crate::service::admin::AuditItem;
use crate::service::fees::SideView;

/// One record for a page.
pub struct AuditLine {
    /// The action's code (for who searches for it, and for tests).
    pub action: String,
    pub at: String,
    pub sentence: String,
    /// Where the target is shown, when it has a page.
    pub link: Option<String>,
    /// The record as stored, for who needs it (one click away).
    pub raw: String,
}

/// `item` for a page in `ctx`'s language.
pub fn line(ctx: &PageCtx, item: &AuditItem) -> AuditLine {
    AuditLine {
        action: item.action.clone(),
        at: ctx.time(&item.at),
        sentence: sentence(ctx, item),
        link: link(item),
        raw: raw(item),
    }
}

pub fn lines(ctx: &PageCtx, items: &[AuditItem]) -> Vec<AuditLine> {
    items.iter().map(|i| line(ctx, i)).collect()
}

fn link(item: &AuditItem) -> Option<String> {
    let id = &item.target_id;
    Some(match item.target_type.as_str() {
        "listing" => format!("/listings/{id}"),
        "trade" => format!("/trades/{id}"),
        "fee_schedule" => format!("/admin/fees/{id}"),
        "webhook" => format!("/admin/webhooks/{id}"),
        "pledge_request" => format!("/finance/pledges/{id}"),
        _ => return None,
    })
}

fn raw(item: &AuditItem) -> String {
    let record = serde_json::json!({
        "id": item.id,
        "at": item.at,
        "actor": item.actor,
        "action": item.action,
        "target_type": item.target_type,
        "target_id": item.target_id,
        "before": item.before,
        "after": item.after,
    });
    serde_json::to_string_pretty(&record).unwrap_or_default()
}

/// The sentence of `item`; an action without words (none in `src/`, a test makes sure) reads as
/// its code with the target.
pub fn sentence(ctx: &PageCtx, item: &AuditItem) -> String {
    let key = format!("audit.sentence.{}", item.action);
    let template = match i18n::catalog(ctx.lang).get(&key) {
        Some(t) => t.as_str(),
        None => i18n::t(ctx.lang, "audit.sentence_unknown"),
    };
    fill(template, |name| value(ctx, item, name))
}

/// `template` with every `{name}` replaced by `arg(name)` ("—" when the record lacks it).
fn fill(template: &str, arg: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 40);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                out.push_str(&arg(name).unwrap_or_else(|| "—".to_string()));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn field<'a>(v: &'a Option<Value>, name: &str) -> Option<&'a Value> {
    v.as_ref()?.get(name).filter(|v| !v.is_null())
}

/// The value a sentence calls `name`.
fn value(ctx: &PageCtx, item: &AuditItem, name: &str) -> Option<String> {
    match name {
        "actor" => Some(if item.actor == "system" {
            ctx.t("audit.system").to_string()
        } else {
            item.actor.clone()
        }),
        "target" => Some(target(ctx, item)),
        "action" => Some(item.action.clone()),
        "organization" => item.organization_name.clone().or_else(|| {
            field(&item.after, "organization_id")
                .or_else(|| field(&item.before, "organization_id"))
                .map(|v| short_id(&text(v)))
        }),
        // When a schedule takes effect: a moment, or at approval.
        "effective" => Some(
            match field(&item.after, "effective_from").and_then(moment) {
                Some(at) => ctx.t1("audit.from", "at", &ctx.time(&at)),
                None => ctx.t("audit.when_approved").to_string(),
            },
        ),
        // Until when a restriction holds.
        "until" => Some(match field(&item.after, "until").and_then(moment) {
            Some(at) => ctx.t1("audit.until", "at", &ctx.until(&at)),
            None => ctx.t("audit.no_end").to_string(),
        }),
        _ => {
            let v = match name.strip_prefix("old_") {
                Some(old) => field(&item.before, old).map(|v| formatted(ctx, old, v)),
                None => field(&item.after, name)
                    .or_else(|| field(&item.before, name))
                    .map(|v| formatted(ctx, name, v)),
            };
            // Fee schedules are named in both languages (`中文 / English`).
            match name {
                "name" | "old_name" => v.map(|n| ctx.in_lang(&n)),
                _ => v,
            }
        }
    }
}

/// What the record is about, by the name people know it by.
fn target(ctx: &PageCtx, item: &AuditItem) -> String {
    if item.target_type == "exchange" {
        return ctx.exchange_name(&item.target_id).to_string();
    }
    match &item.target_label {
        Some(label) if item.target_type == "fee_schedule" => ctx.in_lang(label),
        Some(label) => label.clone(),
        None => short_id(&item.target_id),
    }
}

/// The first eight characters of an id, enough to tell records apart on one page.
fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn moment(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// `v`, the value of key `name`, as a sentence shows it.
fn formatted(ctx: &PageCtx, name: &str, v: &Value) -> String {
    if name.ends_with("_fen") {
        if let Some(fen) = v.as_i64() {
            return ctx.wan(&fen);
        }
    }
    if name.ends_with("_ppm") {
        if let Some(ppm) = v.as_i64() {
            return ctx.percent(&ppm);
        }
    }
    if let Some(at) = moment(v) {
        return ctx.time(&at);
    }
    match (name, v) {
        ("buyer" | "seller", Value::Object(_)) => {
            match serde_json::from_value::<SideView>(v.clone()) {
                Ok(side) => bands(ctx, &side),
                Err(_) => v.to_string(),
            }
        }
        (_, Value::Array(items)) => items
            .iter()
            .map(|i| coded(ctx, name, &text(i)))
            .collect::<Vec<_>>()
            .join(ctx.sep()),
        (_, Value::Bool(b)) => ctx.t(if *b { "audit.yes" } else { "audit.no" }).to_string(),
        _ => coded(ctx, name, &text(v)),
    }
}

/// A code by its name in the page's language, when `name` says which list it is of.
fn coded(ctx: &PageCtx, name: &str, code: &str) -> String {
    fn named<T: Named>(ctx: &PageCtx, code: &str) -> Option<String> {
        T::from_code(code).map(|v| {
            let (zh, en) = v.names();
            if ctx.is_zh() { zh } else { en }.to_string()
        })
    }
    let found = match name {
        "exchange" | "created_by_exchange" => Some(ctx.exchange_name(code).to_string()),
        "role" => named::<OrgRole>(ctx, code),
        "outcome" => named::<Outcome>(ctx, code),
        "party" | "opened_by" => named::<Payee>(ctx, code),
        "mode" | "consented_modes" | "transaction_mode" => named::<TransactionMode>(ctx, code),
        "status" => {
            let key = format!("audit.status.{code}");
            i18n::catalog(ctx.lang)
                .contains_key(&key)
                .then(|| ctx.t(&key).to_string())
        }
        _ => None,
    };
    found.unwrap_or_else(|| code.to_string())
}

/// A fee side in a line: `100万元以下 1.5%、100万元–500万元 1.2%、以上 0.5%；最低 3,000 元，封顶 50万元`.
fn bands(ctx: &PageCtx, side: &SideView) -> String {
    let mut from: Option<i64> = None;
    let parts: Vec<String> = side
        .bands
        .iter()
        .map(|b| {
            let rate = ctx.percent(&b.rate_ppm);
            let range = match (from, b.up_to_fen) {
                (None, Some(to)) => ctx.t1("audit.band.up_to", "to", &ctx.wan(&to)),
                (Some(f), Some(to)) => format!("{}–{}", ctx.wan(&f), ctx.wan(&to)),
                (Some(f), None) => ctx.t1("audit.band.above", "from", &ctx.wan(&f)),
                (None, None) => ctx.t("audit.band.all").to_string(),
            };
            from = b.up_to_fen;
            format!("{range} {rate}")
        })
        .collect();
    let cap = match side.max_fee_fen {
        Some(c) => ctx.t1("audit.band.cap", "cap", &ctx.wan(&c)),
        None => ctx.t("audit.band.no_cap").to_string(),
    };
    i18n::tf(
        ctx.lang,
        "audit.band.side",
        &[
            ("bands", parts.join(ctx.sep())),
            ("min", ctx.wan(&side.min_fee_fen)),
            ("cap", cap),
        ],
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use crate::i18n::Lang;

    fn ctx(lang: Lang) -> PageCtx {
        PageCtx::of_lang(lang, "/admin/audit")
    }

    fn item(action: &str, target_type: &str, before: Value, after: Value) -> AuditItem {
        AuditItem {
            id: 1,
            at: "2026-12-07T16:30:00Z".parse().unwrap(),
            actor: "admin-suaee@demo.techmarket.cn".into(),
            action: action.into(),
            target_type: target_type.into(),
            target_id: "0193a3f0-0000-7000-8000-000000000001".into(),
            before: Some(before),
            after: Some(after),
            target_label: None,
            organization_name: None,
        }
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The string literals of `src` that look like codes: `"word.word"`.
    fn code_literals(src: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let bytes = src.as_bytes();
        let mut i = 0;
        while let Some(q) = src[i..].find('"') {
            let start = i + q + 1;
            let Some(len) = src[start..].find('"') else {
                break;
            };
            let lit = &src[start..start + len];
            let is_code = lit.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && !b.contains('.')
                    && lit
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || c == b'_' || c == b'.')
            });
            if is_code {
                out.push((start, lit.to_string()));
            }
            i = start + len + 1;
            if i >= bytes.len() {
                break;
            }
        }
        out
    }

    /// The text of the call whose name ends at `open` (the bracket), to its matching close.
    fn call_text(src: &str, open: usize) -> &str {
        let mut depth = 0;
        for (i, c) in src[open..].char_indices() {
            match c {
                '(' | '{' | '[' => depth += 1,
                ')' | '}' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        return &src[open..open + i];
                    }
                }
                _ => {}
            }
        }
        &src[open..]
    }

    /// Every action code the service audits: the code literals of every audit call (`audit(…)`,
    /// `member_audit(…)`, `NewAudit { action: … }`, and `finish(…)`, which passes its `action`
    /// on); for a call that passes a variable, the codes chosen by `let action = …` in its function.
    fn audited_codes() -> BTreeSet<String> {
        let mut files = Vec::new();
        rust_files(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut files,
        );
        let mut codes = BTreeSet::new();
        for path in files {
            let src = std::fs::read_to_string(&path).unwrap();
            if !(src.contains("audit(") || src.contains("NewAudit {")) {
                continue;
            }
            for pattern in ["audit(", "NewAudit {", "finish("] {
                for (p, _) in src.match_indices(pattern) {
                    if src[..p].ends_with("fn ") || src[..p].ends_with("fn member_") {
                        continue;
                    }
                    let open = p + pattern.len() - 1;
                    let lits = code_literals(call_text(&src, open));
                    if !lits.is_empty() {
                        codes.extend(lits.into_iter().map(|(_, l)| l));
                        continue;
                    }
                    let fn_start = src[..p].rfind("fn ").unwrap_or(0);
                    if let Some(l) = src[fn_start..p].rfind("let action =") {
                        let chosen = &src[fn_start + l..p];
                        codes.extend(code_literals(chosen).into_iter().map(|(_, l)| l));
                    }
                }
            }
        }
        codes
    }

    #[test]
    fn every_audited_action_has_a_sentence_in_both_languages() {
        let codes = audited_codes();
        // The scan finds what the service writes (a scan that found nothing would prove nothing).
        for known in [
            "fee_schedule.draft",
            "fee_schedule.approve",
            "fee_schedule.reject",
            "listing.submit",
            "offer.withdraw",
            "pledge.release",
            "organization.restriction_expired",
            "trade.payment_received",
        ] {
            assert!(codes.contains(known), "{known} not found among {codes:?}");
        }
        assert!(codes.len() >= 30, "{codes:?}");
        for code in &codes {
            for lang in [Lang::Zh, Lang::En] {
                let key = format!("audit.sentence.{code}");
                assert!(
                    i18n::catalog(lang).contains_key(&key),
                    "{key} missing in {lang:?}"
                );
                // Without any record, a sentence still reads (no `{…}` left, no code).
                let s = sentence(&ctx(lang), &item(code, "listing", Value::Null, Value::Null));
                assert!(!s.contains('{') && !s.contains(code.as_str()), "{s}");
            }
        }
    }

    #[test]
    fn a_drafted_schedule_reads_in_percent_and_wan_at_beijing_time() {
        let after = serde_json::json!({
            "name": "统一收费标准 v2（草案）/ Unified v2 (draft)",
            "status": "draft",
            "effective_from": "2027-01-01T00:00:00Z",
            "buyer": {"bands": [{"up_to_fen": 100_000_000, "rate_ppm": 15_000}, {"up_to_fen": null, "rate_ppm": 5_000}],
                      "min_fee_fen": 300_000, "max_fee_fen": 50_000_000},
            "seller": {"bands": [{"up_to_fen": null, "rate_ppm": 10_000}], "min_fee_fen": 0, "max_fee_fen": null},
        });
        let i = item("fee_schedule.draft", "fee_schedule", Value::Null, after);
        let zh = line(&ctx(Lang::Zh), &i);
        for part in [
            "admin-suaee@demo.techmarket.cn",
            "1.5%",
            "0.5%",
            "100万元",
            "50万元",
            "2027-01-01 08:00",
        ] {
            assert!(zh.sentence.contains(part), "{part} not in {}", zh.sentence);
        }
        for raw in ["rate_ppm", "up_to_fen", "T00:00:00Z", "fee_schedule.draft"] {
            assert!(!zh.sentence.contains(raw), "{raw} in {}", zh.sentence);
        }
        assert_eq!(zh.at, "2026-12-08 00:30");
        // The raw record stays one click away, as stored.
        assert!(zh.raw.contains("\"rate_ppm\": 15000"), "{}", zh.raw);
        let en = line(&ctx(Lang::En), &i);
        assert!(en.sentence.contains("1.5%") && en.sentence.contains("¥1,000,000.00"));
        assert!(
            !en.sentence.chars().any(crate::domain::text::is_cjk),
            "{}",
            en.sentence
        );
    }

    #[test]
    fn codes_read_as_names_and_missing_values_as_a_dash() {
        let i = item(
            "organization.member_role",
            "user",
            serde_json::json!({"role": "member"}),
            serde_json::json!({"role": "owner"}),
        );
        let s = sentence(&ctx(Lang::Zh), &i);
        assert!(s.contains("成员") && s.contains("负责人"), "{s}");
        let s = sentence(&ctx(Lang::En), &i);
        assert!(s.contains("Member") && s.contains("Owner"), "{s}");
        assert_eq!(
            fill("a {x} b {y}", |n| (n == "x").then(|| "1".into())),
            "a 1 b —"
        );
        assert_eq!(fill("open { only", |_| None), "open { only");
    }
}
