//! Trades end to end: a cross-province sale with everyone's share, who may see and act, concurrent
//! confirmations, idempotency, cancelling, the unpaid-trade deadline.
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use futures_util::future::join_all;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::codes::TransactionMode;
use uuid::Uuid;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn a_chongqing_enterprise_buys_a_sichuan_patent_and_everyone_sees_their_share(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "turbine@uni.example.cn", "suaee").await;
    let buyer = party(&app, "buyer@cq.example.cn", "cquaee").await;
    let cq_admin = app.admin("cquaee").await;
    let sc_admin = app.admin("suaee").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;

    // Unified v1 on 350万元: 100万 × 1.5% + 250万 × 1% = 4万元 per side.
    let r = app
        .get(&format!("/api/v1/trades/{id}"), Some(&buyer.m.token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let t = &r.body;
    for k in [
        "id",
        "listing_id",
        "seller_organization_id",
        "buyer_organization_id",
        "price_fen",
        "transaction_mode",
        "contract_type",
        "status",
        "fee_schedule_id",
        "buyer_fee_fen",
        "seller_fee_fen",
        "seller_exchange",
        "buyer_exchange",
        "created_at",
        "paid_at",
        "settled_at",
    ] {
        assert!(t.get(k).is_some(), "trade JSON lacks {k}");
    }
    assert_eq!(t["status"], json!("awaiting_payment"));
    assert_eq!(t["buyer_fee_fen"], json!(4_000_000));
    assert_eq!(t["seller_fee_fen"], json!(4_000_000));
    assert_eq!(t["contract_type"], json!("tech_transfer"));
    assert_eq!(t["buyer_exchange"], json!("cquaee"));
    assert_eq!(t["seller_exchange"], json!("suaee"));
    assert_eq!(
        t["seller_organization_name"],
        json!("测试机构 turbine@uni.example.cn")
    );
    assert_eq!(t["listing_title"], json!("页岩气勘探技术"));

    // The buyer's exchange records the payment.
    let r = pay(&app, &id, &cq_admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("paid"));
    assert!(r.body["paid_at"].is_string());
    let n = nets(&app.pool).await;
    assert_eq!(n["bank:cquaee"], 354_000_000);
    assert_eq!(n[&format!("escrow:{id}")], -354_000_000);

    // Only the buyer confirms delivery.
    let r = confirm(&app, &id, &seller.m.token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = confirm(&app, &id, &buyer.m.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("settled"));
    assert!(r.body["settled_at"].is_string());

    let n = nets(&app.pool).await;
    assert_eq!(
        n[&format!("escrow:{id}")],
        0,
        "a settled trade's escrow is zero"
    );
    assert_eq!(
        n[&format!("payable:seller:{}", seller.m.org_id)],
        -346_000_000
    );
    assert_eq!(n["revenue:cquaee"], -4_000_000);
    assert_eq!(n["revenue:suaee"], -4_000_000);

    // Both parties' statements show who paid what.
    for token in [&buyer.m.token, &seller.m.token, &sc_admin] {
        let s = app
            .get(&format!("/api/v1/trades/{id}/statement"), Some(token))
            .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        assert_eq!(s.body["buyer_pays_fen"], json!(354_000_000));
        assert_eq!(s.body["seller_receives_fen"], json!(346_000_000));
        assert_eq!(s.body["contract_type_name"], json!("技术转让合同"));
        assert_eq!(
            s.body["listing"]["ip_numbers"][0],
            json!("ZL201710601862.3")
        );
        assert!(s.body["seller"]["credit_code"].as_str().unwrap().len() == 18);
        assert!(s.body["buyer"]["credit_code"].as_str().unwrap().len() == 18);
        assert_eq!(
            s.body["fee_schedule"]["name"],
            json!("统一收费标准 v1 / Unified schedule v1")
        );
        assert_eq!(
            s.body["fee_schedule"]["buyer"]["bands"][0]["rate_ppm"],
            json!(15000)
        );
        // Sichuan legacy: 100万 × 5% + 250万 × 3% = 12.5万 per side; Chongqing: 0.7万 + 1.25万 = 1.95万.
        assert_eq!(
            s.body["legacy"]["sichuan"]["buyer_fee_fen"],
            json!(12_500_000)
        );
        assert_eq!(
            s.body["legacy"]["chongqing"]["seller_fee_fen"],
            json!(1_950_000)
        );
    }

    // Each exchange sees its share.
    let r = app.get("/api/v1/admin/revenue", Some(&sc_admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let by = &r.body["by_exchange"];
    assert_eq!(by["cquaee"]["revenue_fen"], json!(4_000_000));
    assert_eq!(by["cquaee"]["buyer_fee_fen"], json!(4_000_000));
    assert_eq!(by["suaee"]["revenue_fen"], json!(4_000_000));
    assert_eq!(by["suaee"]["seller_fee_fen"], json!(4_000_000));
    assert_eq!(by["suaee"]["trades"], json!(1));
    assert_eq!(by["cdipex"]["revenue_fen"], json!(0));

    let b = app
        .get("/api/v1/admin/ledger/balances", Some(&cq_admin))
        .await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    assert_eq!(b.body["escrow_fen"], json!(0));
    assert_eq!(b.body["bank_fen"], json!(354_000_000));
    assert_eq!(b.body["payable_fen"], json!(346_000_000));
    assert_eq!(b.body["revenue_fen"], json!(8_000_000));

    let v = verify(&app, &cq_admin).await;
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["balanced"], json!(true));
    assert_eq!(v["entries"], json!(6));
    let e = app
        .get("/api/v1/admin/ledger/entries?limit=2", Some(&cq_admin))
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
    assert_eq!(e.body["total"], json!(6));
    let e = &e.body["items"];
    assert_eq!(e[0]["id"], json!(6));
    assert_eq!(e[0]["hash"], v["head_hash"]);
    assert_eq!(e[0]["prev_hash"], e[1]["hash"]);
    assert_eq!(
        app.get("/api/v1/admin/ledger/entries", Some(&buyer.m.token))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(v["first_bad_entry_id"], Value::Null);
    let head: Vec<u8> = sqlx::query_scalar("select hash from ledger_head")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(v["head_hash"], json!(hex::encode(head)));
    let (ids, seq): (Vec<i64>, i64) = (
        sqlx::query_scalar("select id from ledger_entries order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap(),
        sqlx::query_scalar("select last_value from ledger_entries_id_seq")
            .fetch_one(&app.pool)
            .await
            .unwrap(),
    );
    assert_eq!(ids, (1..=6).collect::<Vec<i64>>(), "ids follow the chain");
    assert_eq!(seq, 6, "the sequence is kept in step");
    let indexed: bool = sqlx::query_scalar(
        "select exists(select 1 from pg_indexes where indexname = 'trades_buyer_exchange')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(indexed, "the settlement migration ran");

    // The printable statement page, for the buyer.
    let cookies = web_login(&app, "buyer@cq.example.cn").await;
    let page = app.page(&format!("/trades/{id}/statement"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(select_text(&page.text, ".contract-type"), ["技术转让合同"]);
    assert_eq!(select_text(&page.text, ".buyer-pays"), ["¥3,540,000.00"]);
    assert_eq!(
        select_text(&page.text, ".seller-receives"),
        ["¥3,460,000.00"]
    );
    assert!(page.text.contains("ZL201710601862.3"));
    assert!(page.text.contains("/static/settlement.css"));
    // Amounts in figures and in capitals (大写); the trade by its short number, not its id.
    assert_eq!(
        select_text(&page.text, "tr.total .capital"),
        ["叁佰伍拾肆万元整", "叁佰肆拾陆万元整"]
    );
    let number = select_text(&page.text, ".trade-number");
    assert!(number[0].starts_with("TM-20"), "{number:?}");
    assert!(
        !select_text(&page.text, ".statement-head")[0].contains(&id),
        "the statement shows the trade's id"
    );
    assert_eq!(select_text(&page.text, "tr.sichuan td").len(), 3);
    // The trade list and page for the buyer.
    let list = app.page("/trades?role=buyer", &cookies).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains(&format!("/trades/{id}")));
    let list = app.page("/trades?role=seller", &cookies).await;
    assert!(!list.text.contains(&format!("/trades/{id}\"")));
}

#[sqlx::test(migrations = "./migrations")]
async fn third_parties_get_404_on_trades_and_statements(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "cdipex").await;
    let buyer = party(&app, "b@example.cn", "nttc_sw").await;
    let other = party(&app, "o@example.cn", "cdipex").await;
    let id = new_trade(&app, &seller, &buyer, 1_000_000).await;
    for uri in [
        format!("/api/v1/trades/{id}"),
        format!("/api/v1/trades/{id}/statement"),
    ] {
        let r = app.get(&uri, Some(&other.m.token)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        let r = app.get(&uri, Some(&seller.m.token)).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        let r = app.get(&uri, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    for action in ["confirm-delivery", "cancel"] {
        let r = post_key(
            &app,
            &format!("/api/v1/trades/{id}/{action}"),
            &other.m.token,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    let list = app.get("/api/v1/trades", Some(&other.m.token)).await;
    assert_eq!(list.body["total"], json!(0));
    let list = app
        .get("/api/v1/trades?role=seller", Some(&seller.m.token))
        .await;
    assert_eq!(list.body["total"], json!(1));
    let list = app
        .get("/api/v1/trades?role=buyer", Some(&seller.m.token))
        .await;
    assert_eq!(list.body["total"], json!(0));
    let r = app
        .get("/api/v1/trades?role=owner", Some(&seller.m.token))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .get("/api/v1/trades/not-a-trade", Some(&seller.m.token))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The pages too.
    let cookies = web_login(&app, "o@example.cn").await;
    for uri in [format!("/trades/{id}"), format!("/trades/{id}/statement")] {
        let r = app.page(&uri, &cookies).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn only_an_admin_of_the_buyers_or_the_listings_exchange_records_payment(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let unrelated = app.admin("cdipex").await;
    let listing_admin = app.admin("suaee").await;
    let id = new_trade(&app, &seller, &buyer, 2_000_000).await;

    let r = pay(&app, &id, &unrelated).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("other_exchange"));
    let r = pay(&app, &id, &buyer.m.token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = pay(&app, &Uuid::now_v7().to_string(), &listing_admin).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(nets(&app.pool).await.len(), 0, "nothing posted");

    // The listing's exchange may record it (API.md), but the money is where the payment
    // instructions sent the buyer: the settlement account of the buyer's exchange.
    let r = pay(&app, &id, &listing_admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n = nets(&app.pool).await;
    assert_eq!(n["bank:cquaee"], 2_000_000 + 30_000);
    assert!(!n.contains_key("bank:suaee"), "{n:?}");
    let instructions = app
        .get(
            &format!("/api/v1/trades/{id}/payment-instructions"),
            Some(&buyer.m.token),
        )
        .await;
    assert_eq!(instructions.body["exchange"], json!("cquaee"));
    let r = pay(&app, &id, &listing_admin).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("invalid_trade_state"));

    // Audited as an admin action.
    let audit = app
        .get("/api/v1/admin/audit?target_type=trade", Some(&unrelated))
        .await;
    assert_eq!(audit.body["total"], json!(1));
    assert_eq!(
        audit.body["items"][0]["action"],
        json!("trade.payment_received")
    );
    assert_eq!(audit.body["items"][0]["target_id"], json!(id));
    assert_eq!(audit.body["items"][0]["after"]["status"], json!("paid"));

    // Admins list the trades involving their exchange.
    let l = app.get("/api/v1/trades", Some(&listing_admin)).await;
    assert_eq!(l.body["total"], json!(1));
    let l = app.get("/api/v1/trades", Some(&unrelated)).await;
    assert_eq!(l.body["total"], json!(0));

    // Both parties were told.
    let n: i64 =
        sqlx::query_scalar("select count(*) from notifications where kind = 'trade' and link = $1")
            .bind(format!("/trades/{id}"))
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(n, 2);
}

#[sqlx::test(migrations = "./migrations")]
async fn two_concurrent_confirmations_settle_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "nttc_sw").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = new_trade(&app, &seller, &buyer, 5_000_000).await;
    assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);

    let rs = join_all((0..4).map(|_| confirm(&app, &id, &buyer.m.token))).await;
    let ok = rs.iter().filter(|r| r.status == StatusCode::OK).count();
    let conflict: Vec<_> = rs
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .collect();
    assert_eq!(ok, 1, "exactly one settlement");
    assert_eq!(conflict.len(), 3);
    assert!(conflict
        .iter()
        .all(|r| r.body["error"]["code"] == json!("invalid_trade_state")));
    let txns: i64 = sqlx::query_scalar(
        "select count(distinct txn_id) from ledger_entries where trade_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(txns, 2, "one payment, one settlement");
    assert_eq!(verify(&app, &admin).await["ok"], json!(true));
}

#[sqlx::test(migrations = "./migrations")]
async fn an_idempotency_key_replays_the_first_response_without_a_second_effect(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "suaee").await;
    let admin = app.admin("suaee").await;
    let id = new_trade(&app, &seller, &buyer, 1_000_000).await;
    let uri = format!("/api/v1/admin/trades/{id}/payment-received");
    let rs = join_all((0..3).map(|_| post_key(&app, &uri, &admin, Some("pay-1")))).await;
    for r in &rs {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body, rs[0].body, "the same response every time");
    }
    let entries: i64 = sqlx::query_scalar("select count(*) from ledger_entries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(entries, 2, "paid once");
    // A different key is a new request: the trade is already paid.
    let r = post_key(&app, &uri, &admin, Some("pay-2")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // The same key for another action is refused.
    let r = post_key(
        &app,
        &format!("/api/v1/trades/{id}/confirm-delivery"),
        &buyer.m.token,
        Some("c-1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = post_key(
        &app,
        &format!("/api/v1/trades/{id}/confirm-delivery"),
        &buyer.m.token,
        Some("c-1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "replayed, not 409");
    assert_eq!(r.body["status"], json!("settled"));
    let r = post_key(
        &app,
        &format!("/api/v1/trades/{id}/cancel"),
        &buyer.m.token,
        Some("c-1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("idempotency_key_reused"));
    let too_long = "k".repeat(201);
    let r = post_key(&app, &uri, &admin, Some(&too_long)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = "./migrations")]
async fn cancelling_is_for_the_parties_and_only_before_payment(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "cdipex").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;

    // Exclusive: cancelling lists the listing again.
    let l = listing(&app, &seller.m, "cdipex", "齿轨列车", "listed").await;
    let id = trade_at(
        &app,
        &seller,
        &buyer,
        l,
        8_000_000,
        TransactionMode::Transfer,
        Utc::now(),
    )
    .await;
    let status = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("select status from listings where id = $1")
                .bind(l)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(status(&app).await, "sold");
    let r = cancel(&app, &id, &admin).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "admins do not cancel");
    let r = cancel(&app, &id, &seller.m.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("cancelled"));
    assert!(r.body["cancelled_at"].is_string());
    assert_eq!(status(&app).await, "listed");
    let r = pay(&app, &id, &admin).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a cancelled trade is not paid"
    );

    // After payment: 409, and nothing changes.
    let id2 = trade_at(
        &app,
        &seller,
        &buyer,
        l,
        8_000_000,
        TransactionMode::Transfer,
        Utc::now(),
    )
    .await;
    assert_eq!(pay(&app, &id2, &admin).await.status, StatusCode::OK);
    let r = cancel(&app, &id2, &buyer.m.token).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("invalid_trade_state"));
    assert_eq!(status(&app).await, "sold");

    // A non-exclusive trade's listing stays as it is.
    let l2 = listing(&app, &seller.m, "cdipex", "普通许可成果", "listed").await;
    let id3 = trade_at(
        &app,
        &seller,
        &buyer,
        l2,
        100_000,
        TransactionMode::NonexclusiveLicense,
        Utc::now(),
    )
    .await;
    assert_eq!(
        cancel(&app, &id3, &buyer.m.token).await.status,
        StatusCode::OK
    );
    let s: String = sqlx::query_scalar("select status from listings where id = $1")
        .bind(l2)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(s, "listed");

    // Cancelling through the trade page's form.
    let id4 = new_trade(&app, &seller, &buyer, 100_000).await;
    let cookies = web_login(&app, "b@example.cn").await;
    let page = app.page(&format!("/trades/{id4}"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&format!("/trades/{id4}/cancel")));
    assert!(!page.text.contains("/confirm-delivery"));
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let idem = input_value(&page.text, "idem").unwrap();
    // Without a reason the page comes back saying so, and nothing happens.
    let r = app
        .form(
            &format!("/trades/{id4}/cancel"),
            &cookies,
            &[("_csrf", &csrf), ("idem", &idem)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let back = r.headers[axum::http::header::LOCATION].to_str().unwrap();
    assert!(back.ends_with("?error=cancel_reason"), "{back}");
    let page = app.page(back, &cookies).await;
    assert!(page.text.contains("请填写取消原因"), "the refusal is shown");
    let r = app
        .get(&format!("/api/v1/trades/{id4}"), Some(&buyer.m.token))
        .await;
    assert_eq!(r.body["status"], json!("awaiting_payment"));
    let r = app
        .form(
            &format!("/trades/{id4}/cancel"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("idem", &idem),
                ("reason", "董事会未批准"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/trades/{id4}"), Some(&buyer.m.token))
        .await;
    assert_eq!(r.body["status"], json!("cancelled"));
    assert_eq!(r.body["cancel_reason"], json!("董事会未批准"));
    let page = app.page(&format!("/trades/{id4}"), &cookies).await;
    assert_eq!(
        select_text(&page.text, "[data-cancel-reason]"),
        vec!["董事会未批准".to_string()]
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn unpaid_trades_are_cancelled_after_seven_days(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let old_listing = listing(&app, &seller.m, "suaee", "旧成果", "listed").await;
    let new_listing = listing(&app, &seller.m, "suaee", "新成果", "listed").await;
    let old = trade_at(
        &app,
        &seller,
        &buyer,
        old_listing,
        1_000_000,
        TransactionMode::Transfer,
        Utc::now() - Duration::days(8),
    )
    .await;
    let fresh = trade_at(
        &app,
        &seller,
        &buyer,
        new_listing,
        1_000_000,
        TransactionMode::Transfer,
        Utc::now() - Duration::days(6),
    )
    .await;
    // Two processes at once: each trade is cancelled exactly once.
    let (a, b) = tokio::join!(
        techmarket::jobs::slow_tick(&app.state),
        techmarket::jobs::slow_tick(&app.state)
    );
    a.unwrap();
    b.unwrap();
    let st = |id: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_as::<_, (String, Option<String>)>(
                "select status, cancel_reason from trades where id = $1::uuid",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(
        st(old.clone()).await,
        ("cancelled".to_string(), Some("payment_timeout".to_string()))
    );
    assert_eq!(st(fresh).await.0, "awaiting_payment");
    let s: String = sqlx::query_scalar("select status from listings where id = $1")
        .bind(old_listing)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(s, "listed");
    let n: i64 = sqlx::query_scalar("select count(*) from notifications where link = $1")
        .bind(format!("/trades/{old}"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 2, "both parties told once");
}

/// The cancelling job and the parties' own cancels race on the same overdue exclusive trades:
/// no deadlock (each takes the listing before the trade), every trade is cancelled exactly once,
/// every listing is listed again.
#[sqlx::test(migrations = "./migrations")]
async fn the_unpaid_job_and_party_cancels_racing_never_deadlock(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let mut trades = Vec::new();
    for k in 0..30 {
        let l = listing(&app, &seller.m, "suaee", &format!("逾期成果 {k}"), "listed").await;
        let id = trade_at(
            &app,
            &seller,
            &buyer,
            l,
            1_000_000,
            TransactionMode::Transfer,
            Utc::now() - Duration::days(8),
        )
        .await;
        trades.push(id);
    }
    let cancels = join_all(trades.iter().map(|id| cancel(&app, id, &buyer.m.token)));
    let (rs, a, b) = tokio::join!(
        cancels,
        techmarket::service::settlement::cancel_unpaid(&app.pool, Utc::now()),
        techmarket::service::settlement::cancel_unpaid(&app.pool, Utc::now()),
    );
    let by_job = a.unwrap() + b.unwrap();
    let by_buyer = rs.iter().filter(|r| r.status == StatusCode::OK).count();
    for r in &rs {
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT].contains(&r.status),
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(by_job + by_buyer, 30, "each trade cancelled once");
    let (cancelled, listed): (i64, i64) = sqlx::query_as(
        "select (select count(*) from trades where status = 'cancelled'), \
                (select count(*) from listings where status = 'listed')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((cancelled, listed), (30, 30));
}

#[sqlx::test(migrations = "./migrations")]
async fn an_unpaid_trade_is_cancelled_once_the_clock_passes_its_payment_deadline(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let id = new_trade(&app, &seller, &buyer, 1_000_000).await;
    let status = || async {
        sqlx::query_as::<_, (String, Option<String>)>(
            "select status, cancel_reason from trades where id = $1::uuid",
        )
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    clock.set(Utc::now() + Duration::days(7) - Duration::minutes(1));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(status().await.0, "awaiting_payment", "a minute before");
    clock.advance(Duration::minutes(2));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(
        status().await,
        ("cancelled".to_string(), Some("payment_timeout".to_string()))
    );
}
