//! The pledge lock: while a pledge is active, trades in modes the lender has not consented to are
//! refused (409 `ip_pledged`), the auction close closes unsold, and approving races accepting
//! safely.
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::trading::{auction, buyers, end_now, offer, spawn_post};

#[sqlx::test(migrations = "./migrations")]
async fn a_pledged_patent_cannot_be_bought_until_the_bank_releases_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let buyer = app.verified_member("buyer@auto.cq.cn", "cquaee").await;
    let rid = id_of(&apply(&app, &owner, &bank, &id).await);
    // Submitted, not yet approved: no lock.
    let l = app.get(&format!("/api/v1/listings/{id}"), None).await;
    assert!(l.body.get("pledge").is_none(), "{}", l.text);
    approve(&app, &bank, &rid).await;

    let l = app.get(&format!("/api/v1/listings/{id}"), None).await;
    assert_eq!(l.body["pledge"]["status"], json!("active"), "{}", l.text);
    assert_eq!(l.body["pledge"]["lender"]["id"], json!(bank.org_id));
    assert_eq!(
        l.body["pledge"]["registration_no"],
        json!("2026-CQ-ZY-000123")
    );

    let buy = format!("/api/v1/listings/{id}/buy");
    for mode in ["transfer", "nonexclusive_license"] {
        let r = app
            .post(&buy, Some(&buyer.token), json!({"transaction_mode": mode}))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{mode}: {}", r.text);
        assert_eq!(r.body["error"]["code"], json!("ip_pledged"));
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("测试机构 credit@bank.cq.cn"), "{message}");
        assert!(message.contains("2026-CQ-ZY-000123"), "{message}");
    }
    let page = app.page(&format!("/listings/{id}?lang=en"), "").await;
    assert!(page.text.contains("2026-CQ-ZY-000123"), "the page says so");

    let r = app
        .post(
            &format!("/api/v1/pledge-requests/{rid}/release"),
            Some(&bank.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let l = app.get(&format!("/api/v1/listings/{id}"), None).await;
    assert!(l.body.get("pledge").is_none());
    let r = app
        .post(
            &buy,
            Some(&buyer.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn accepting_an_offer_needs_the_lenders_consent_to_its_mode(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "negotiable").await;
    let buyer = app.verified_member("buyer@offer.cn", "cquaee").await;
    let o = offer(&app, &id, &buyer, 300_000_000).await;
    let rid = id_of(&apply(&app, &owner, &bank, &id).await);
    approve(&app, &bank, &rid).await;
    let accept = format!("/api/v1/offers/{}/accept", o["id"].as_str().unwrap());
    let r = app.post(&accept, Some(&owner.token), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("ip_pledged"));

    let consent = format!("/api/v1/pledge-requests/{rid}/consent");
    let r = app
        .post(
            &consent,
            Some(&owner.token),
            json!({"trade_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only the lender consents");
    let r = app
        .post(&consent, Some(&bank.token), json!({"trade_mode": "barter"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Consent to a non-exclusive licence does not cover a transfer.
    let r = app
        .post(
            &consent,
            Some(&bank.token),
            json!({"trade_mode": "nonexclusive_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.post(&accept, Some(&owner.token), json!({})).await;
    assert_eq!(r.body["error"]["code"], json!("ip_pledged"));
    let r = app
        .post(
            &consent,
            Some(&bank.token),
            json!({"trade_mode": "transfer"}),
        )
        .await;
    assert_eq!(
        r.body["consented_modes"],
        json!(["nonexclusive_license", "transfer"])
    );
    let r = app.post(&accept, Some(&owner.token), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'pledge.consent' and target_id = $1",
    )
    .bind(&rid)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 2);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_auction_of_a_pledged_listing_closes_unsold_and_says_why(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("institute@pledge.cn", "suaee").await;
    let bank = lender(&app, "credit@bank.cq.cn", "cquaee").await;
    let bidder = app.verified_member("bidder@pledge.cn", "cquaee").await;
    for consented in [false, true] {
        let id = auction(&app, &owner, 1_000_000, 100_000, None, 3600, 300).await;
        let rid = id_of(&apply(&app, &owner, &bank, &id).await);
        approve(&app, &bank, &rid).await;
        if consented {
            let r = app
                .post(
                    &format!("/api/v1/pledge-requests/{rid}/consent"),
                    Some(&bank.token),
                    json!({"trade_mode": "transfer"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        let r = app
            .post(
                &format!("/api/v1/listings/{id}/bids"),
                Some(&bidder.token),
                json!({"amount_fen": 1_000_000}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        end_now(&app, &id).await;
        techmarket::jobs::fast_tick(&app.state).await.unwrap();
        let a = app
            .get(&format!("/api/v1/listings/{id}/auction"), None)
            .await;
        assert_eq!(a.body["status"], json!("closed"), "{}", a.text);
        let trades: i64 =
            sqlx::query_scalar("select count(*) from trades where listing_id = $1::uuid")
                .bind(&id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(trades, i64::from(consented), "consented: {consented}");
        assert_eq!(a.body["trade_id"].is_null(), !consented);
    }
    // Both the seller and the winner were told why the first closed unsold.
    for m in [&owner, &bidder] {
        let told = notices(&app, m)
            .await
            .iter()
            .filter(|n| n.to_string().contains("质押"))
            .count();
        assert!(told >= 1, "{}", m.email);
    }
}

/// Approving a pledge while the owner accepts an offer: one of the two wins, never both; run many
/// times. Never a trade on an actively pledged listing without consent.
#[sqlx::test(migrations = "./migrations")]
async fn approving_and_accepting_at_once_never_both_succeed(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("institute@pledge.cn", "suaee").await;
    let bank = lender(&app, "credit@bank.cq.cn", "cquaee").await;
    let bs = buyers(&app, 2, "race").await;
    let (mut approved, mut traded) = (0, 0);
    for round in 0..20 {
        let id = listing(&app, &owner, "negotiable", &["transfer"], Some(350_000_000)).await;
        let o = offer(&app, &id, &bs[round % 2], 300_000_000).await;
        let rid = id_of(&apply(&app, &owner, &bank, &id).await);
        let handles = vec![
            spawn_post(
                &app.app,
                format!("/api/v1/pledge-requests/{rid}/approve"),
                &bank.token,
                json!({"registration_no": format!("REG-{round}")}),
                None,
            ),
            spawn_post(
                &app.app,
                format!("/api/v1/offers/{}/accept", o["id"].as_str().unwrap()),
                &owner.token,
                json!({}),
                None,
            ),
        ];
        let results: Vec<_> = join_all(handles)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let (ap, ac) = (&results[0], &results[1]);
        let wins = [ap.0 == StatusCode::OK, ac.0 == StatusCode::CREATED];
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "round {round}: {results:?}"
        );
        if wins[0] {
            approved += 1;
            assert_eq!(ac.1["error"]["code"], json!("ip_pledged"), "{results:?}");
        } else {
            traded += 1;
            assert_eq!(
                ap.1["error"]["code"],
                json!("listing_not_available"),
                "{results:?}"
            );
        }
    }
    // Over all rounds: no trade on a listing with an active pledge.
    let both: i64 = sqlx::query_scalar(
        "select count(*) from trades t join pledge_requests p on p.listing_id = t.listing_id \
         where p.status = 'active' and t.status <> 'cancelled'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(both, 0);
    assert_eq!(approved + traded, 20);
    eprintln!("race: {approved} approvals won, {traded} accepts won");
}
