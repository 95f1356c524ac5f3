//! Auction deposits (issue 16 item 1): no bid without one (403 `deposit_required`); an admin of the
//! listing's or the bidder's exchange records it (audited, through the ledger); at the close the
//! losers' are refunded and the winner's counts toward its payment; a winner that does not pay in
//! time forfeits it to the seller. The ledger verifies after each step.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;
use crate::settlement::{nets, verify};

use super::*;

const DEPOSIT: i64 = 200_000;

/// An open auction of `seller` (start ¥10,000) requiring a deposit of ¥2,000.
async fn deposit_auction(app: &TestApp, seller: &Member) -> String {
    let id = auction(app, seller, 1_000_000, 100_000, None, 3_600, 300).await;
    sqlx::query("update auctions set deposit_fen = $2 where listing_id = $1::uuid")
        .bind(&id)
        .bind(DEPOSIT)
        .execute(&app.pool)
        .await
        .unwrap();
    id
}

async fn record(app: &TestApp, admin: &str, listing: &str, org: &str) -> Resp {
    app.post(
        &format!("/api/v1/admin/listings/{listing}/deposits"),
        Some(admin),
        json!({ "organization_id": org }),
    )
    .await
}

async fn bid(app: &TestApp, listing: &str, m: &Member, amount: i64) -> Resp {
    app.post(
        &format!("/api/v1/listings/{listing}/bids"),
        Some(&m.token),
        json!({ "amount_fen": amount }),
    )
    .await
}

/// The ledger verifies and balances.
async fn ledger_ok(app: &TestApp, admin: &str, step: &str) -> Value {
    let v = verify(app, admin).await;
    assert_eq!(v["ok"], json!(true), "{step}: {v}");
    assert_eq!(v["balanced"], json!(true), "{step}: {v}");
    v
}

async fn deposit_status(app: &TestApp, listing: &str, org: &str) -> String {
    sqlx::query_scalar(
        "select status from auction_deposits where listing_id = $1::uuid and organization_id = $2::uuid",
    )
    .bind(listing)
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

fn net(n: &std::collections::HashMap<String, i64>, account: &str) -> i64 {
    n.get(account).copied().unwrap_or(0)
}

#[sqlx::test(migrations = "./migrations")]
async fn no_bid_without_a_recorded_deposit_and_who_may_record_one(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    let suaee = app.admin("suaee").await;
    let cquaee = app.admin("cquaee").await;
    let nttc = app.admin("nttc_sw").await;
    let id = deposit_auction(&app, &seller).await;

    // The rule is public.
    let view = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(view.body["deposit_fen"], json!(DEPOSIT));
    let r = bid(&app, &id, &a, 1_000_000).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("deposit_required"));

    // Neither the listing's exchange nor the bidder's: 403; a member: 403; the seller's own: 403.
    assert_eq!(
        record(&app, &nttc, &id, &a.org_id).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        record(&app, &a.token, &id, &a.org_id).await.status,
        StatusCode::FORBIDDEN
    );
    let r = record(&app, &suaee, &id, &seller.org_id).await;
    assert_eq!(r.body["error"]["code"], json!("own_listing"), "{}", r.text);
    let r = record(&app, &suaee, &id, "0190b5a4-0000-7000-8000-000000000000").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    // The bidder's exchange may record it.
    let r = record(&app, &cquaee, &id, &a.org_id).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], json!("held"));
    assert_eq!(r.body["amount_fen"], json!(DEPOSIT));
    assert_eq!(r.body["exchange"], json!("cquaee"));
    let r = record(&app, &suaee, &id, &a.org_id).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("deposit_exists"));
    let n = nets(&app.pool).await;
    assert_eq!(net(&n, "bank:cquaee"), DEPOSIT);
    assert_eq!(net(&n, &format!("deposit:{id}:{}", a.org_id)), -DEPOSIT);
    ledger_ok(&app, &suaee, "recorded").await;
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'deposit.received' and target_id = $1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    assert_eq!(
        bid(&app, &id, &a, 1_000_000).await.status,
        StatusCode::CREATED
    );

    // An auction without a deposit rule takes none.
    let free = auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;
    let r = record(&app, &suaee, &free, &a.org_id).await;
    assert_eq!(r.body["error"]["code"], json!("deposit_not_required"));
    assert!(app
        .get(&format!("/api/v1/listings/{free}/auction"), None)
        .await
        .body["deposit_fen"]
        .is_null());
}

