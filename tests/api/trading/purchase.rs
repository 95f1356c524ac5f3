//! Fixed-price purchases (exclusive and not, concurrent, idempotent) and the guards on who may trade.
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

use super::*;

// ---------------------------------------------------------------- purchases

#[sqlx::test(migrations = "./migrations")]
async fn twenty_concurrent_purchases_of_an_exclusive_listing_make_one_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bs = buyers(&app, 5, "buy").await;
    let id = listing(
        &app,
        &seller,
        "fixed",
        &["transfer", "nonexclusive_license"],
        Some(350_000_000),
    )
    .await;
    let handles: Vec<_> = (0..20)
        .map(|i| {
            spawn_post(
                &app.app,
                format!("/api/v1/listings/{id}/buy"),
                &bs[i % 5].token,
                json!({"transaction_mode": "transfer"}),
                None,
            )
        })
        .collect();
    let results: Vec<_> = join_all(handles)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let won: Vec<_> = results
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for (s, body) in &results {
        if *s != StatusCode::CREATED {
            assert_eq!(*s, StatusCode::CONFLICT, "{body}");
            let code = body["error"]["code"].as_str().unwrap();
            assert!(
                code == "listing_not_available" || code == "listing_sold",
                "{code}"
            );
        }
    }
    let trade = &won[0].1["trade"];
    assert_eq!(trade["price_fen"], json!(350_000_000));
    assert_eq!(trade["transaction_mode"], json!("transfer"));
    assert_eq!(trade["contract_type"], json!("tech_transfer"));
    assert_eq!(trade["status"], json!("awaiting_payment"));
    assert_eq!(trade["seller_organization_id"], json!(seller.org_id));
    assert_eq!(trade["seller_exchange"], json!("suaee"));
    // Unified v1 on ¥3,500,000: 1.5% × 100万 + 1% × 250万 = ¥40,000.
    assert_eq!(trade["buyer_fee_fen"], json!(4_000_000));
    assert_eq!(trade["seller_fee_fen"], json!(4_000_000));
    for k in [
        "id",
        "listing_id",
        "buyer_organization_id",
        "fee_schedule_id",
        "buyer_exchange",
        "created_at",
        "paid_at",
        "settled_at",
    ] {
        assert!(trade.get(k).is_some(), "{k}");
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from listings where id = $1::uuid and status = 'sold'",
            &id
        )
        .await,
        1
    );
    // Anyone else now gets 409.
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/buy"),
            Some(&bs[1].token),
            json!({"transaction_mode": "nonexclusive_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_non_exclusive_licence_is_sold_to_many(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bs = buyers(&app, 3, "lic").await;
    let id = listing(
        &app,
        &seller,
        "fixed",
        &["nonexclusive_license"],
        Some(5_000_000),
    )
    .await;
    let handles: Vec<_> = bs
        .iter()
        .map(|b| {
            spawn_post(
                &app.app,
                format!("/api/v1/listings/{id}/buy"),
                &b.token,
                json!({"transaction_mode": "nonexclusive_license"}),
                None,
            )
        })
        .collect();
    for r in join_all(handles).await {
        let (s, body) = r.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from listings where id = $1::uuid and status = 'listed'",
            &id
        )
        .await,
        1
    );
    // A mode the listing does not offer: 422 naming the field.
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/buy"),
            Some(&bs[0].token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["transaction_mode"].is_string(),
        "{}",
        r.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn purchases_are_idempotent_and_respect_the_pricing_mode(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let fixed = listing(
        &app,
        &seller,
        "fixed",
        &["nonexclusive_license"],
        Some(1_000_000),
    )
    .await;
    let negotiable = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let uri = format!("/api/v1/listings/{fixed}/buy");
    let body = json!({"transaction_mode": "nonexclusive_license"});
    let (s1, b1) = post_key(&app, &uri, &b.token, body.clone(), "buy-1").await;
    let (s2, b2) = post_key(&app, &uri, &b.token, body, "buy-1").await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(b1, b2);
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &fixed
        )
        .await,
        1
    );

    let r = app
        .post(
            &format!("/api/v1/listings/{negotiable}/buy"),
            Some(&b.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("wrong_pricing_mode"));
    let r = app
        .post(
            &format!("/api/v1/listings/{fixed}/bids"),
            Some(&b.token),
            json!({"amount_fen": 100}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], json!("wrong_pricing_mode"));
    let r = app
        .post(
            &format!("/api/v1/listings/{}/buy", Uuid::now_v7()),
            Some(&b.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&uri, None, json!({"transaction_mode": "transfer"}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------- guards

#[sqlx::test(migrations = "./migrations")]
async fn no_one_trades_on_their_own_listing_or_while_unverified_or_restricted(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let unverified = app.member("new@buyer.cn", "cquaee").await;
    let restricted = app.verified_member("bad@buyer.cn", "cdipex").await;
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason) values ($1, $2::uuid, '失信')",
    )
    .bind(Uuid::now_v7())
    .bind(&restricted.org_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let fixed = listing(&app, &seller, "fixed", &["transfer"], Some(1_000_000)).await;
    let negotiable = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let auc = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let attempts = [
        (
            format!("/api/v1/listings/{fixed}/buy"),
            json!({"transaction_mode": "transfer"}),
        ),
        (
            format!("/api/v1/listings/{negotiable}/offers"),
            json!({"amount_fen": 100_000, "transaction_mode": "transfer"}),
        ),
        (
            format!("/api/v1/listings/{auc}/bids"),
            json!({"amount_fen": 100_000}),
        ),
    ];
    for (uri, body) in &attempts {
        for (m, code) in [
            (&seller, "own_listing"),
            (&unverified, "organization_unverified"),
            (&restricted, "organization_restricted"),
        ] {
            let r = app.post(uri, Some(&m.token), body.clone()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri} {code}: {}", r.text);
            assert_eq!(r.body["error"]["code"], json!(code), "{uri}");
        }
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &fixed
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &auc
        )
        .await,
        0
    );
}
