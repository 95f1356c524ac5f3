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
