//! Pledge requests: the valuation reference, who may apply and decide, audit and notices, and
//! financing products.
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use techmarket::domain::codes::TransactionMode;
use techmarket::service::trades::NewTrade;
use uuid::Uuid;

use super::*;
use crate::authz::world::restrict;

/// A settled trade of a fresh listing of `seller` in `field`/`ip_type` at `price_fen`, settled
/// `days_ago` days ago (made through the trade use case, then moved to settled).
pub(super) async fn settled_trade(
    app: &TestApp,
    seller: &Member,
    buyer: &Member,
    field: &str,
    ip_type: &str,
    price_fen: i64,
    days_ago: i64,
) {
    let l = Uuid::now_v7();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes, \
         pricing_mode, price_fen, status, exchange, province, listed_at) \
         select $1, o.id, $3::uuid, '可比成交', $4, $5, 6, '{transfer}', 'fixed', $6, 'sold', o.exchange, o.province, now() \
         from organizations o where o.id = $2::uuid",
    )
    .bind(l)
    .bind(&seller.org_id)
    .bind(&seller.user_id)
    .bind(field)
    .bind(ip_type)
    .bind(price_fen)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut tx = app.pool.begin().await.unwrap();
    let t = techmarket::service::trades::create(
        &mut tx,
        NewTrade {
            listing_id: l,
            seller_org: seller.org_id.parse().unwrap(),
            buyer_org: buyer.org_id.parse().unwrap(),
            price_fen,
            mode: TransactionMode::Transfer,
            seller_exchange: "suaee".into(),
            buyer_exchange: "cquaee".into(),
            source: "purchase",
            offer_id: None,
            now: Utc::now(),
        },
    )
    .await
    .unwrap();
    sqlx::query(
        "update trades set status = 'settled', paid_at = now() - make_interval(days => $2::int), \
         settled_at = now() - make_interval(days => $2::int) where id = $1",
    )
    .bind(t)
    .bind(days_ago as i32)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[sqlx::test(migrations = "./migrations")]
async fn the_valuation_reference_matches_an_independent_computation_on_seeded_trades(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let buyer = app.verified_member("buyer@comparable.cn", "cquaee").await;
    // Comparable (ic, invention_patent, within 24 months): these count.
    let counted = [
        (120_000_000i64, 10),
        (80_000_000, 100),
        (450_000_000, 400),
        (99_000_001, 700),
    ];
    for (price, days) in counted {
        settled_trade(&app, &owner, &buyer, "ic", "invention_patent", price, days).await;
    }
    // Not comparable: too old, another field, another IP type, and one not settled.
    settled_trade(&app, &owner, &buyer, "ic", "invention_patent", 5_000, 760).await;
    settled_trade(&app, &owner, &buyer, "ai", "invention_patent", 7_000, 5).await;
    settled_trade(&app, &owner, &buyer, "ic", "utility_model", 9_000, 5).await;
    sqlx::query("update trades set status = 'paid', settled_at = null where price_fen = 9000")
        .execute(&app.pool)
        .await
        .unwrap();

    let req = apply(&app, &owner, &bank, &id).await;
    let v = &req["valuation"];
    // Independently: sorted 80_000_000, 99_000_001, 120_000_000, 450_000_000 → the middle two's
    // mean, half up: (99_000_001 + 120_000_000) / 2 = 109_500_000.5 → 109_500_001.
    let mut prices: Vec<i64> = counted.iter().map(|c| c.0).collect();
    prices.sort();
    let sum = prices[1] + prices[2];
    let expected = sum / 2 + sum % 2;
    assert_eq!(expected, 109_500_001);
    assert_eq!(v["comparable_median_price_fen"], json!(expected), "{v}");
    assert_eq!(v["comparable_count"], json!(4));
    assert_eq!(v["comparables"].as_array().unwrap().len(), 4);
    assert_eq!(
        v["comparables"][0]["price_fen"],
        json!(120_000_000),
        "newest first"
    );
    assert_eq!(v["listing_price_fen"], json!(350_000_000));
    assert_eq!(v["evaluation"], json!(null));
    assert_eq!(v["comparable_field"], json!("ic"));
    assert_eq!(v["comparable_ip_type"], json!("invention_patent"));
    // The owner's standing: verified, not restricted, 6 settled trades as seller (one was moved back to paid).
    assert_eq!(v["owner"]["verified"], json!(true));
    assert_eq!(v["owner"]["restricted"], json!(false));
    assert_eq!(v["owner"]["trades_settled"], json!(6));
    assert_eq!(req["lender_organization"]["id"], json!(bank.org_id));
    assert_eq!(req["amount_fen"], json!(100_000_000));
    assert_eq!(req["term_months"], json!(12));

    // The reference is kept as it was when the request was made.
    settled_trade(&app, &owner, &buyer, "ic", "invention_patent", 1, 1).await;
    let again = app
        .get(
            &format!("/api/v1/pledge-requests/{}", id_of(&req)),
            Some(&bank.token),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["valuation"]["comparable_count"], json!(4));
}

