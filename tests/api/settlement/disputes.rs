//! Disputes, payouts and cancellation with consequences (issue 15 items 6–8): every decision
//! balances the ledger and it verifies; a payout zeroes the payable; a paid trade is not cancelled;
//! a buyer's second cancellation or a payment timeout reaches its exchange's admins.
use super::*;

pub(super) async fn deliver(app: &TestApp, id: &str, seller: &Party) -> Resp {
    app.post(
        &format!("/api/v1/trades/{id}/delivery"),
        Some(&seller.m.token),
        json!({"note": "技术资料与源代码已交付"}),
    )
    .await
}

pub(super) async fn dispute(app: &TestApp, id: &str, token: &str, reason: &str) -> Resp {
    app.post(
        &format!("/api/v1/trades/{id}/disputes"),
        Some(token),
        json!({ "reason": reason }),
    )
    .await
}

pub(super) async fn resolve(app: &TestApp, dispute: &str, admin: &str, body: Value) -> Resp {
    app.post(
        &format!("/api/v1/admin/disputes/{dispute}/resolve"),
        Some(admin),
        body,
    )
    .await
}

async fn notices(app: &TestApp, like: &str) -> i64 {
    sqlx::query_scalar("select count(*) from notifications where dedupe_key like $1")
        .bind(like)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A paid and delivered trade of 350万元 (fees 4万 each side) in dispute, opened by the buyer.
pub(super) async fn disputed(
    app: &TestApp,
    seller: &Party,
    buyer: &Party,
    admin: &str,
) -> (String, String) {
    let id = new_trade(app, seller, buyer, 350_000_000).await;
    assert_eq!(pay(app, &id, admin).await.status, StatusCode::OK);
    assert_eq!(deliver(app, &id, seller).await.status, StatusCode::OK);
    let r = dispute(
        app,
        &id,
        &buyer.m.token,
        "交付的源代码无法编译，缺少核心模块",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], json!("disputed"));
    assert_eq!(r.body["dispute"]["status"], json!("open"));
    assert_eq!(r.body["dispute"]["opened_by"], json!("buyer"));
    (id, r.body["dispute"]["id"].as_str().unwrap().to_string())
}