#[sqlx::test(migrations = "./migrations")]
async fn losers_are_refunded_and_the_winners_deposit_counts_toward_its_payment(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    let b = app.verified_member("b@buyer.cn", "cdipex").await;
    // c pays a deposit and never bids.
    let c = app.verified_member("c@buyer.cn", "nttc_sw").await;
    let admin = app.admin("suaee").await;
    let buyer_admin = app.admin("cquaee").await;
    let id = deposit_auction(&app, &seller).await;
    for m in [&a, &b, &c] {
        assert_eq!(
            record(&app, &admin, &id, &m.org_id).await.status,
            StatusCode::CREATED
        );
    }
    ledger_ok(&app, &admin, "both recorded").await;
    assert_eq!(
        bid(&app, &id, &b, 1_000_000).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        bid(&app, &id, &a, 1_100_000).await.status,
        StatusCode::CREATED
    );

    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    ledger_ok(&app, &admin, "closed").await;
    let trade = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await
        .body["trade_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(deposit_status(&app, &id, &b.org_id).await, "refunded");
    assert_eq!(deposit_status(&app, &id, &c.org_id).await, "refunded");
    assert_eq!(deposit_status(&app, &id, &a.org_id).await, "applied");
    let told = app.get("/api/v1/notifications", Some(&c.token)).await;
    assert_eq!(
        told.body["items"][0]["kind"],
        json!("deposit_refunded"),
        "{}",
        told.text
    );
    let n = nets(&app.pool).await;
    // The loser's money went back out of the bank; the winner's sits in the trade's escrow.
    assert_eq!(net(&n, &format!("deposit:{id}:{}", b.org_id)), 0);
    assert_eq!(net(&n, &format!("deposit:{id}:{}", a.org_id)), 0);
    assert_eq!(net(&n, "bank:suaee"), DEPOSIT);
    assert_eq!(net(&n, &format!("escrow:{trade}")), -DEPOSIT);
    let lost = app
        .get("/api/v1/notifications?lang=en", Some(&b.token))
        .await;
    let text = lost.body["items"][0]["text"].as_str().unwrap();
    assert!(text.contains("¥2,000.00 has been refunded"), "{text}");
    let won = app
        .get("/api/v1/notifications?lang=en", Some(&a.token))
        .await;
    let text = won.body["items"][0]["text"].as_str().unwrap();
    assert!(text.contains("counts toward the payment"), "{text}");

    // The buyer is told to pay the balance only; the payment received is that balance.
    let t = app
        .get(&format!("/api/v1/trades/{trade}"), Some(&a.token))
        .await;
    let total = t.body["price_fen"].as_i64().unwrap() + t.body["buyer_fee_fen"].as_i64().unwrap();
    let pi = app
        .get(
            &format!("/api/v1/trades/{trade}/payment-instructions"),
            Some(&a.token),
        )
        .await;
    assert_eq!(pi.status, StatusCode::OK, "{}", pi.text);
    assert_eq!(pi.body["amount_fen"], json!(total - DEPOSIT));
    let st = app
        .get(&format!("/api/v1/trades/{trade}/statement"), Some(&a.token))
        .await;
    assert_eq!(
        st.body["deposit_applied_fen"],
        json!(DEPOSIT),
        "{}",
        st.text
    );
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{trade}/payment-received"),
            Some(&buyer_admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n = nets(&app.pool).await;
    assert_eq!(net(&n, "bank:cquaee"), total - DEPOSIT);
    assert_eq!(net(&n, &format!("escrow:{trade}")), -total);
    ledger_ok(&app, &admin, "paid").await;
    let r = app
        .post(
            &format!("/api/v1/trades/{trade}/confirm-delivery"),
            Some(&a.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n = nets(&app.pool).await;
    assert_eq!(
        net(&n, &format!("escrow:{trade}")),
        0,
        "a settled trade's escrow nets to zero"
    );
    ledger_ok(&app, &admin, "settled").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_winner_that_does_not_pay_in_time_forfeits_its_deposit_to_the_seller(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(chrono::Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    let admin = app.admin("suaee").await;
    let id = deposit_auction(&app, &seller).await;
    assert_eq!(
        record(&app, &admin, &id, &a.org_id).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        bid(&app, &id, &a, 1_000_000).await.status,
        StatusCode::CREATED
    );
    end_now(&app, &id).await;
    clock.set(chrono::Utc::now());
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(deposit_status(&app, &id, &a.org_id).await, "applied");
    ledger_ok(&app, &admin, "closed").await;
    let trade: String =
        sqlx::query_scalar("select trade_id::text from auctions where listing_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();

    // A day before the deadline nothing happens; after it the trade is cancelled and the deposit
    // goes from the escrow to the seller.
    clock.advance(chrono::TimeDelta::days(
        techmarket::domain::trade::PAYMENT_DAYS - 1,
    ));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(deposit_status(&app, &id, &a.org_id).await, "applied");
    clock.advance(chrono::TimeDelta::days(2));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(deposit_status(&app, &id, &a.org_id).await, "forfeited");
    let status: String = sqlx::query_scalar("select status from trades where id = $1::uuid")
        .bind(&trade)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "cancelled");
    let n = nets(&app.pool).await;
    assert_eq!(net(&n, &format!("escrow:{trade}")), 0);
    assert_eq!(
        net(&n, &format!("payable:seller:{}", seller.org_id)),
        -DEPOSIT
    );
    assert_eq!(net(&n, "bank:suaee"), DEPOSIT);
    ledger_ok(&app, &admin, "forfeited").await;
    let kinds = |m: &Member| {
        let pool = app.pool.clone();
        let org = m.org_id.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "select kind from notifications where organization_id = $1::uuid and kind like 'deposit_%' order by id",
            )
            .bind(org)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(kinds(&a).await, vec!["deposit_paid", "deposit_forfeited"]);
    assert_eq!(kinds(&seller).await, vec!["deposit_received"]);
    // Running the job again moves nothing twice.
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(nets(&app.pool).await, n);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_cancelled_trade_returns_the_deposit_to_a_buyer_the_seller_let_down(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    let admin = app.admin("suaee").await;
    let id = deposit_auction(&app, &seller).await;
    record(&app, &admin, &id, &a.org_id).await;
    bid(&app, &id, &a, 1_000_000).await;
    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let trade: String =
        sqlx::query_scalar("select trade_id::text from auctions where listing_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let r = app
        .post(
            &format!("/api/v1/trades/{trade}/cancel"),
            Some(&seller.token),
            json!({"reason": "卖方无法交付"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(deposit_status(&app, &id, &a.org_id).await, "refunded");
    let n = nets(&app.pool).await;
    assert_eq!(net(&n, &format!("escrow:{trade}")), 0);
    assert_eq!(net(&n, "bank:suaee"), 0);
    ledger_ok(&app, &admin, "refunded after the seller cancelled").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_listing_may_set_a_deposit_up_to_its_start_price(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let ends = (chrono::Utc::now() + chrono::TimeDelta::days(3)).to_rfc3339();
    let body = |deposit: i64| {
        json!({"title": "保证金拍卖", "summary": "摘要", "description": "说明", "field": "ic",
            "ip_type": "know_how", "ip_numbers": [], "trl": 6, "transaction_modes": ["transfer"], "keywords": [],
            "pricing": {"mode": "auction", "auction": {"start_price_fen": 1_000_000, "increment_fen": 10_000,
                "ends_at": ends, "deposit_fen": deposit}}})
    };
    let r = app
        .post("/api/v1/listings", Some(&seller.token), body(1_000_001))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["pricing.auction.deposit_fen"].is_string());
    let r = app
        .post("/api/v1/listings", Some(&seller.token), body(100_000))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["pricing"]["auction"]["deposit_fen"], json!(100_000));
}

#[sqlx::test(migrations = "./migrations")]
async fn withdrawing_the_listing_before_the_close_refunds_the_deposits(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    let admin = app.admin("suaee").await;
    let id = deposit_auction(&app, &seller).await;
    assert_eq!(
        record(&app, &admin, &id, &a.org_id).await.status,
        StatusCode::CREATED
    );
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/withdraw"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(deposit_status(&app, &id, &a.org_id).await, "refunded");
    let n = nets(&app.pool).await;
    assert_eq!(net(&n, "bank:suaee"), 0);
    assert_eq!(net(&n, &format!("deposit:{id}:{}", a.org_id)), 0);
    ledger_ok(&app, &admin, "withdrawn").await;
    let r = app.get("/api/v1/notifications", Some(&a.token)).await;
    assert_eq!(
        r.body["items"][0]["kind"],
        json!("deposit_refunded"),
        "{}",
        r.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_pages_show_the_rule_the_bidders_state_and_the_admin_records_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    app.admin("suaee").await;
    let id = deposit_auction(&app, &seller).await;
    let bid_form = format!("action=\"/listings/{id}/bids\"");

    let bidder = web_login(&app, &a.email).await;
    let page = app.page(&format!("/listings/{id}"), &bidder).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("竞买保证金") && page.text.contains("¥2,000.00"));
    assert!(
        page.text.contains("贵机构尚未缴纳"),
        "the bidder's own state"
    );
    assert!(
        !page.text.contains(&bid_form),
        "no bid form without a deposit"
    );
    let en = app.page(&format!("/listings/{id}?lang=en"), &bidder).await;
    let i = en.text.find("data-deposit").unwrap_or(0);
    assert!(
        en.text[i..].contains("deposit"),
        "{}",
        &en.text[i..(i + 400).min(en.text.len())]
    );
    assert!(
        en.text.contains("not paid by your organisation"),
        "{}",
        &en.text[i..(i + 400).min(en.text.len())]
    );

    // The administrator records it on the deposits page, naming the organisation by its credit code.
    let admin = web_login(&app, "admin-suaee@test.example").await;
    let uri = format!("/admin/listings/{id}/deposits");
    let page = app.page(&uri, &admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let code: String =
        sqlx::query_scalar("select credit_code from organizations where id = $1::uuid")
            .bind(&a.org_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let r = app
        .form(
            &uri,
            &admin,
            &[("_csrf", &csrf), ("organization", "91350100M000100Y43")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "an unknown organisation");
    assert!(r.text.contains("没有这个机构"));
    let r = app
        .form(
            &uri,
            &admin,
            &[("_csrf", &csrf), ("organization", &code.to_lowercase())],
        )
        .await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.text);
    let page = app.page(&format!("{uri}?done=1"), &admin).await;
    assert!(page.text.contains("已到账（可出价）"), "{}", page.text);
    assert_eq!(deposit_status(&app, &id, &a.org_id).await, "held");

    let page = app.page(&format!("/listings/{id}"), &bidder).await;
    assert!(page.text.contains("贵机构已缴纳，可出价"));
    assert!(page.text.contains(&bid_form));
    // The seller sees the rule, not a state of its own.
    let own = web_login(&app, &seller.email).await;
    let page = app.page(&format!("/listings/{id}"), &own).await;
    assert!(page.text.contains("竞买保证金") && !page.text.contains("贵机构尚未缴纳"));
}

/// The demo data has an auction that asks a deposit (车载4D毫米波成像雷达), one bidder's deposit
/// recorded through the ledger and one bidder without; loading again changes nothing.
#[sqlx::test(migrations = "./migrations")]
async fn the_demo_has_a_deposit_auction_to_try(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    techmarket::demo::load(&pool).await.unwrap();
    let (id, deposit): (String, Option<i64>) = sqlx::query_as(
        "select l.id::text, a.deposit_fen from listings l join auctions a on a.listing_id = l.id \
         where l.title = '车载4D毫米波成像雷达' and l.status = 'listed' and a.status = 'open'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(deposit, Some(50_000_000));
    let held: Vec<(String, String)> = sqlx::query_as(
        "select u.email, d.status from auction_deposits d join users u on u.organization_id = d.organization_id \
         where d.listing_id = $1::uuid and u.org_role = 'owner'",
    )
    .bind(&id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        held,
        [(
            "buyer-energy@demo.techmarket.cn".to_string(),
            "held".to_string()
        )]
    );
    let bids: i64 = sqlx::query_scalar("select count(*) from bids where listing_id = $1::uuid")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(bids, 0, "no bid was seeded past the deposit rule");

    // Its page: the rule and each bidder's own state.
    let login = |email: &'static str| {
        let app = &app;
        async move {
            let (r, cookies) = send_login_form(
                app,
                &[
                    ("email", email),
                    ("password", techmarket::demo::DEMO_PASSWORD),
                ],
            )
            .await;
            assert!(r.status.is_redirection(), "{email}: {}", r.status);
            format!("{cookies}; {}", cookies_from(&r.headers))
        }
    };
    let energy = login("buyer-energy@demo.techmarket.cn").await;
    let page = app.page(&format!("/listings/{id}"), &energy).await;
    assert!(page.text.contains("¥500,000.00") && page.text.contains("贵机构已缴纳，可出价"));
    assert!(page
        .text
        .contains(&format!("action=\"/listings/{id}/bids\"")));
    let colleague = login("buyer-auto-2@demo.techmarket.cn").await;
    let page = app.page(&format!("/listings/{id}"), &colleague).await;
    assert!(page.text.contains("贵机构尚未缴纳"));
    assert!(page.text.contains("交易所确认到账后即可出价"), "how to pay");
    let admin = login_admin(&app).await;
    ledger_ok(&app, &admin, "after the demo").await;

    // Loading again records nothing twice.
    sqlx::query("delete from demo_state")
        .execute(&pool)
        .await
        .unwrap();
    techmarket::demo::load(&pool).await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from auction_deposits")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// A token of the demo's Chongqing administrator (two factors: the demo's published secret).
async fn login_admin(app: &TestApp) -> String {
    let email = "admin-cquaee@demo.techmarket.cn";
    let code = otp_for(&app.pool, email).await.unwrap_or_default();
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": techmarket::demo::DEMO_PASSWORD, "otp": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["token"].as_str().unwrap().to_string()
}