#[sqlx::test(migrations = "./migrations")]
async fn without_comparable_trades_the_median_is_null_and_the_count_zero(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let req = apply(&app, &owner, &bank, &id).await;
    assert_eq!(req["valuation"]["comparable_median_price_fen"], json!(null));
    assert_eq!(req["valuation"]["comparable_count"], json!(0));
}

#[sqlx::test(migrations = "./migrations")]
async fn only_the_chosen_lender_decides_and_each_step_is_audited_and_told(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let other_bank = lender(&app, "other@bank.sc.cn", "suaee").await;
    let admin = app.admin("cquaee").await;
    let req = apply(&app, &owner, &bank, &id).await;
    let rid = id_of(&req);
    let uri = format!("/api/v1/pledge-requests/{rid}/approve");
    let body = json!({"registration_no": "2026-CQ-ZY-000123"});
    // Another lender cannot see it; the owner may not decide; nor may an admin.
    let r = app.post(&uri, Some(&other_bank.token), body.clone()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app.post(&uri, Some(&owner.token), body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("not_lender"));
    let r = app.post(&uri, Some(&admin), body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // The queue: the bank sees it, the other bank does not; the owner sees it as its own.
    let q = app
        .get("/api/v1/pledge-requests?role=lender", Some(&bank.token))
        .await;
    assert_eq!(q.body["total"], json!(1), "{}", q.text);
    assert_eq!(
        q.body["items"][0]["valuation"]["listing_price_fen"],
        json!(350_000_000)
    );
    let q = app
        .get(
            "/api/v1/pledge-requests?role=lender",
            Some(&other_bank.token),
        )
        .await;
    assert_eq!(q.body["total"], json!(0));
    let q = app.get("/api/v1/pledge-requests", Some(&owner.token)).await;
    assert_eq!(q.body["total"], json!(1));
    let q = app
        .get("/api/v1/pledge-requests?role=judge", Some(&owner.token))
        .await;
    assert_eq!(q.status, StatusCode::BAD_REQUEST);
    // The bank was told of the request.
    assert!(notices(&app, &bank)
        .await
        .iter()
        .any(|n| n["kind"] == json!("pledge")));
    // Validation before state: an empty number is 422.
    let r = app
        .post(&uri, Some(&bank.token), json!({"registration_no": "  "}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let active = approve(&app, &bank, &rid).await;
    assert_eq!(active["registration_no"], json!("2026-CQ-ZY-000123"));
    let r = app.post(&uri, Some(&bank.token), body).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("pledge_not_submitted"));
    let owner_notices = notices(&app, &owner).await;
    assert!(
        owner_notices.iter().any(|n| n["kind"] == json!("pledge")),
        "{owner_notices:?}"
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where target_type = 'pledge_request' and target_id = $1 order by id",
    )
    .bind(&rid)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, ["pledge.request", "pledge.approve"]);
    // Release: the lender only, once.
    let rel = format!("/api/v1/pledge-requests/{rid}/release");
    let r = app.post(&rel, Some(&owner.token), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post(&rel, Some(&bank.token), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("released"));
    let r = app.post(&rel, Some(&bank.token), json!({})).await;
    assert_eq!(r.body["error"]["code"], json!("pledge_not_active"));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_rejection_needs_a_reason_and_the_owner_hears_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let rid = id_of(&apply(&app, &owner, &bank, &id).await);
    let uri = format!("/api/v1/pledge-requests/{rid}/reject");
    let r = app
        .post(&uri, Some(&bank.token), json!({"reason": ""}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            &uri,
            Some(&bank.token),
            json!({"reason": "估值不足以覆盖贷款金额"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("rejected"));
    assert_eq!(r.body["reject_reason"], json!("估值不足以覆盖贷款金额"));
    let texts: Vec<String> = notices(&app, &owner)
        .await
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert!(texts.iter().any(|t| t.contains("估值不足")), "{texts:?}");
}

#[sqlx::test(migrations = "./migrations")]
async fn a_restricted_owner_cannot_apply_nor_can_anyone_for_a_listing_not_theirs(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let body = json!({"lender_organization_id": bank.org_id, "amount_fen": 100_000_000, "term_months": 12});
    let uri = format!("/api/v1/listings/{id}/pledge-requests");
    let stranger = app.verified_member("stranger@pledge.cn", "cdipex").await;
    let r = app.post(&uri, Some(&stranger.token), body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("not_listing_owner"));
    restrict(&app, &owner.org_id).await;
    let r = app.post(&uri, Some(&owner.token), body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("organization_restricted"));
    let n: i64 = sqlx::query_scalar("select count(*) from pledge_requests")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn only_a_verified_financial_institution_lends_and_only_patents_or_software_are_pledged(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let enterprise = app.verified_member("not-a-bank@pledge.cn", "cquaee").await;
    let uri = format!("/api/v1/listings/{id}/pledge-requests");
    let r = app
        .post(
            &uri,
            Some(&owner.token),
            json!({"lender_organization_id": enterprise.org_id, "amount_fen": 1, "term_months": 12}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["lender_organization_id"].is_string());
    let r = app
        .post(
            &uri,
            Some(&owner.token),
            json!({"lender_organization_id": bank.org_id, "amount_fen": 0, "term_months": 361}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["amount_fen"].is_string());
    assert!(r.body["error"]["fields"]["term_months"].is_string());
    sqlx::query("update listings set ip_type = 'know_how' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .post(
            &uri,
            Some(&owner.token),
            json!({"lender_organization_id": bank.org_id, "amount_fen": 1, "term_months": 12}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("listing_not_pledgeable"));
}

#[sqlx::test(migrations = "./migrations")]
async fn lenders_publish_financing_products_that_everyone_sees(pool: PgPool) {
    let app = TestApp::new(pool);
    let bank = lender(&app, "products@bank.cq.cn", "cquaee").await;
    let enterprise = app.verified_member("ent@pledge.cn", "suaee").await;
    let body = json!({"name": "知识价值信用贷款", "rate_min_ppm": 35_000, "rate_max_ppm": 48_000,
                      "max_amount_fen": 1_000_000_000, "term_min_months": 6, "term_max_months": 36});
    let r = app
        .post(
            "/api/v1/financing-products",
            Some(&enterprise.token),
            body.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("not_financial_institution"));
    let mut bad = body.clone();
    bad["rate_max_ppm"] = json!(1_000);
    let r = app
        .post("/api/v1/financing-products", Some(&bank.token), bad)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["rate_max_ppm"].is_string());
    let r = app
        .post("/api/v1/financing-products", Some(&bank.token), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["lender"]["id"], json!(bank.org_id));
    let list = app.get("/api/v1/financing-products", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["total"], json!(1));
    assert_eq!(list.body["items"][0]["name"], json!("知识价值信用贷款"));
    assert_eq!(list.body["items"][0]["rate_max_ppm"], json!(48_000));
}
