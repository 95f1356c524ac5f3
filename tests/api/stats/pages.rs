//! The dashboard `/stats` and the home page's figures, in both languages.
use sqlx::PgPool;

use super::*;

fn select_text(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn count(html: &str, css: &str) -> usize {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel).count()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_dashboard_shows_the_figures_charts_and_tables_in_both_languages(pool: PgPool) {
    let app = TestApp::new(pool);
    let su = party(&app, "su@pages.example", "suaee").await;
    let cq = party(&app, "cq@pages.example", "cquaee").await;
    trade(
        &app,
        &su,
        &cq,
        "energy",
        350_000_000,
        "settled",
        Some(at("2026-11-02T00:00:00Z")),
    )
    .await;
    trade(
        &app,
        &cq,
        &su,
        "auto",
        50_000_000,
        "settled",
        Some(at("2026-12-03T00:00:00Z")),
    )
    .await;
    trade(&app, &su, &cq, "ic", 10_000_000, "cancelled", None).await;
    listing(&app.pool, &su, "ic", "sichuan", "listed").await;

    let zh = app.page("/stats", "").await;
    assert_eq!(zh.status, StatusCode::OK);
    let en = app.page("/stats?lang=en", "").await;
    assert_eq!(en.status, StatusCode::OK);
    for (page, trades, cross, saved, heading) in [
        (&zh.text, "2", "100%", "16.2万元", "市场统计"),
        (&en.text, "2", "100%", "¥162,000.00", "Market statistics"),
    ] {
        assert_eq!(select_text(page, "h1"), [heading]);
        assert_eq!(select_text(page, "#stat-trades dd"), [trades]);
        assert_eq!(select_text(page, "#stat-cross dd")[0], cross);
        assert_eq!(select_text(page, "#stat-savings dd"), [saved]);
        assert!(count(page, "#as-of time[datetime]") == 1);
        // Six charts, each followed by the table of its numbers, and the flow matrix.
        assert_eq!(count(page, "svg.chart-svg"), 6);
        assert_eq!(
            count(page, "figure.chart + .table-wrap table.chart-table"),
            6
        );
        assert_eq!(count(page, "table.chart-matrix"), 1);
        assert_eq!(count(page, "a[href='/api/v1/stats/trades.csv']"), 1);
    }
    // The flow matrix: Sichuan sold once to Chongqing, Chongqing once to Sichuan.
    let cells = select_text(&en.text, "table.chart-matrix tbody tr:first-child td");
    assert!(
        cells[0].starts_with('0') && cells[1].starts_with('1'),
        "{cells:?}"
    );
    assert!(en.text.contains("¥3,500,000.00"));
    // Months in the table of the monthly chart.
    let months = select_text(&en.text, "#by-month table.chart-table tbody th");
    assert_eq!(months, ["Nov 2026", "Dec 2026", "Nov 2026", "Dec 2026"]);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_empty_market_has_a_dashboard_too(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.page("/stats?lang=en", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("No trade has been settled yet."));
    assert_eq!(select_text(&r.text, "#stat-trades dd"), ["0"]);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_home_page_links_to_the_statistics_with_headline_figures(pool: PgPool) {
    let app = TestApp::new(pool);
    let su = party(&app, "su@home.example", "suaee").await;
    let cd = party(&app, "cd@home.example", "cdipex").await;
    trade(
        &app,
        &su,
        &cd,
        "ic",
        350_000_000,
        "settled",
        Some(at("2026-11-02T00:00:00Z")),
    )
    .await;
    let r = app.page("/?lang=en", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(count(&r.text, ".home-figures a[href='/stats']"), 1);
    let lines = select_text(&r.text, ".home-figures-list span");
    assert_eq!(
        lines,
        [
            "1 trades settled",
            "Turnover ¥3,500,000.00",
            "0% across the provincial line",
            "¥170,000.00 saved in fees"
        ]
    );
    let zh = app.page("/", "").await;
    assert!(zh.text.contains("350万元"));
}

/// The dashboard's body is rendered once per snapshot and language and shown to everyone; the header
/// around it is each visitor's own; the next snapshot brings a new body.
#[sqlx::test(migrations = "./migrations")]
async fn the_dashboard_is_rendered_once_per_snapshot_and_language(pool: PgPool) {
    use techmarket::service::Clock;
    let clock = Clock::manual(at("2026-12-07T02:00:00Z"));
    let app = TestApp::with_clock(pool, clock.clone());
    let su = party(&app, "su@render.example", "suaee").await;
    let cq = party(&app, "cq@render.example", "cquaee").await;
    trade(
        &app,
        &su,
        &cq,
        "ic",
        5_000_000,
        "settled",
        Some(at("2026-12-06T02:00:00Z")),
    )
    .await;
    let member = web_login(&app, "su@render.example").await;
    let body = |html: &str| {
        let start = html.find("<h1>").unwrap();
        html[start..html.find("</main>").unwrap()].to_string()
    };
    let anonymous = app.page("/stats?lang=en", "").await;
    assert_eq!(anonymous.status, StatusCode::OK);
    for _ in 0..3 {
        for (uri, cookies) in [
            ("/stats", ""),
            ("/stats?lang=en", ""),
            ("/stats?lang=en", member.as_str()),
        ] {
            let p = app.page(uri, cookies).await;
            assert_eq!(p.status, StatusCode::OK);
            assert_eq!(select_text(&p.text, "#stat-trades dd"), ["1"]);
            // Signed in, the header is the member's own (the sign-out form with their token).
            assert_eq!(
                count(&p.text, "form[action='/logout'] input[name='_csrf']"),
                usize::from(!cookies.is_empty())
            );
            if uri.ends_with("en") {
                assert_eq!(body(&p.text), body(&anonymous.text));
            }
        }
    }
    assert_eq!(app.state.stats.renditions(), 2, "one body per language");

    // A trade settles and the snapshot turns a minute old: the refresh (in the background) brings a
    // new snapshot, and with it a new body.
    trade(
        &app,
        &su,
        &cq,
        "ic",
        7_000_000,
        "settled",
        Some(at("2026-12-06T03:00:00Z")),
    )
    .await;
    clock.advance(chrono::TimeDelta::seconds(60));
    let mut shown = Vec::new();
    for _ in 0..200 {
        let p = app.page("/stats?lang=en", "").await;
        shown = select_text(&p.text, "#stat-trades dd");
        if shown == ["2"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(shown, ["2"], "the new snapshot's figures");
    assert_eq!(app.state.stats.renditions(), 3);
    let zh = app.page("/stats", "").await;
    assert_eq!(select_text(&zh.text, "#stat-trades dd"), ["2"]);
    assert_eq!(app.state.stats.renditions(), 4);
}
