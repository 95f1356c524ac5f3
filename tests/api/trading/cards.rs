//! Search cards of auctions (issue 18): the current bid or "no bids yet", the number of bids and
//! the time left (or that it has ended), in both languages, from the search's own query; the API's
//! search JSON keeps its shape.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

/// The card of `listing` on a search page: (current bid, bids, time left), as text.
fn card(html: &str, listing: &str) -> (String, String, String) {
    let doc = scraper::Html::parse_document(html);
    let article = scraper::Selector::parse("article.listing-card").unwrap();
    let link = scraper::Selector::parse(&format!("a[href=\"/listings/{listing}\"]")).unwrap();
    let a = doc
        .select(&article)
        .find(|a| a.select(&link).next().is_some())
        .unwrap_or_else(|| panic!("no card of {listing}: {html}"));
    let text = |sel: &str| {
        let s = scraper::Selector::parse(sel).unwrap();
        a.select(&s)
            .next()
            .map(|e| e.text().collect::<String>().trim().to_string())
            .unwrap_or_default()
    };
    (
        text(".auction-current"),
        text(".auction-bids"),
        text(".auction-left"),
    )
}

#[sqlx::test(migrations = "./migrations")]
async fn search_cards_show_the_current_bid_the_bids_and_the_time_left_after_a_bid(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@cards.cn", "suaee").await;
    let buyer = app.verified_member("buyer@cards.cn", "cquaee").await;
    // Two days, three hours and a half: the card says 2 days 3 hours for half an hour.
    let bid_on = auction(
        &app,
        &seller,
        1_000_000,
        100_000,
        None,
        2 * 86_400 + 3 * 3_600 + 1_800,
        300,
    )
    .await;
    let quiet = auction(
        &app,
        &seller,
        2_000_000,
        100_000,
        None,
        5 * 3_600 + 1_800,
        300,
    )
    .await;
    let ended = auction(&app, &seller, 3_000_000, 100_000, None, 60, 300).await;
    end_now(&app, &ended).await;

    let before = app.page("/listings?pricing=auction", "").await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(card(&before.text, &bid_on).0, "暂无出价");
    assert_eq!(card(&before.text, &bid_on).1, "0");

    let r = app
        .post(
            &format!("/api/v1/listings/{bid_on}/bids"),
            Some(&buyer.token),
            json!({"amount_fen": 1_200_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let zh = app.page("/listings?pricing=auction", "").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert_eq!(
        card(&zh.text, &bid_on),
        ("1.2万元".into(), "1".into(), "剩余 2天3小时".into())
    );
    let (cur, bids, left) = card(&zh.text, &quiet);
    assert_eq!((cur.as_str(), bids.as_str()), ("暂无出价", "0"));
    assert!(left.starts_with("剩余 5小时"), "{left}");
    assert_eq!(card(&zh.text, &ended).2, "已结束");
    assert!(zh.text.contains("当前价"));

    let en = app.page("/listings?pricing=auction&lang=en", "").await;
    assert_eq!(en.status, StatusCode::OK);
    assert_eq!(
        card(&en.text, &bid_on),
        ("¥12,000.00".into(), "1".into(), "2d 3h left".into())
    );
    assert_eq!(card(&en.text, &quiet).0, "No bids yet");
    assert_eq!(card(&en.text, &ended).2, "Ended");
    assert!(en.text.contains("Current bid"));

    // The API's search JSON keeps the shape of API.md: the terms only, no live state.
    let r = app.get("/api/v1/listings?pricing=auction", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let item = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == json!(bid_on))
        .unwrap()
        .clone();
    let terms: std::collections::BTreeSet<&str> = item["pricing"]["auction"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let allowed = [
        "start_price_fen",
        "increment_fen",
        "ends_at",
        "extension_seconds",
        "has_reserve",
        "reserve_fen",
        "deposit_fen",
    ];
    assert!(terms.iter().all(|k| allowed.contains(k)), "{terms:?}");
    assert!(item.get("bid_count").is_none() && item.get("auction").is_none());
}
