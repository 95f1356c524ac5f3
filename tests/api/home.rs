//! The home page (issue 18): what is live now, from the boards each process keeps in memory —
//! a new approved listing shows at once (the search generation invalidates the boards), a running
//! auction with its current price and countdown, the newest demands, the notices; both languages.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

fn listing_body(title: &str) -> serde_json::Value {
    json!({
        "title": title,
        "summary": "一项示例科技成果。",
        "description": "第一段介绍。",
        "field": "energy",
        "ip_type": "invention_patent",
        "ip_numbers": [techmarket::service::listings::patent_number(2018, '1', 990_001)],
        "trl": 6,
        "transaction_modes": ["transfer"],
        "keywords": ["示例"],
        "pricing": {"mode": "fixed", "price_fen": 350_000_000i64}
    })
}

#[sqlx::test(migrations = "./migrations")]
async fn a_listing_approved_now_is_on_the_home_page_at_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let m = app.verified_member("home@org.cn", "suaee").await;
    let r = app
        .post(
            "/api/v1/listings",
            Some(&m.token),
            listing_body("家门口的氢燃料电池堆"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&m.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let home = app.page("/", "").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        !home.text.contains("家门口的氢燃料电池堆"),
        "pending: not shown"
    );
    let rounds = app.state.home.rounds();
    let again = app.page("/", "").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(app.state.home.rounds(), rounds, "served from memory");

    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&admin),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let home = app.page("/", "").await;
    assert_eq!(
        app.state.home.rounds(),
        rounds + 1,
        "recomputed after the approval"
    );
    let doc = scraper::Html::parse_document(&home.text);
    for board in ["#newest", "#listing-notices"] {
        let sel = scraper::Selector::parse(&format!("{board} a[href=\"/listings/{id}\"]")).unwrap();
        assert_eq!(doc.select(&sel).count(), 1, "{board}: {}", home.text);
    }
    assert!(home.text.contains("350万元"), "{}", home.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn running_auctions_show_their_current_price_and_time_left_and_demands_are_listed(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@home.cn", "suaee").await;
    let buyer = app.verified_member("buyer@home.cn", "cquaee").await;
    let id = crate::trading::auction(
        &app,
        &seller,
        1_000_000,
        100_000,
        None,
        2 * 86_400 + 3_700,
        300,
    )
    .await;
    let ended = crate::trading::auction(&app, &seller, 1_000_000, 100_000, None, 60, 300).await;
    crate::trading::end_now(&app, &ended).await;
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/bids"),
            Some(&buyer.token),
            json!({"amount_fen": 1_200_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .post(
            "/api/v1/demands",
            Some(&buyer.token),
            json!({"title": "寻找车规级功率芯片封装技术", "description": "用于新能源汽车电驱。",
                   "field": "ic", "keywords": ["封装"], "budget_max_fen": 500_000_000i64}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    for (lang, heading, price) in [
        ("zh", "正在竞价", "1.2万元"),
        ("en", "Live auctions", "¥12,000.00"),
    ] {
        let home = app.page(&format!("/?lang={lang}"), "").await;
        assert_eq!(home.status, StatusCode::OK);
        let doc = scraper::Html::parse_document(&home.text);
        let card = scraper::Selector::parse("#auctions .auction-card").unwrap();
        let cards: Vec<String> = doc
            .select(&card)
            .map(|c| c.text().collect::<String>())
            .collect();
        assert_eq!(cards.len(), 1, "the ended auction is not shown: {cards:?}");
        assert!(home.text.contains(heading), "{lang}");
        assert!(cards[0].contains(price), "{lang}: {}", cards[0]);
        // Two days and an hour left, to the minute, without JavaScript.
        let left = scraper::Selector::parse("#auctions [data-countdown-to]").unwrap();
        let left = doc.select(&left).next().unwrap().text().collect::<String>();
        assert!(left.starts_with("2"), "{lang}: {left}");
        assert!(left.contains("01:0"), "{lang}: {left}");
        let link = |l: &str| {
            let s =
                scraper::Selector::parse(&format!("#auctions a[href=\"/listings/{l}\"]")).unwrap();
            doc.select(&s).count()
        };
        assert_eq!((link(&id), link(&ended)), (1, 0));
        assert!(home.text.contains("寻找车规级功率芯片封装技术"), "{lang}");
        assert!(home.text.contains("/static/countdown.js"));
    }
}
