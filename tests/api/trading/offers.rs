//! Offers and counter-offers: to a trade, rejected, withdrawn, expired, concurrent accepts.
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn an_offer_and_a_counter_offer_end_in_a_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let other = app.verified_member("other@buyer.cn", "cdipex").await;
    let id = listing(
        &app,
        &seller,
        "negotiable",
        &["transfer", "exclusive_license"],
        Some(40_000_000),
    )
    .await;

    let o = offer(&app, &id, &b, 30_000_000).await;
    assert_eq!(o["status"], json!("open"));
    assert_eq!(o["made_by"], json!("buyer"));
    assert_eq!(o["listing_id"], json!(id));
    assert_eq!(o["amount_fen"], json!(30_000_000));
    assert_eq!(o["transaction_mode"], json!("transfer"));
    let oid = o["id"].as_str().unwrap();
    let other_offer = offer(&app, &id, &other, 31_000_000).await;

    // Parties only.
    assert_eq!(
        app.get(&format!("/api/v1/offers/{oid}"), Some(&b.token))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/offers/{oid}"), Some(&seller.token))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/offers/{oid}"), Some(&other.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let all = app
        .get(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&seller.token),
        )
        .await;
    assert_eq!(all.body["total"], json!(2));
    let mine = app
        .get(&format!("/api/v1/listings/{id}/offers"), Some(&b.token))
        .await;
    assert_eq!(mine.body["total"], json!(1));
    let stranger = app.verified_member("stranger@buyer.cn", "suaee").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&stranger.token)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // The buyer may not answer its own offer; the seller may not withdraw it.
    for action in ["accept", "reject"] {
        let r = app
            .post(
                &format!("/api/v1/offers/{oid}/{action}"),
                Some(&b.token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
    }
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/counter"),
            Some(&b.token),
            json!({"amount_fen": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/withdraw"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/accept"),
            Some(&stranger.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The seller counters.
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/counter"),
            Some(&seller.token),
            json!({"amount_fen": 35_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["made_by"], json!("seller"));
    assert_eq!(r.body["status"], json!("open"));
    assert_eq!(r.body["thread_id"], o["thread_id"]);
    let cid = r.body["id"].as_str().unwrap().to_string();
    let old = app
        .get(&format!("/api/v1/offers/{oid}"), Some(&b.token))
        .await;
    assert_eq!(old.body["status"], json!("countered"));
    // The seller may not accept its own counter-offer.
    let r = app
        .post(
            &format!("/api/v1/offers/{cid}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The countered offer can no longer be accepted.
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // The buyer accepts the counter-offer: a trade at that amount.
    let r = app
        .post(
            &format!("/api/v1/offers/{cid}/accept"),
            Some(&b.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["trade"]["price_fen"], json!(35_000_000));
    assert_eq!(r.body["trade"]["buyer_organization_id"], json!(b.org_id));
    assert_eq!(r.body["trade"]["status"], json!("awaiting_payment"));
    let accepted = app
        .get(&format!("/api/v1/offers/{cid}"), Some(&b.token))
        .await;
    assert_eq!(accepted.body["status"], json!("accepted"));
    // Exclusive: the listing is sold, the other buyer's offer closed.
    let closed = app
        .get(
            &format!("/api/v1/offers/{}", other_offer["id"].as_str().unwrap()),
            Some(&other.token),
        )
        .await;
    assert_eq!(closed.body["status"], json!("closed"));
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&other.token),
            json!({"amount_fen": 50_000_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("listing_not_available"));
    // The seller was told of the offers and of the trade.
    let n: i64 = sqlx::query_scalar("select count(*) from notifications where organization_id = $1::uuid and kind in ('offer_received', 'trade_sold')")
        .bind(&seller.org_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
}

#[sqlx::test(migrations = "./migrations")]
async fn offers_can_be_rejected_and_withdrawn_by_the_right_party(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let o = offer(&app, &id, &b, 100_000).await;
    let oid = o["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/reject"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("rejected"));
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/withdraw"),
            Some(&b.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no longer open");

    let o = offer(&app, &id, &b, 120_000).await;
    assert_eq!(o["thread_id"], json!(o["thread_id"]));
    let oid = o["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/withdraw"),
            Some(&b.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], json!("withdrawn"));
    // A mode the listing does not offer, or a bad amount: 422.
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&b.token),
            json!({"amount_fen": -5, "transaction_mode": "equity"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["transaction_mode"].is_string());
    assert!(r.body["error"]["fields"]["amount_fen"].is_string());
    // The whole thread.
    let mine = app.get("/api/v1/offers", Some(&b.token)).await;
    assert_eq!(mine.body["total"], json!(1), "{}", mine.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_expired_offer_cannot_be_accepted(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let o = offer(&app, &id, &b, 100_000).await;
    let oid = o["id"].as_str().unwrap();
    let expires: chrono::DateTime<chrono::Utc> = o["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_hours();
    assert!(
        (14 * 24 - 1..=14 * 24).contains(&days),
        "14 days, got {days} h"
    );
    sqlx::query("update offers set expires_at = now() - interval '1 minute' where id = $1::uuid")
        .bind(oid)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("offer_expired"));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let status: String = sqlx::query_scalar("select status from offers where id = $1::uuid")
        .bind(oid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "expired");
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn twenty_concurrent_accepts_on_an_exclusive_listing_make_one_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bs = buyers(&app, 20, "acc").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let mut offers = Vec::new();
    for (i, b) in bs.iter().enumerate() {
        let o = offer(&app, &id, b, 100_000 + i as i64).await;
        offers.push(o["id"].as_str().unwrap().to_string());
    }
    let handles: Vec<_> = offers
        .iter()
        .map(|oid| {
            spawn_post(
                &app.app,
                format!("/api/v1/offers/{oid}/accept"),
                &seller.token,
                json!({}),
                None,
            )
        })
        .collect();
    let results: Vec<_> = join_all(handles)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let ok = results
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.0 == StatusCode::CREATED || r.0 == StatusCode::CONFLICT));
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
            "select count(*) from offers where listing_id = $1::uuid and status = 'accepted'",
            &id
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from offers where listing_id = $1::uuid and status = 'open'",
            &id
        )
        .await,
        0
    );
}
