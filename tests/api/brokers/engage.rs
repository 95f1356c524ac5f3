//! Engagements: who may propose, for which side, on which trades; the broker's answer; the trade
//! shows accepted brokers; cancelling the trade cancels the engagement.
use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn a_party_proposes_the_broker_accepts_and_the_trade_shows_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    let t = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 350_000_000).await;
    let e = engage(&app, &t, &c.buyer.token, &c.broker_id, "buyer", 30_000).await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    assert_eq!(e.body["status"], json!("proposed"));
    assert_eq!(e.body["commission_fen"], json!(10_500_000));
    // Not part of the trade until accepted.
    let view = app
        .get(&format!("/api/v1/trades/{t}"), Some(&c.buyer.token))
        .await;
    assert_eq!(view.body["brokers"], json!([]));
    // The broker was told; only the broker answers.
    let told: i64 = sqlx::query_scalar(
        "select count(*) from notifications where user_id = $1::uuid and kind = 'broker'",
    )
    .bind(&c.broker.user_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, 1);
    let by_buyer = accept(&app, &e.body, &c.buyer.token).await;
    assert_eq!(by_buyer.status, StatusCode::FORBIDDEN);
    assert_eq!(by_buyer.body["error"]["code"], json!("broker_only"));
    let a = accept(&app, &e.body, &c.broker.token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["status"], json!("accepted"));
    let again = accept(&app, &e.body, &c.broker.token).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body["error"]["code"],
        json!("engagement_not_proposed")
    );
    let view = app
        .get(&format!("/api/v1/trades/{t}"), Some(&c.seller.token))
        .await;
    assert_eq!(view.body["brokers"][0]["broker_id"], json!(c.broker_id));
    assert_eq!(view.body["brokers"][0]["side"], json!("buyer"));
    assert_eq!(view.body["brokers"][0]["commission_fen"], json!(10_500_000));
    // The buyer is told to pay price + buyer fee + the commission.
    let pi = app
        .get(
            &format!("/api/v1/trades/{t}/payment-instructions"),
            Some(&c.buyer.token),
        )
        .await;
    assert_eq!(pi.status, StatusCode::OK, "{}", pi.text);
    let fee = view.body["buyer_fee_fen"].as_i64().unwrap();
    assert_eq!(pi.body["amount_fen"], json!(350_000_000 + fee + 10_500_000));
}

#[sqlx::test(migrations = "./migrations")]
async fn refusals_other_side_twice_for_a_side_bad_rates_settled_and_cancelled_trades(pool: PgPool) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    let t = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 350_000_000).await;
    // Only one's own side; not admins; not outsiders.
    let r = engage(&app, &t, &c.buyer.token, &c.broker_id, "seller", 30_000).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("not_your_side"));
    let r = engage(&app, &t, &c.admin_cq, &c.broker_id, "buyer", 30_000).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = engage(&app, &t, &c.broker.token, &c.broker_id, "buyer", 30_000).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Rates above 10%, unknown sides and brokers: 422, nothing made.
    let r = engage(&app, &t, &c.buyer.token, &c.broker_id, "buyer", 100_001).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["commission_ppm"].is_string());
    let r = engage(&app, &t, &c.buyer.token, &c.broker_id, "both", 1).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = engage(
        &app,
        &t,
        &c.buyer.token,
        &Uuid::now_v7().to_string(),
        "buyer",
        1,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["broker_id"].is_string());
    // A broker of the other party's organisation: 422.
    let colleague = candidate(&app.pool, &c.seller.org_id).await;
    let seller_side_broker = broker_row(&app.pool, &colleague).await;
    let r = engage(&app, &t, &c.buyer.token, &seller_side_broker, "buyer", 1).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let none: i64 = sqlx::query_scalar("select count(*) from broker_engagements")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(none, 0);
    // Twice for one side: 409, also while only proposed; the other side may have its own.
    assert_eq!(
        engage(&app, &t, &c.buyer.token, &c.broker_id, "buyer", 10_000)
            .await
            .status,
        StatusCode::CREATED
    );
    let r = engage(&app, &t, &c.buyer.token, &c.broker_id, "buyer", 20_000).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("broker_already_engaged"));
    let r = engage(&app, &t, &c.seller.token, &c.broker_id, "seller", 20_000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // A cancelled trade: 409; and its engagements are cancelled with it.
    let cancel = app
        .post(
            &format!("/api/v1/trades/{t}/cancel"),
            Some(&c.buyer.token),
            json!({"reason": "改变计划"}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    let live: Vec<String> =
        sqlx::query_scalar("select status from broker_engagements where trade_id = $1::uuid")
            .bind(&t)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(live, vec!["cancelled".to_string(), "cancelled".to_string()]);
    let r = engage(&app, &t, &c.buyer.token, &c.broker_id, "buyer", 10_000).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("invalid_trade_state"));

    // A settled trade: 409.
    let s = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 1_000_000).await;
    let paid = app
        .post(
            &format!("/api/v1/admin/trades/{s}/payment-received"),
            Some(&c.admin_cq),
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    // Paid is past awaiting payment already.
    let r = engage(&app, &s, &c.buyer.token, &c.broker_id, "buyer", 10_000).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let done = app
        .post(
            &format!("/api/v1/trades/{s}/confirm-delivery"),
            Some(&c.buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let r = engage(&app, &s, &c.seller.token, &c.broker_id, "seller", 10_000).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("invalid_trade_state"));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_seller_commission_above_its_proceeds_is_refused_and_a_proposal_lapses_at_payment(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    // 100 yuan: the minimum fee (300 yuan, capped at the price) leaves the seller nothing.
    let t = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 10_000).await;
    let r = engage(&app, &t, &c.seller.token, &c.broker_id, "seller", 100_000).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["commission_ppm"].is_string());
    let p = engage(&app, &t, &c.buyer.token, &c.broker_id, "buyer", 100_000).await;
    assert_eq!(p.status, StatusCode::CREATED);
    let paid = app
        .post(
            &format!("/api/v1/admin/trades/{t}/payment-received"),
            Some(&c.admin_cq),
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK);
    let a = accept(&app, &p.body, &c.broker.token).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let status: String =
        sqlx::query_scalar("select status from broker_engagements where id = $1::uuid")
            .bind(p.body["id"].as_str().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(status, "cancelled");
}
