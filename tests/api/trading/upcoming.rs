//! Upcoming auctions (issue 18): an auction may open at `pricing.auction.starts_at` (an extension
//! of API.md), `scheduled` until then; a bid before it is refused with 409 `auction_closed` saying
//! when it opens and changes nothing; the jobs open it at its start (the state's clock); the home
//! page lists live and upcoming auctions, the search card says when it opens.
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use techmarket::service::Clock;

use crate::helpers::*;

use super::*;

/// A listed auction of `seller` opening at `starts_at`, made through the API (create, submit, approve).
async fn upcoming_auction(
    app: &TestApp,
    seller: &Member,
    admin: &str,
    starts_at: chrono::DateTime<Utc>,
) -> String {
    let r = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            json!({
                "title": "柑橘黄龙病快速检测试剂盒",
                "summary": "田间 30 分钟出结果。",
                "description": "等温扩增与试纸条联用。",
                "field": "agri",
                "ip_type": "invention_patent",
                "ip_numbers": [techmarket::service::listings::patent_number(2021, '1', 880_001)],
                "trl": 7,
                "transaction_modes": ["transfer"],
                "keywords": ["黄龙病"],
                "pricing": {"mode": "auction", "auction": {
                    "start_price_fen": 20_000_000i64, "increment_fen": 500_000,
                    "starts_at": starts_at, "ends_at": starts_at + Duration::days(3)}}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["pricing"]["auction"]["starts_at"]
            .as_str()
            .map(|s| s.parse::<chrono::DateTime<Utc>>().unwrap()),
        Some(starts_at),
        "{}",
        r.text
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(admin),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    id
}

#[sqlx::test(migrations = "./migrations")]
async fn a_bid_before_the_start_is_refused_and_the_auction_opens_at_its_start(pool: PgPool) {
    let t0 = Utc::now();
    let clock = Clock::manual(t0);
    let app = TestApp::with_clock(pool, clock.clone());
    let admin = app.admin("suaee").await;
    let seller = app.verified_member("seller@upcoming.cn", "suaee").await;
    let buyer = app.verified_member("buyer@upcoming.cn", "cquaee").await;
    // Whole seconds, so the start reads back as sent.
    let starts_at = chrono::DateTime::from_timestamp(t0.timestamp() + 2 * 3_600, 0).unwrap();
    let id = upcoming_auction(&app, &seller, &admin, starts_at).await;

    let a = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.body["status"],
        json!("scheduled"),
        "approved, not open yet"
    );

    let notices = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from notifications")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let notices_before = notices().await;
    let bid = json!({"amount_fen": 20_000_000i64});
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/bids"),
            Some(&buyer.token),
            bid.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("auction_closed"));
    let beijing = starts_at
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&beijing), "says when it opens: {message}");
    assert!(r.body["error"]["opens_at"].is_string(), "{}", r.text);
    // Nothing changed: no bid, no bidder, no notice, the auction as it was.
    let (bids, bidders): (i64, i64) = sqlx::query_as(
        "select (select count(*) from bids where listing_id = $1::uuid), \
                (select count(*) from auction_bidders where listing_id = $1::uuid)",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((bids, bidders), (0, 0));
    assert_eq!(notices().await, notices_before);
    let after = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(after.body, a.body);

    // The jobs leave it scheduled before its start, and open it at its start.
    clock.set(starts_at - Duration::seconds(1));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let a = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(a.body["status"], json!("scheduled"));
    clock.set(starts_at);
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let a = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(a.body["status"], json!("open"), "{}", a.text);
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/bids"),
            Some(&buyer.token),
            bid,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["auction"]["bid_count"], json!(1));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_start_after_the_end_is_refused(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@late.cn", "suaee").await;
    let ends = Utc::now() + Duration::days(2);
    let r = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            json!({
                "title": "柑橘黄龙病快速检测试剂盒", "summary": "", "description": "介绍。",
                "field": "agri", "ip_type": "invention_patent",
                "ip_numbers": [techmarket::service::listings::patent_number(2021, '1', 880_002)],
                "trl": 7, "transaction_modes": ["transfer"], "keywords": [],
                "pricing": {"mode": "auction", "auction": {
                    "start_price_fen": 100, "increment_fen": 10,
                    "starts_at": ends + Duration::hours(1), "ends_at": ends}}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.body["error"]["fields"]["pricing.auction.starts_at"].is_string(),
        "{}",
        r.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_home_page_lists_live_and_upcoming_auctions(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let seller = app.verified_member("seller@both.cn", "suaee").await;
    let live = auction(&app, &seller, 1_000_000, 100_000, None, 86_400, 300).await;
    // A day, three hours and a half ahead: "1天3小时" for half an hour.
    let starts_at =
        chrono::DateTime::from_timestamp(Utc::now().timestamp() + 86_400 + 3 * 3_600 + 1_800, 0)
            .unwrap();
    let upcoming = upcoming_auction(&app, &seller, &admin, starts_at).await;

    for (lang, heading, price, until, opens_in, time_left) in [
        ("zh", "即将开拍", "20万元", "1天3小时", "距开拍", "剩余时间"),
        (
            "en",
            "Upcoming auctions",
            "¥200,000.00",
            "1d 3h",
            "Opens in",
            "Time left",
        ),
    ] {
        let home = app.page(&format!("/?lang={lang}"), "").await;
        assert_eq!(home.status, StatusCode::OK);
        let doc = scraper::Html::parse_document(&home.text);
        let count = |board: &str, id: &str| {
            let s =
                scraper::Selector::parse(&format!("{board} a[href=\"/listings/{id}\"]")).unwrap();
            doc.select(&s).count()
        };
        assert_eq!(count("#auctions", &live), 1, "{lang}: live");
        assert_eq!(count("#auctions", &upcoming), 0, "{lang}: not live yet");
        assert_eq!(count("#upcoming", &upcoming), 1, "{lang}: upcoming");
        assert_eq!(count("#upcoming", &live), 0, "{lang}");
        let card = scraper::Selector::parse("#upcoming .upcoming-card").unwrap();
        let text = doc.select(&card).next().unwrap().text().collect::<String>();
        assert!(home.text.contains(heading), "{lang}");
        assert!(text.contains(price), "{lang}: {text}");
        assert!(text.contains(until), "{lang}: {text}");
        // The time it counts is until the opening, and it says so.
        let label = scraper::Selector::parse("#upcoming .upcoming-card dt").unwrap();
        let until_label = doc
            .select(&label)
            .map(|dt| dt.text().collect::<String>())
            .find(|dt| dt.contains(opens_in));
        assert!(until_label.is_some(), "{lang}: {text}");
        assert!(!text.contains(time_left), "{lang}: {text}");
        let beijing = starts_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .format("%Y-%m-%d %H:%M")
            .to_string();
        assert!(text.contains(&beijing), "{lang}: {text}");
    }

    // The search card says how long until it opens and when, the running auction's how long it
    // has left; the listing page says when it opens, without a bid form.
    for (lang, opens_in, until, time_left) in [
        ("zh", "距开拍", "1天3小时", "剩余时间"),
        ("en", "Opens in", "1d 3h", "Time left"),
    ] {
        let search = app
            .page(&format!("/listings?pricing=auction&lang={lang}"), "")
            .await;
        assert_eq!(search.status, StatusCode::OK);
        let doc = scraper::Html::parse_document(&search.text);
        let cards = scraper::Selector::parse("article.listing-card").unwrap();
        let card_of = |id: &str| {
            let link = scraper::Selector::parse(&format!("a[href=\"/listings/{id}\"]")).unwrap();
            let card = doc
                .select(&cards)
                .find(|c| c.select(&link).next().is_some())
                .unwrap_or_else(|| panic!("{lang}: no card of {id}"));
            let text = |sel: &str| {
                let s = scraper::Selector::parse(sel).unwrap();
                card.select(&s)
                    .next()
                    .map(|e| e.text().collect::<String>())
                    .unwrap_or_default()
            };
            (text(".auction-left-label"), text(".auction-left"))
        };
        let (label, left) = card_of(&upcoming);
        assert_eq!(label, opens_in, "{lang}");
        assert!(left.contains(until), "{lang}: {left}");
        let beijing = starts_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .format("%Y-%m-%d %H:%M")
            .to_string();
        assert!(left.contains(&beijing), "{lang}: {left}");
        assert_eq!(card_of(&live).0, time_left, "{lang}");
    }
    let page = app.page(&format!("/listings/{upcoming}"), "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("data-opens-at"), "{}", page.text);
    assert!(!page
        .text
        .contains(&format!("action=\"/listings/{upcoming}/bids\"")));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_open_listing_page_hears_live_when_its_auction_opens(pool: PgPool) {
    let t0 = Utc::now();
    let clock = Clock::manual(t0);
    let app = TestApp::with_clock(pool, clock.clone());
    let admin = app.admin("suaee").await;
    let seller = app.verified_member("seller@opening.cn", "suaee").await;
    let starts_at = chrono::DateTime::from_timestamp(t0.timestamp() + 3_600, 0).unwrap();
    let id = upcoming_auction(&app, &seller, &admin, starts_at).await;

    // The page of the scheduled auction says so to its script, which listens to the stream.
    let page = app.page(&format!("/listings/{id}"), "").await;
    assert!(
        page.text.contains("data-status=\"scheduled\""),
        "{}",
        page.text
    );
    assert!(page.text.contains(&format!(
        "data-auction-events=\"/listings/{id}/auction/events\""
    )));

    app.state.events.spawn_listener(
        app.pool.clone(),
        techmarket::service::events::live::CHANNELS,
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut body = app.auction_events(&id, None).await.into_body();
    let first = next_event(&mut body).await;
    assert!(first.contains("\"status\":\"scheduled\""), "{first}");

    // Before its start the jobs change nothing and the page hears nothing of it; at its start the
    // jobs open it and the stream says so.
    clock.set(starts_at - Duration::seconds(1));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    clock.set(starts_at);
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let mut seen = String::new();
    while !seen.contains("\"status\":\"open\"") {
        let text = next_event(&mut body).await;
        assert!(!text.contains("\"status\":\"scheduled\""), "{text}");
        seen.push_str(&text);
    }
    assert!(seen.contains("event: auction"), "{seen}");
    assert!(seen.contains(&format!("\"listing_id\":\"{id}\"")), "{seen}");
    assert!(seen.contains("\"bid_count\":0"), "{seen}");
    assert!(!seen.contains("reserve_fen"), "{seen}");

    // Shown again (as the script reloads it), the page has the bid form.
    let page = app.page(&format!("/listings/{id}"), "").await;
    assert!(page.text.contains("data-status=\"open\""), "{}", page.text);
    let buyer = app.verified_member("buyer@opening.cn", "cquaee").await;
    let cookies = web_login(&app, &buyer.email).await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    assert!(
        page.text
            .contains(&format!("action=\"/listings/{id}/bids\"")),
        "{}",
        page.text
    );
}
