//! Pages show what people typed only through askama's escaping: no template switches it off.
use std::path::PathBuf;

fn files(root: &str, ext: &str) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(root)];
    let mut out = Vec::new();
    while let Some(p) = dirs.pop() {
        if p.is_dir() {
            dirs.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
    out
}

/// Templates that insert something unescaped, and what (whitespace removed; see UNESCAPED in
/// `tests/api/architecture.rs`): a QR code's SVG, or the statistics' body that askama rendered.
const ALLOWED: &[(&str, &str)] = &[
    ("templates/settlement/certificate.html", "{{qr.svg()|safe}}"),
    ("templates/accounts/two_factor.html", "{{qr.svg()|safe}}"),
    ("templates/stats/dashboard.html", "{{body|safe}}"),
];

#[test]
fn no_template_turns_escaping_off() {
    let files = files("templates", "html");
    assert!(files.len() >= 20, "templates not found: {files:?}");
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        // The allowed exceptions: the QR code SVG of `http::web::qr` (elements and numbers only)
        // and the statistics' body, in the templates allow-listed in `tests/api/architecture.rs`.
        let path = f.to_string_lossy().replace('\\', "/");
        for (_, expr) in ALLOWED.iter().filter(|(t, _)| *t == path) {
            squeezed = squeezed.replace(expr, "");
        }
        for marker in ["|safe", "|escape(\"none\")", "|e(\"none\")", "{%autoescape"] {
            if squeezed.contains(marker) {
                found.push(format!("{}: {marker}", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "escaping switched off: {found:?}");
}

#[test]
fn no_page_template_is_declared_without_escaping() {
    let mut found = Vec::new();
    for f in files("src", "rs") {
        let text = std::fs::read_to_string(&f).unwrap();
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if squeezed.contains("escape=\"none\"") {
            found.push(f.display().to_string());
        }
    }
    assert!(
        found.is_empty(),
        "templates declared with escape = \"none\": {found:?}"
    );
}
