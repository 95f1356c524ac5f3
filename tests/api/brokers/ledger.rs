//! The commission through the ledger: paid in by the buyer with the price (its side), out of the
//! seller's proceeds (its side), to `broker:{id}` at settlement; the ledger balances and verifies;
//! a dispute decided for the buyer returns the buyer's commission.
use std::collections::HashMap;

use super::*;

async fn nets(pool: &PgPool) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select account, sum(case when side = 'debit' then amount_fen else -amount_fen end)::bigint \
         from ledger_entries group by account",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

async fn verified(app: &TestApp, admin: &str) {
    let r = app.get("/api/v1/admin/ledger/verify", Some(admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["ok"], json!(true), "{}", r.text);
    assert_eq!(r.body["balanced"], json!(true), "{}", r.text);
}

/// Engages and accepts the cast's broker on `side` of `t` at `ppm`.
async fn engaged(app: &TestApp, c: &Cast, t: &str, side: &str, ppm: i64) {
    let token = if side == "buyer" {
        &c.buyer.token
    } else {
        &c.seller.token
    };
    let e = engage(app, t, token, &c.broker_id, side, ppm).await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    assert_eq!(
        accept(app, &e.body, &c.broker.token).await.status,
        StatusCode::OK
    );
}

async fn pay_and_confirm(app: &TestApp, c: &Cast, t: &str) -> Value {
    let paid = app
        .post(
            &format!("/api/v1/admin/trades/{t}/payment-received"),
            Some(&c.admin_cq),
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    let done = app
        .post(
            &format!("/api/v1/trades/{t}/confirm-delivery"),
            Some(&c.buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    done.body
}

#[sqlx::test(migrations = "./migrations")]
async fn a_buyer_side_commission_is_paid_in_with_the_price_and_reaches_the_broker(pool: PgPool) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    let t = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 350_000_000).await;
    engaged(&app, &c, &t, "buyer", 30_000).await;
    let view = pay_and_confirm(&app, &c, &t).await;
    let (bf, sf) = (
        view["buyer_fee_fen"].as_i64().unwrap(),
        view["seller_fee_fen"].as_i64().unwrap(),
    );
    assert_eq!(view["brokers"][0]["status"], json!("paid"));
    let n = nets(&app.pool).await;
    // Paid in: price + buyer fee + 3% of the price.
    assert_eq!(n["bank:cquaee"], 350_000_000 + bf + 10_500_000);
    assert_eq!(n[&format!("escrow:{t}")], 0);
    assert_eq!(n[&format!("broker:{}", c.broker_id)], -10_500_000);
    // The seller's proceeds are untouched by the buyer's broker.
    assert_eq!(
        n[&format!("payable:seller:{}", c.seller.org_id)],
        -(350_000_000 - sf)
    );
    verified(&app, &c.admin_su).await;
    // The broker sees it earned, nothing pending.
    let d = app
        .get(
            &format!("/api/v1/brokers/{}/deals", c.broker_id),
            Some(&c.broker.token),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["earned_fen"], json!(10_500_000));
    assert_eq!(d.body["pending_fen"], json!(0));
    assert_eq!(d.body["deals"]["items"][0]["trade_id"], json!(t));
    // The buyer may not read the broker's deals.
    let d = app
        .get(
            &format!("/api/v1/brokers/{}/deals", c.broker_id),
            Some(&c.buyer.token),
        )
        .await;
    assert_eq!(d.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_seller_side_commission_comes_out_of_the_proceeds_and_the_payout_due_is_less(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    // 1 234 567.89 yuan at 2.5%: 3 086 419.725 fen → 3 086 420 (half up).
    let t = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 123_456_789).await;
    engaged(&app, &c, &t, "seller", 25_000).await;
    let view = pay_and_confirm(&app, &c, &t).await;
    let (bf, sf) = (
        view["buyer_fee_fen"].as_i64().unwrap(),
        view["seller_fee_fen"].as_i64().unwrap(),
    );
    let n = nets(&app.pool).await;
    assert_eq!(n["bank:cquaee"], 123_456_789 + bf);
    assert_eq!(n[&format!("escrow:{t}")], 0);
    assert_eq!(n[&format!("broker:{}", c.broker_id)], -3_086_420);
    let proceeds = 123_456_789 - sf - 3_086_420;
    assert_eq!(n[&format!("payable:seller:{}", c.seller.org_id)], -proceeds);
    verified(&app, &c.admin_su).await;
    // The payout due to the seller is what its payable holds.
    let due = app
        .get("/api/v1/admin/payouts?status=due", Some(&c.admin_cq))
        .await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.text);
    let item = due.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["trade_id"] == json!(t))
        .cloned()
        .unwrap();
    assert_eq!(item["amount_fen"], json!(proceeds));
}

#[sqlx::test(migrations = "./migrations")]
async fn both_sides_brokered_and_a_refund_returns_the_buyer_commission(pool: PgPool) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    let t = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 350_000_000).await;
    engaged(&app, &c, &t, "buyer", 10_000).await;
    engaged(&app, &c, &t, "seller", 20_000).await;
    pay_and_confirm(&app, &c, &t).await;
    let n = nets(&app.pool).await;
    assert_eq!(
        n[&format!("broker:{}", c.broker_id)],
        -(3_500_000 + 7_000_000)
    );
    assert_eq!(n[&format!("escrow:{t}")], 0);
    verified(&app, &c.admin_su).await;

    // A dispute decided for the buyer: price, buyer fee and the buyer's commission come back.
    let u = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 350_000_000).await;
    engaged(&app, &c, &u, "buyer", 10_000).await;
    let paid = app
        .post(
            &format!("/api/v1/admin/trades/{u}/payment-received"),
            Some(&c.admin_cq),
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK);
    let bf = paid.body["buyer_fee_fen"].as_i64().unwrap();
    let d = app
        .post(
            &format!("/api/v1/trades/{u}/disputes"),
            Some(&c.buyer.token),
            json!({"reason": "资料缺失"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let dispute = d.body["dispute"]["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/disputes/{dispute}/resolve"),
            Some(&c.admin_cq),
            json!({"outcome": "buyer", "reason": "卖方未交付"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n = nets(&app.pool).await;
    assert_eq!(n[&format!("escrow:{u}")], 0);
    assert_eq!(
        n[&format!("payable:buyer:{}", c.buyer.org_id)],
        -(350_000_000 + bf + 3_500_000)
    );
    // The broker got only the first trade's commissions.
    assert_eq!(
        n[&format!("broker:{}", c.broker_id)],
        -(3_500_000 + 7_000_000)
    );
    verified(&app, &c.admin_su).await;
    let due = app
        .get("/api/v1/admin/payouts?status=due", Some(&c.admin_cq))
        .await;
    let refund = due.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["trade_id"] == json!(u) && i["party"] == json!("buyer"))
        .cloned()
        .unwrap();
    assert_eq!(refund["amount_fen"], json!(350_000_000 + bf + 3_500_000));
}
