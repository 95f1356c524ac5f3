//! Matching with a published evaluation: the experts' TRL counts instead of the owner's claim,
//! and the maturity reason says so.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::demands::{aeb_demand, aeb_listing, insert_listing, post_demand};
use crate::helpers::*;

fn maturity(m: &Resp, listing: &str) -> (u64, String) {
    let item = m.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["listing"]["id"] == json!(listing))
        .unwrap_or_else(|| panic!("{listing} among the matches: {}", m.text));
    let r: &Value = item["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "maturity")
        .unwrap();
    (
        item["score"].as_u64().unwrap(),
        r["detail"].as_str().unwrap().to_string(),
    )
}

#[sqlx::test(migrations = "./migrations")]
async fn a_published_trl_counts_instead_of_the_owners_claim_and_the_reason_says_so(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("auto@eval.example", "cdipex").await;
    let buyer = app.verified_member("car@eval.example", "cquaee").await;
    let mut spec = aeb_listing();
    spec.trl = 3;
    let l = insert_listing(&app.pool, &seller.org_id, &spec)
        .await
        .to_string();
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let uri = format!("/api/v1/demands/{}/matches", d.body["id"].as_str().unwrap());

    let before = app.get(&uri, Some(&buyer.token)).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let (score_before, detail_before) = maturity(&before, &l);
    assert!(
        detail_before.contains("TRL 3") && !detail_before.contains("专家"),
        "{detail_before}"
    );

    // The experts judged it TRL 8 (a published evaluation; the panel itself is tested elsewhere).
    sqlx::query(
        "insert into evaluations (id, listing_id, status, due_at, exchange, created_at, closed_at, report) \
         values ($1, $2::uuid, 'published', now(), 'cdipex', now(), now(), $3)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&l)
    .bind(json!({"medians": {"maturity_trl": 8, "innovation": 4, "advancement": 4, "market": 4},
                 "spread": {"maturity_trl": {"min": 7, "max": 9}, "innovation": {"min": 4, "max": 4},
                            "advancement": {"min": 4, "max": 4}, "market": {"min": 4, "max": 4}}, "scores": 3}))
    .execute(&app.pool)
    .await
    .unwrap();
    let after = app.get(&uri, Some(&buyer.token)).await;
    let (score_after, detail_after) = maturity(&after, &l);
    assert!(
        detail_after.contains("TRL 8") && detail_after.contains("专家评价"),
        "{detail_after}"
    );
    // TRL 3 earns 4 of the 10 maturity points, TRL 8 all 10.
    assert!(
        score_after > score_before,
        "{} → {}",
        before.text,
        after.text
    );
}

/// A pledge request's valuation reference carries the listing's published evaluation.
#[sqlx::test(migrations = "./migrations")]
async fn a_pledge_valuation_carries_the_published_evaluation(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app
        .verified_member("owner@valuation.example", "suaee")
        .await;
    let bank = crate::pledges::lender(&app, "bank@valuation.example", "cquaee").await;
    let l = crate::authz::world::pledgeable_listing(&app, &owner).await;
    sqlx::query(
        "insert into evaluations (id, listing_id, status, due_at, exchange, created_at, closed_at, report) \
         values ($1, $2::uuid, 'published', now(), 'suaee', now(), now(), $3)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&l)
    .bind(json!({"medians": {"maturity_trl": 6, "innovation": 5, "advancement": 4, "market": 3},
                 "spread": {"maturity_trl": {"min": 5, "max": 7}, "innovation": {"min": 4, "max": 5},
                            "advancement": {"min": 4, "max": 4}, "market": {"min": 2, "max": 4}}, "scores": 3}))
    .execute(&app.pool)
    .await
    .unwrap();
    let r = app
        .post(
            &format!("/api/v1/listings/{l}/pledge-requests"),
            Some(&owner.token),
            json!({"lender_organization_id": bank.org_id, "amount_fen": 100_000_000, "term_months": 12}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let e = &r.body["valuation"]["evaluation"];
    assert_eq!(e["status"], json!("published"), "{}", r.text);
    assert_eq!(e["report"]["maturity_trl"], json!(6));
    assert_eq!(e["report"]["innovation"], json!(5));
    assert_eq!(e["report"]["spread"]["market"], json!({"min": 2, "max": 4}));
}
