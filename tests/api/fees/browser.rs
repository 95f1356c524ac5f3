//! The fee pages in a real browser (tests/py/fee_pages.py, Debian's chromium): at 1280 and
//! 390 px, in both languages, no page is wider than the screen and no text of a chart overlaps
//! another, leaves its chart or is drawn under 10 px.
use crate::python;
use crate::server::{Database, Server, ServerOptions};

#[tokio::test]
async fn the_fee_pages_fit_a_phone_and_their_charts_read_in_a_real_browser() {
    let db = Database::fresh("fees_browser");
    let server = Server::start(ServerOptions {
        demo: true,
        jobs: false,
        ..ServerOptions::new(&db.url)
    })
    .await;
    let (_, admin) = techmarket::demo::ADMINS[0];
    let base = server.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        python::run_ok(
            "fee_pages.py",
            &[&base, admin, techmarket::demo::DEMO_PASSWORD],
            &[],
        )
    })
    .await
    .unwrap();
    assert!(out.contains("checked 44 pages and charts"), "{out}");
}
