//! The architecture of ARCHITECTURE.md, checked: no import against the direction of the layers,
//! no source file over 800 lines, no unescaped output in templates but the allowed QR codes and the
//! statistics' body rendered once by askama itself. Reads `src/` and `tests/` as text (no database).
//!
//! Imports are the `crate::…` and `super::…` paths in code (comments are skipped; `use` lists in
//! braces are followed), so a re-export or a path written inline counts as much as a `use`.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Longest source file, in lines.
const MAX_LINES: usize = 800;

/// Files allowed over `MAX_LINES` for now, each with a comment saying why (none today). An entry
/// whose file has come back under the limit (or is gone) fails the test, so the list cannot go stale.
const OVERSIZED: &[&str] = &[];

/// Crates `domain` must not use: it is pure (no I/O, no clock, no transport).
const IMPURE_CRATES: &[&str] = &[
    "sqlx",
    "axum",
    "tokio",
    "askama",
    "tower",
    "tower_http",
    "reqwest",
];

/// The only unescaped insertions allowed in templates: (template, the exact expression). Each is
/// the SVG of `http::web::qr::QrSvg`, whose markup is elements and numbers only (tested there), or
/// HTML that askama rendered, escaping, from another template. An entry no longer found in its
/// template fails the test, so the list cannot go stale.
const UNESCAPED: &[(&str, &str)] = &[
    // A certificate's QR code of its public verification page.
    (
        "templates/settlement/certificate.html",
        "{{ qr.svg()|safe }}",
    ),
    // The otpauth:// URI of a two-factor enrolment, for the authenticator app.
    ("templates/accounts/two_factor.html", "{{ qr.svg()|safe }}"),
    // The statistics' body, rendered from `templates/stats/body.html` once per snapshot and language
    // (`http::web::stats`, `service::stats::Cache::rendition`); every value in it is escaped there.
    ("templates/stats/dashboard.html", "{{ body|safe }}"),
];

fn segment(path: &[String], i: usize) -> &str {
    path.get(i).map(String::as_str).unwrap_or("")
}

