//! Safe amounts and the bidder's mode (issue 15): outliers need `confirm_outlier`, limits are named
//! with their value, the pages confirm every amount in 元, 万元 and 大写 before it is sent, and an
//! auction's winner gets the mode it chose.
use axum::http::{header, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn an_outlier_bid_is_refused_without_confirmation_and_taken_with_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    // An 800万 auction; a bid of 999亿 is 12 487.5 times its price.
    let id = auction(&app, &seller, 800_000_000, 1_000_000, None, 3_600, 300).await;
    let uri = format!("/api/v1/listings/{id}/bids");
    let r = app
        .post(
            &uri,
            Some(&b.token),
            json!({"amount_fen": 9_990_000_000_000i64}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["code"], json!("amount_outlier"));
    assert_eq!(r.body["error"]["factor"], json!("12487.5"));
    assert_eq!(r.body["error"]["reference_fen"], json!(800_000_000));
    let field = r.body["error"]["fields"]["amount_fen"].as_str().unwrap();
    assert!(field.contains("12487.5"), "{field}");
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &id
        )
        .await,
        0,
        "a refused bid changes nothing"
    );
    // Ten times is not an outlier; just above needs the confirmation.
    let r = app
        .post(
            &uri,
            Some(&b.token),
            json!({"amount_fen": 8_000_000_000i64}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            &uri,
            Some(&b.token),
            json!({"amount_fen": 9_990_000_000_000i64, "confirm_outlier": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["auction"]["current_price_fen"],
        json!(9_990_000_000_000i64)
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn outlier_offers_and_counter_offers_need_the_confirmation_too(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], Some(1_000_000)).await;
    let uri = format!("/api/v1/listings/{id}/offers");
    let r = app
        .post(
            &uri,
            Some(&b.token),
            json!({"amount_fen": 20_000_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["code"], json!("amount_outlier"));
    assert_eq!(r.body["error"]["factor"], json!("20"));
    let r = app
        .post(
            &uri,
            Some(&b.token),
            json!({"amount_fen": 900_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let offer = r.body["id"].as_str().unwrap().to_string();
    let counter = format!("/api/v1/offers/{offer}/counter");
    let r = app
        .post(
            &counter,
            Some(&seller.token),
            json!({"amount_fen": 90_000_001}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["code"], json!("amount_outlier"));
    let r = app
        .post(
            &counter,
            Some(&seller.token),
            json!({"amount_fen": 90_000_001, "confirm_outlier": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_maximum_is_named_with_its_value(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    // 10^20 fen: far above DOMAIN.md's 10^14.
    let r = app
        .form(
            &format!("/listings/{id}/bids"),
            &cookies,
            &[("_csrf", &csrf), ("amount", "1000000000000000000")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(
        back.contains("trading_error=err.amount.too_large"),
        "{back}"
    );
    let page = app.page(&back, &cookies).await;
    assert!(!page.text.contains("{max}"), "placeholder left unfilled");
    assert!(
        page.text.contains("金额不能超过 ¥1,000,000,000,000.00"),
        "the limit is named"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_bid_page_confirms_the_amount_in_wan_and_capitals_and_flags_outliers(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 800_000_000, 1_000_000, None, 3_600, 300).await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let uri = format!("/listings/{id}/bids");
    // First the confirmation: nothing is bid yet.
    let r = app
        .form(&uri, &cookies, &[("_csrf", &csrf), ("amount", "800万")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("捌佰万元整"), "capitals");
    assert!(r.text.contains("800万元"), "万元");
    assert!(r.text.contains("¥8,000,000.00"));
    assert!(!r.text.contains("data-outlier"), "not an outlier");
    assert_eq!(input_value(&r.text, "confirmed").as_deref(), Some("1"));
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );
    // 999亿: flagged with its factor, and the box must be ticked.
    let r = app
        .form(&uri, &cookies, &[("_csrf", &csrf), ("amount", "999亿")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("data-outlier"));
    assert!(r.text.contains("12487.5"));
    assert!(r.text.contains("玖佰玖拾玖亿元整"));
    let csrf2 = input_value(&r.text, "_csrf").unwrap();
    // Sent without ticking the box (a browser would not let it; a script might): refused.
    let r = app
        .form(
            &uri,
            &cookies,
            &[("_csrf", &csrf2), ("amount", "999亿"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(back.contains("trading_error=err.trading.outlier"), "{back}");
    let page = app.page(&back, &cookies).await;
    assert!(
        page.text.contains("12487.5"),
        "the factor is named on the page"
    );
    let r = app
        .form(
            &uri,
            &cookies,
            &[
                ("_csrf", &csrf2),
                ("amount", "800万"),
                ("confirmed", "1"),
                ("idempotency_key", "k1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn accepting_an_offer_shows_price_both_fees_and_the_total_first(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(
        &app,
        &seller,
        "negotiable",
        &["transfer"],
        Some(5_000_000_000),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&b.token),
            json!({"amount_fen": 3_500_000_000i64, "transaction_mode": "transfer"}),
        )
        .await;
    let offer = r.body["id"].as_str().unwrap().to_string();
    let cookies = web_login(&app, "seller@chip.cn").await;
    let page = app.page("/my/offers", &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/offers/{offer}/accept"),
            &cookies,
            &[("_csrf", &csrf), ("idempotency_key", "acc")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "a confirmation, not yet a trade");
    // 3500万: unified v1 fee per side = 1.5%×100万 + 1%×400万 + 0.7%×500万 + 0.4%×2500万 = 19万.
    assert!(r.text.contains("叁仟伍佰万元整"));
    assert!(r.text.contains("data-buyer-fee=\"19000000\""), "buyer fee");
    assert!(
        r.text.contains("data-seller-fee=\"19000000\""),
        "seller fee"
    );
    assert!(r.text.contains("data-buyer-total=\"3519000000\""), "total");
    assert!(r.text.contains("data-seller-net=\"3481000000\""));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );
    let r = app
        .form(
            &format!("/offers/{offer}/accept"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("idempotency_key", "acc"),
                ("confirmed", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_auction_winner_gets_the_mode_it_chose(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    let b = app.verified_member("b@buyer.cn", "cdipex").await;
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;
    sqlx::query(
        "update listings set transaction_modes = array['transfer', 'nonexclusive_license'] where id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.pool)
    .await
    .unwrap();
    let uri = format!("/api/v1/listings/{id}/bids");
    // Several modes: the first bid must choose one.
    let r = app
        .post(&uri, Some(&a.token), json!({"amount_fen": 1_000_000}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body["error"]["fields"]["transaction_mode"].is_string());
    let r = app
        .post(
            &uri,
            Some(&a.token),
            json!({"amount_fen": 1_000_000, "transaction_mode": "sole_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "not offered");
    let r = app
        .post(
            &uri,
            Some(&a.token),
            json!({"amount_fen": 1_000_000, "transaction_mode": "nonexclusive_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            &uri,
            Some(&b.token),
            json!({"amount_fen": 1_100_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A known bidder keeps its mode without naming it again.
    let r = app
        .post(&uri, Some(&a.token), json!({"amount_fen": 1_200_000}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let (org, mode, contract): (String, String, String) = sqlx::query_as(
        "select buyer_organization_id::text, transaction_mode, contract_type from trades where listing_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(org, a.org_id);
    assert_eq!(
        mode, "nonexclusive_license",
        "the winner's choice, not the seller's first mode"
    );
    assert_eq!(contract, "tech_license");
}
