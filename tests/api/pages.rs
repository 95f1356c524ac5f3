//! Issue 18, items 2 and 3: every page of `tests/py/pages.toml` in headless chromium (Debian's),
//! at 390 and 1280 px, in Chinese and in English, screenshotted under `target/pages/`: no page
//! scrolls sideways outside its tables, a table that scrolls shows a cue, status tags stay on one
//! line, the search filters fold away on a phone, charts keep readable labels (tests/py/layout.py).
//! The statement and the certificate print on one A4 portrait page with the TM- trade number,
//! amounts in 大写 and no navigation (printed to PDF by chromium, pages counted by pypdf).
use std::path::Path;

use crate::python;
use crate::server::{Database, Server, ServerOptions};

#[tokio::test]
async fn every_page_fits_a_phone_and_a_desktop_and_the_documents_print_on_one_page() {
    let db = Database::fresh("pages");
    let server = Server::start(ServerOptions {
        demo: true,
        jobs: false,
        ..ServerOptions::new(&db.url)
    })
    .await;
    let plan =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/pages.toml"))
            .expect("tests/py/pages.toml");
    let rows = plan.matches("[[page]]").count();
    let printed = plan.matches("print = true").count();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pages");
    let (base, out) = (server.base.clone(), out.display().to_string());
    let stdout = tokio::task::spawn_blocking(move || {
        python::run_ok(
            "pages.py",
            &[&base, techmarket::demo::DEMO_PASSWORD, &out],
            &[],
        )
    })
    .await
    .unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_default();
    // Every row was shown at both widths in both languages, every printable one printed in both.
    assert_eq!(summary["pages"].as_u64(), Some(4 * rows as u64), "{stdout}");
    assert_eq!(
        summary["printed"].as_u64(),
        Some(2 * printed as u64),
        "{stdout}"
    );
    assert!(
        rows >= 40 && printed >= 2,
        "{rows} pages, {printed} printed"
    );
}

// ------------------------------------------------------------ every page has a row

/// GET routes of the web router that are not pages, so `pages.toml` has no row for them (a
/// screenshot of them would say nothing). An entry that is no longer a GET route fails the test.
const NOT_PAGES: &[(&str, &str)] = &[
    (
        "/listings/{id}/auction/events",
        "the auction page's live stream (Server-Sent Events)",
    ),
    (
        "/listings/{id}/documents/{doc}",
        "a listing document's download (PDF, PNG, JPEG)",
    ),
    (
        "/trades/{id}/delivery/attachments/{aid}",
        "a delivery attachment's download (PDF, PNG, JPEG)",
    ),
    ("/admin/payouts.csv", "a CSV download"),
    ("/admin/trades/registration.csv", "a CSV download"),
    (
        "/listings/{id}/negotiation",
        "a redirect to the viewer's offer thread (a page with its own row)",
    ),
];

/// The path of every `.route("…", …)` in the web router's source (`src/http/web/**`), comments
/// skipped. A route whose path is not a string literal fails the test (it could not be checked).
fn web_route_paths() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/web"),
        &mut files,
    );
    let mut paths = Vec::new();
    for f in files {
        let code: String = std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for (at, _) in code.match_indices(".route(") {
            let rest = code[at + ".route(".len()..].trim_start();
            let path = rest
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .map(|(p, _)| p.to_string())
                .unwrap_or_else(|| {
                    panic!(
                        "{}: a route whose path is not a string literal: {}",
                        f.display(),
                        &rest[..rest.len().min(60)]
                    )
                });
            paths.push(path);
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// A path's shape: every variable segment as `*` (`/listings/{id}/edit` → `/listings/*/edit`).
fn route_shape(route: &str) -> String {
    route
        .split('/')
        .map(|s| if s.starts_with('{') { "*" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// A `pages.toml` row's shape: the query dropped, each `{name}` replaced by the shape of the links
/// `[find.name]` looks for (`/listings/[0-9a-f-]{36}` → `/listings/*`).
fn row_shape(plan: &toml::Value, row: &str) -> String {
    let path = row.split('?').next().unwrap_or(row);
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("a closed placeholder") + open;
        let name = &rest[open + 1..close];
        let link = plan
            .get("find")
            .and_then(|f| f.get(name))
            .and_then(|f| f.get("link"))
            .and_then(|l| l.as_str())
            .unwrap_or_else(|| panic!("pages.toml: {row}: no [find.{name}] with a link"));
        let shape = link.replace("[0-9a-f-]{36}", "*").replace("[^/]+", "*");
        assert!(
            !shape.contains(['[', ']', '(', ')', '{', '}', '+', '?', '\\', '|']),
            "pages.toml: [find.{name}]: link {link:?} has a pattern this test does not read"
        );
        out.push_str(&shape);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[sqlx::test(migrations = "./migrations")]
async fn every_get_page_of_the_web_router_has_a_row_in_pages_toml(pool: sqlx::PgPool) {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    let app = crate::helpers::TestApp::new(pool);
    let routes = web_route_paths();
    assert!(
        routes.len() > 60 && routes.iter().any(|r| r == "/join/{token}"),
        "the source was read: {routes:?}"
    );
    // Which routes answer GET, as the router itself says (405 for the others).
    let mut gets = Vec::new();
    for route in &routes {
        let sample = route
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let resp = app
            .app
            .clone()
            .oneshot(Request::get(sample.as_str()).body(Body::empty()).unwrap())
            .await
            .unwrap();
        if resp.status() != StatusCode::METHOD_NOT_ALLOWED {
            gets.push(route.clone());
        }
    }
    assert!(gets.len() >= 50, "{gets:?}");

    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/pages.toml"))
            .expect("tests/py/pages.toml");
    let plan: toml::Value = toml::from_str(&text).expect("pages.toml parses");
    let rows: Vec<String> = plan["page"]
        .as_array()
        .expect("[[page]] rows")
        .iter()
        .map(|r| row_shape(&plan, r["path"].as_str().expect("a row's path")))
        .collect();

    let exempt = |r: &str| NOT_PAGES.iter().any(|(p, _)| *p == r);
    let missing: Vec<&String> = gets
        .iter()
        .filter(|r| !exempt(r) && !rows.contains(&route_shape(r)))
        .collect();
    assert!(
        missing.is_empty(),
        "GET pages without a row in tests/py/pages.toml (add one, or to NOT_PAGES if it is no \
         page): {missing:?}"
    );
    let stale: Vec<&str> = NOT_PAGES
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !gets.iter().any(|g| g == p))
        .collect();
    assert!(
        stale.is_empty(),
        "NOT_PAGES that are no GET route: {stale:?}"
    );
    // And the other way: every row is one of the router's GET pages.
    let shapes: Vec<String> = gets.iter().map(|g| route_shape(g)).collect();
    let unrouted: Vec<&String> = rows.iter().filter(|r| !shapes.contains(r)).collect();
    assert!(
        unrouted.is_empty(),
        "rows that are no GET route: {unrouted:?}"
    );
}