/// What a module of `src` may not import, by the module's place.
fn forbidden(from: &[String], to: &[String]) -> Option<&'static str> {
    let (f, t) = (segment(from, 0), segment(to, 0));
    match f {
        "domain" if t != "domain" => Some("domain imports nothing but domain"),
        "db" if matches!(t, "service" | "http" | "jobs" | "startup") => {
            Some("db imports only domain")
        }
        "service" if matches!(t, "http" | "jobs" | "startup") => {
            Some("service never imports http, jobs or startup")
        }
        "jobs" if matches!(t, "http" | "startup") => Some("jobs call service, never http"),
        "auth" | "config" | "error" | "i18n" | "telemetry"
            if matches!(t, "service" | "http" | "jobs" | "startup") =>
        {
            Some("the shared modules import nothing above db")
        }
        "http" if t == "http" => match (segment(from, 1), segment(to, 1)) {
            ("web", "api") => {
                Some("http::web never calls http::api (shared helpers: http::respond)")
            }
            ("api", "web") => Some("http::api never calls http::web"),
            _ => None,
        },
        _ => None,
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn relative(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// `src/http/web/listings/form.rs` → `http::web::listings::form`; `…/mod.rs` is its folder.
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel
        .strip_prefix("src/")
        .unwrap()
        .strip_suffix(".rs")
        .unwrap();
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without its comments (line comments, doc comments, block comments).
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if block > 0 {
                match rest.find("*/") {
                    Some(i) => {
                        block -= 1;
                        rest = &rest[i + 2..];
                    }
                    None => break,
                }
            } else {
                let slash = rest.find("//");
                let open = rest.find("/*");
                match (slash, open) {
                    (Some(s), o) if o.is_none_or(|o| s < o) => {
                        kept.push_str(&rest[..s]);
                        break;
                    }
                    (_, Some(o)) => {
                        kept.push_str(&rest[..o]);
                        block += 1;
                        rest = &rest[o + 2..];
                    }
                    (_, None) => {
                        kept.push_str(rest);
                        break;
                    }
                }
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths after `prefix::` at `text[at..]`: `a::b::c` gives one path, `{a::b, c::{d, e}}` gives
/// `a::b`, `c::d`, `c::e`. Returns how many bytes it read.
fn paths_at(text: &str, at: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let rest = &text[at..];
    let mut i = 0;
    let mut path = prefix;
    loop {
        if rest[i..].starts_with('{') {
            i += 1;
            loop {
                i += rest[i..]
                    .find(|c: char| !c.is_whitespace() && c != ',')
                    .unwrap_or(rest.len() - i);
                if rest[i..].is_empty() || rest[i..].starts_with('}') {
                    return (i + 1).min(rest.len());
                }
                i += paths_at(text, at + i, path.clone(), out).max(1);
                // Skip an `as name` up to the next `,` or `}` of this group.
                i += rest[i..].find([',', '}']).unwrap_or(rest.len() - i);
            }
        }
        let ident = rest[i..]
            .find(|c: char| !is_ident(c))
            .unwrap_or(rest.len() - i);
        if ident > 0 {
            path.push(rest[i..i + ident].to_string());
            i += ident;
        }
        if ident > 0 && rest[i..].starts_with("::") {
            i += 2;
            continue;
        }
        out.push(path);
        return i;
    }
}

/// Every module path a file's code names, resolved from the crate root.
fn imports(module: &[String], code: &str) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && code[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let mut out = Vec::new();
        paths_at(code, i + "crate::".len(), Vec::new(), &mut out);
        found.extend(out.into_iter().filter(|p| !p.is_empty()));
    }
    for (i, _) in code.match_indices("super::") {
        if i > 0
            && code[..i]
                .chars()
                .next_back()
                .is_some_and(|c| is_ident(c) || c == ':')
        {
            continue;
        }
        // `super::super::x`: one level up per `super`. (Inside an inline `mod tests` this lands
        // one level too high, which is the same layer or its parent: never a false alarm.)
        let mut up = 0;
        let mut at = i;
        while code[at..].starts_with("super::") {
            up += 1;
            at += "super::".len();
        }
        let base = module[..module.len().saturating_sub(up)].to_vec();
        let mut out = Vec::new();
        paths_at(code, at, base, &mut out);
        found.extend(out.into_iter().filter(|p| !p.is_empty()));
    }
    found
}

fn violations(rel: &str, text: &str) -> Vec<String> {
    let module = module_of(rel);
    let code = code_of(text);
    let mut bad = Vec::new();
    for target in imports(&module, &code) {
        if let Some(rule) = forbidden(&module, &target) {
            bad.push(format!(
                "{rel}: imports crate::{} ({rule})",
                target.join("::")
            ));
        }
    }
    if module.first().is_some_and(|m| m == "domain") {
        for krate in IMPURE_CRATES {
            let named = code.match_indices(&format!("{krate}::")).any(|(i, _)| {
                i == 0
                    || !code[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| is_ident(c) || c == ':')
            });
            if named {
                bad.push(format!("{rel}: uses {krate} (domain is pure)"));
            }
        }
    }
    bad
}

#[test]
fn no_module_imports_against_the_direction_of_the_layers() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let rel = relative(f);
        if rel == "src/main.rs" {
            continue; // The binary: it sees the library as `techmarket::`, from above.
        }
        bad.extend(violations(&rel, &std::fs::read_to_string(f).unwrap()));
    }
    assert!(
        bad.is_empty(),
        "imports against the layers (ARCHITECTURE.md):\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_source_file_is_over_eight_hundred_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    rust_files(&root().join("tests"), &mut files);
    let mut too_long = Vec::new();
    let mut oversized_seen = BTreeSet::new();
    for f in &files {
        let rel = relative(f);
        let lines = std::fs::read_to_string(f).unwrap().lines().count();
        if OVERSIZED.contains(&rel.as_str()) {
            if lines > MAX_LINES {
                oversized_seen.insert(rel);
            }
            continue;
        }
        if lines > MAX_LINES {
            too_long.push(format!("{rel}: {lines} lines"));
        }
    }
    assert!(
        too_long.is_empty(),
        "files over {MAX_LINES} lines (split them by capability, see ARCHITECTURE.md):\n{}",
        too_long.join("\n")
    );
    let stale: Vec<_> = OVERSIZED
        .iter()
        .filter(|f| !oversized_seen.contains(**f))
        .collect();
    assert!(
        stale.is_empty(),
        "no longer over {MAX_LINES} lines (or gone): remove from OVERSIZED in {}: {stale:?}",
        file!()
    );
}

#[test]
fn the_checker_sees_imports_in_braces_inline_and_through_super() {
    let service = "//! doc mentioning crate::http::AppState is fine\n\
        use crate::{db, http::{self, AppState}};\n\
        fn f() { crate::jobs::spawn(); } // crate::http in a comment\n";
    let bad = violations("src/service/x.rs", service);
    assert_eq!(bad.len(), 3, "{bad:#?}");
    assert!(bad.iter().any(|b| b.contains("crate::http::AppState")));
    assert!(bad.iter().any(|b| b.contains("crate::jobs::spawn")));

    let web = "use super::super::api::settlement::csv_response;\nuse super::render;\n";
    let bad = violations("src/http/web/settlement/mod.rs", web);
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert!(bad[0].contains("crate::http::api::settlement"), "{bad:#?}");

    let domain = "use crate::db::x;\nuse chrono::Utc;\nfn f() -> sqlx::Result<()> { Ok(()) }\n";
    let bad = violations("src/domain/y.rs", domain);
    assert_eq!(bad.len(), 2, "{bad:#?}");

    let fine =
        "use crate::domain::money;\nuse crate::service::{self, events};\nuse super::respond;\n";
    assert!(violations("src/http/api/z.rs", fine).is_empty());
    assert!(violations("src/jobs/mod.rs", "use crate::service::AppState;").is_empty());
}

fn template_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            template_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "html") {
            out.push(p);
        }
    }
}