#[sqlx::test(migrations = "./migrations")]
async fn every_dispute_outcome_balances_the_ledger_and_verify_stays_true(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let buyer_admin = app.admin("cquaee").await;
    let seller_admin = app.admin("suaee").await;
    let (s, b) = (&seller.m.org_id, &buyer.m.org_id);
    // (outcome, share, status, seller is owed, buyer gets back, fee revenue of each exchange)
    let cases = [
        (
            json!({"outcome": "seller", "reason": "交付符合合同约定"}),
            "settled",
            346_000_000,
            0,
            4_000_000,
        ),
        (
            json!({"outcome": "buyer", "reason": "卖方未能交付核心模块"}),
            "refunded",
            0,
            354_000_000,
            0,
        ),
        (
            json!({"outcome": "split", "seller_share_fen": 175_000_000, "reason": "部分交付，各担一半"}),
            "settled",
            171_000_000,
            175_000_000,
            4_000_000,
        ),
    ];
    for (i, (body, status, seller_gets, buyer_gets, fee)) in cases.into_iter().enumerate() {
        let (id, d) = disputed(&app, &seller, &buyer, &buyer_admin).await;
        // Either party's exchange decides; here alternately.
        let admin = if i % 2 == 0 {
            &seller_admin
        } else {
            &buyer_admin
        };
        let before = nets(&app.pool).await;
        let r = resolve(&app, &d, admin, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], json!(status), "{body}");
        assert_eq!(r.body["dispute"]["status"], json!("resolved"));
        assert_eq!(r.body["dispute"]["outcome"], body["outcome"]);
        assert_eq!(r.body["dispute"]["seller_receives_fen"], json!(seller_gets));
        assert_eq!(r.body["dispute"]["buyer_refund_fen"], json!(buyer_gets));
        let after = nets(&app.pool).await;
        let moved = |account: String| {
            after.get(&account).copied().unwrap_or(0) - before.get(&account).copied().unwrap_or(0)
        };
        assert_eq!(after[&format!("escrow:{id}")], 0, "the escrow is emptied");
        assert_eq!(moved(format!("payable:seller:{s}")), -seller_gets);
        assert_eq!(moved(format!("payable:buyer:{b}")), -buyer_gets);
        assert_eq!(moved("revenue:cquaee".into()), -fee);
        assert_eq!(moved("revenue:suaee".into()), -fee);
        let v = verify(&app, admin).await;
        assert_eq!(v["ok"], json!(true), "{v}");
        assert_eq!(v["balanced"], json!(true), "{v}");
        // Both parties see the outcome; both were told; it is audited.
        for token in [&buyer.m.token, &seller.m.token] {
            let t = app.get(&format!("/api/v1/trades/{id}"), Some(token)).await;
            assert_eq!(t.body["dispute"]["outcome"], body["outcome"]);
        }
        assert_eq!(notices(&app, &format!("dispute:{d}:resolved:%")).await, 2);
        assert_eq!(notices(&app, &format!("dispute:{d}:opened:%")).await, 2);
        let audited: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where target_id = $1 and action in ('dispute.open', 'dispute.resolve')",
        )
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(audited, 2);
    }
    // A refund listed the exclusive listing again.
    let relisted: i64 = sqlx::query_scalar("select count(*) from listings where status = 'listed'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(relisted, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn only_parties_open_and_only_the_two_exchanges_admins_decide(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let stranger = party(&app, "x@example.cn", "cdipex").await;
    let buyer_admin = app.admin("cquaee").await;
    let third_admin = app.admin("nttc_sw").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;

    // Not before payment; a reason is required (422 before any state check).
    let r = dispute(&app, &id, &buyer.m.token, "x").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = dispute(&app, &id, &buyer.m.token, "  ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["reason"].is_string());
    assert_eq!(pay(&app, &id, &buyer_admin).await.status, StatusCode::OK);
    assert_eq!(
        dispute(&app, &id, &stranger.m.token, "x").await.status,
        StatusCode::NOT_FOUND
    );
    let r = dispute(&app, &id, &buyer_admin, "x").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("party_only"));

    // After delivery, only within the acceptance period (15 days).
    assert_eq!(deliver(&app, &id, &seller).await.status, StatusCode::OK);
    clock.advance(chrono::Duration::days(15) + chrono::Duration::minutes(1));
    let r = dispute(&app, &id, &seller.m.token, "买方拒不验收").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("acceptance_period_over"));
    clock.advance(-chrono::Duration::days(2));
    let r = dispute(&app, &id, &seller.m.token, "买方拒不验收").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["dispute"]["opened_by"], json!("seller"));
    let d = r.body["dispute"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        dispute(&app, &id, &buyer.m.token, "再次").await.status,
        StatusCode::CONFLICT,
        "one dispute at a time"
    );
    // A disputed trade neither settles at the end of the period nor on the buyer's word.
    clock.advance(chrono::Duration::days(30));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(
        confirm(&app, &id, &buyer.m.token).await.status,
        StatusCode::CONFLICT
    );
    let t = app
        .get(&format!("/api/v1/trades/{id}"), Some(&buyer.m.token))
        .await;
    assert_eq!(t.body["status"], json!("disputed"));

    // The queue: both exchanges' admins see it, a third exchange's does not, and may not decide.
    for (admin, n) in [(&buyer_admin, 1), (&third_admin, 0)] {
        let q = app
            .get("/api/v1/admin/disputes?status=open", Some(admin))
            .await;
        assert_eq!(q.status, StatusCode::OK, "{}", q.text);
        assert_eq!(q.body["total"], json!(n));
    }
    let q = app
        .get("/api/v1/admin/disputes?status=open", Some(&seller.m.token))
        .await;
    assert_eq!(q.status, StatusCode::FORBIDDEN);
    let queue = app.get("/api/v1/admin/disputes", Some(&buyer_admin)).await;
    assert_eq!(queue.body["items"][0]["dispute"]["id"], json!(d));
    let ok = json!({"outcome": "buyer", "reason": "卖方交付不完整"});
    let r = resolve(&app, &d, &third_admin, ok.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("other_exchange"));
    assert_eq!(
        resolve(&app, &d, &seller.m.token, ok.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        resolve(&app, &Uuid::now_v7().to_string(), &buyer_admin, ok.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Invalid decisions: 422 with the field.
    for (body, field) in [
        (json!({"outcome": "half", "reason": "r"}), "outcome"),
        (json!({"outcome": "buyer", "reason": ""}), "reason"),
        (
            json!({"outcome": "split", "reason": "r"}),
            "seller_share_fen",
        ),
        (
            json!({"outcome": "split", "seller_share_fen": 350_000_000, "reason": "r"}),
            "seller_share_fen",
        ),
        (
            json!({"outcome": "split", "seller_share_fen": 3_999_999, "reason": "r"}),
            "seller_share_fen",
        ),
    ] {
        let r = resolve(&app, &d, &buyer_admin, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(r.body["error"]["fields"][field].is_string(), "{}", r.text);
    }
    // Told to the admins of both exchanges: here only the buyer's has one.
    assert_eq!(notices(&app, &format!("dispute:{d}:queue:%")).await, 1);
    let r = resolve(&app, &d, &buyer_admin, ok.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("refunded"));
    let r = resolve(&app, &d, &buyer_admin, ok).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("dispute_not_open"));
    let v = verify(&app, &buyer_admin).await;
    assert_eq!(v["ok"], json!(true));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_payout_zeroes_the_payable_and_the_bank_gets_a_csv(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let buyer_admin = app.admin("cquaee").await;
    let seller_admin = app.admin("suaee").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;
    assert_eq!(pay(&app, &id, &seller_admin).await.status, StatusCode::OK);
    assert_eq!(
        confirm(&app, &id, &buyer.m.token).await.status,
        StatusCode::OK
    );
    let payable = format!("payable:seller:{}", seller.m.org_id);
    assert_eq!(nets(&app.pool).await[&payable], -346_000_000);

    // The buyer's exchange's account holds the money: its list shows what is due.
    let due = app
        .get("/api/v1/admin/payouts?status=due", Some(&buyer_admin))
        .await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.text);
    assert_eq!(due.body["total"], json!(1));
    assert_eq!(due.body["total_amount_fen"], json!(346_000_000));
    assert_eq!(due.body["items"][0]["party"], json!("seller"));
    assert_eq!(due.body["items"][0]["trade_id"], json!(id));
    let other = app.get("/api/v1/admin/payouts", Some(&seller_admin)).await;
    assert_eq!(
        other.body["total"],
        json!(0),
        "not the listing's exchange's"
    );
    let csv = app
        .get("/api/v1/admin/payouts.csv", Some(&buyer_admin))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text.starts_with('\u{feff}'), "UTF-8 with BOM");
    assert_eq!(csv.text.lines().count(), 2, "{}", csv.text);
    assert!(csv.text.contains("3460000.00") && csv.text.contains("TM-"));
    assert_eq!(
        app.get("/api/v1/admin/payouts.csv", Some(&seller.m.token))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let body = |amount: i64| json!({"trade_id": id, "party": "seller", "amount_fen": amount, "bank_reference": "CQB20261207-0001"});
    let r = app
        .post(
            "/api/v1/admin/payouts",
            Some(&buyer_admin),
            body(346_000_001),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["amount_fen"].is_string());
    let r = app
        .post(
            "/api/v1/admin/payouts",
            Some(&seller_admin),
            body(346_000_000),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("other_exchange"));
    let r = app
        .post(
            "/api/v1/admin/payouts",
            Some(&buyer_admin),
            json!({"trade_id": id, "party": "buyer", "amount_fen": 1, "bank_reference": "x"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "nothing is due to the buyer"
    );
    assert_eq!(r.body["error"]["code"], json!("nothing_due"));
    let r = app
        .post(
            "/api/v1/admin/payouts",
            Some(&buyer_admin),
            body(346_000_000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], json!("paid"));
    assert_eq!(r.body["bank_reference"], json!("CQB20261207-0001"));
    let n = nets(&app.pool).await;
    assert_eq!(n[&payable], 0, "the payable is zero");
    assert_eq!(n["bank:cquaee"], 8_000_000, "what stays is the fees");
    let r = app
        .post(
            "/api/v1/admin/payouts",
            Some(&buyer_admin),
            body(346_000_000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "paid out once");
    let due = app.get("/api/v1/admin/payouts", Some(&buyer_admin)).await;
    assert_eq!(due.body["total"], json!(0));
    let paid = app
        .get("/api/v1/admin/payouts?status=paid", Some(&buyer_admin))
        .await;
    assert_eq!(paid.body["total_amount_fen"], json!(346_000_000));
    assert_eq!(notices(&app, &format!("payout:{id}:seller")).await, 1);
    let v = verify(&app, &buyer_admin).await;
    assert_eq!(
        (v["ok"].clone(), v["balanced"].clone()),
        (json!(true), json!(true))
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn cancelling_needs_a_reason_counts_against_the_buyer_and_a_paid_trade_is_refused(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let buyer_admin = app.admin("cquaee").await;
    let seller_admin = app.admin("suaee").await;
    let cancel_with = |id: String, token: String, reason: &'static str| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/trades/{id}/cancel"),
                Some(&token),
                json!({ "reason": reason }),
            )
            .await
        }
    };
    let first = new_trade(&app, &seller, &buyer, 2_000_000).await;
    let r = cancel_with(first.clone(), buyer.m.token.clone(), " ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = cancel_with(first.clone(), buyer.m.token.clone(), "预算调整").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["cancelled_by"], json!("buyer"));
    assert_eq!(r.body["cancel_reason"], json!("预算调整"));
    assert_eq!(
        notices(&app, "default:%").await,
        0,
        "a first one is only counted"
    );

    // A paid trade cannot be cancelled: only a dispute undoes it.
    let paid = new_trade(&app, &seller, &buyer, 2_000_000).await;
    assert_eq!(pay(&app, &paid, &buyer_admin).await.status, StatusCode::OK);
    for token in [&buyer.m.token, &seller.m.token] {
        let r = cancel_with(paid.clone(), token.clone(), "不想要了").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert_eq!(r.body["error"]["code"], json!("invalid_trade_state"));
    }

    // The seller sees the count; a second cancellation tells the buyer's exchange's admins.
    let second = new_trade(&app, &seller, &buyer, 2_000_000).await;
    let t = app
        .get(&format!("/api/v1/trades/{second}"), Some(&seller.m.token))
        .await;
    assert_eq!(t.body["buyer_cancellations_90d"], json!(1));
    let r = cancel_with(second.clone(), buyer.m.token.clone(), "内部审批未通过").await;
    assert_eq!(r.status, StatusCode::OK);
    let told: Vec<(Option<Uuid>, String)> = sqlx::query_as(
        "select n.user_id, n.title_zh from notifications n where n.dedupe_key like 'default:%'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].1.contains("第 2 次"), "{told:?}");
    let admin_exchange: Option<String> =
        sqlx::query_scalar("select admin_exchange from users where id = $1")
            .bind(told[0].0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(admin_exchange.as_deref(), Some("cquaee"));
    // A seller's cancellation does not count against the buyer.
    let third = new_trade(&app, &seller, &buyer, 2_000_000).await;
    let r = cancel_with(third.clone(), seller.m.token.clone(), "卖方无法交付").await;
    assert_eq!(r.status, StatusCode::OK);
    let t = app
        .get(&format!("/api/v1/trades/{third}"), Some(&seller_admin))
        .await;
    assert_eq!(t.body["buyer_cancellations_90d"], json!(2));

    // An unpaid trade at its deadline is reported too.
    let old = Utc::now() - chrono::Duration::days(8);
    let l = listing(&app, &seller.m, "suaee", "过期未付成果", "sold").await;
    let late = trade_at(
        &app,
        &seller,
        &buyer,
        l,
        1_000_000,
        TransactionMode::Transfer,
        old,
    )
    .await;
    techmarket::service::settlement::cancel_unpaid(&app.pool, Utc::now())
        .await
        .unwrap();
    assert_eq!(notices(&app, &format!("default:{late}:%")).await, 1);
    let t = app
        .get(&format!("/api/v1/trades/{late}"), Some(&seller.m.token))
        .await;
    assert_eq!(t.body["cancelled_by"], json!("payment_timeout"));
    assert_eq!(t.body["buyer_cancellations_90d"], json!(3));
}