/// The askama expressions (`{{ … }}`) of a template that use the `safe` filter.
fn unescaped(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let expr = &rest[start..start + len + 2];
        let filters: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
        if filters.contains("|safe")
            || filters.contains("|escape(\"none\")")
            || filters.contains("|e(\"none\")")
        {
            found.push(expr.to_string());
        }
        rest = &rest[start + len + 2..];
    }
    found
}

#[test]
fn templates_escape_everything_but_the_allowed_qr_codes() {
    let mut files = Vec::new();
    template_files(&root().join("templates"), &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &files {
        let rel = relative(f);
        let text = std::fs::read_to_string(f).unwrap();
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for block in ["{%autoescape", "{%-autoescape", "filtersafe", "filter|safe"] {
            if squeezed.contains(block) {
                bad.push(format!("{rel}: {block}"));
            }
        }
        for expr in unescaped(&text) {
            if UNESCAPED.contains(&(rel.as_str(), expr.as_str())) {
                seen.insert((rel.clone(), expr));
            } else {
                bad.push(format!("{rel}: {expr}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "unescaped output in templates (only those listed in UNESCAPED may be):\n{}",
        bad.join("\n")
    );
    let stale: Vec<_> = UNESCAPED
        .iter()
        .filter(|(f, e)| !seen.contains(&(f.to_string(), e.to_string())))
        .collect();
    assert!(
        stale.is_empty(),
        "allowed but not found, remove from UNESCAPED: {stale:?}"
    );
}

#[test]
fn the_template_checker_sees_safe_filters_however_spaced() {
    assert_eq!(
        unescaped("<p>{{ a }}</p>{{ b|safe }}{{ c | safe }}{{d|e(\"none\")}}").len(),
        3
    );
    assert!(unescaped("{{ safe_name }} {{ x|escape }}").is_empty());
}
