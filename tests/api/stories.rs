//! End-to-end stories across areas, as the issues' "Done when" tell them, through the public API only.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

/// Issue 16's journey: colleagues, deposits, notices, certificates, two-factor sign-in.
mod exchange_services;

fn patent_listing(title: &str, price_fen: i64) -> Value {
    json!({
        "title": title,
        "summary": "成都高校研发的高精度传感器成果，已完成中试。",
        "description": "采用自主设计的信号调理电路与温度补偿算法。\n\n适用于工业自动化与汽车电子。",
        "field": "eit",
        "ip_type": "invention_patent",
        "ip_numbers": ["ZL201710601862.3"],
        "trl": 6,
        "transaction_modes": ["transfer"],
        "keywords": ["传感器", "温度补偿"],
        "pricing": {"mode": "fixed", "price_fen": price_fen}
    })
}

/// A Chengdu university lists a patent, its exchange approves it, a Chongqing enterprise finds it by a
/// four-character phrase from the middle of the title, buys it, its exchange records the payment, the
/// buyer confirms delivery; both print a statement, each exchange sees its share, and the ledger verifies.
#[sqlx::test(migrations = "./migrations")]
async fn a_chongqing_enterprise_buys_a_sichuan_patent_and_the_money_moves_provably(pool: PgPool) {
    let app = TestApp::new(pool);
    let cdipex = app.admin("cdipex").await;
    let cquaee = app.admin("cquaee").await;
    let uni = app.member("tto@university.example", "cdipex").await;
    let ent = app.member("buyer@enterprise.example", "cquaee").await;
    let outsider = app.verified_member("nosy@other.example", "suaee").await;
    for (admin, m) in [(&cdipex, &uni), (&cquaee, &ent)] {
        let r = app
            .post(
                &format!("/api/v1/admin/organizations/{}/verify", m.org_id),
                Some(admin),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    let price = 350_000_000i64; // 350万元
    let l = app
        .post(
            "/api/v1/listings",
            Some(&uni.token),
            patent_listing("高精度压阻式压力传感器芯片及温度补偿方法", price),
        )
        .await;
    assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
    let id = l.body["id"].as_str().unwrap().to_string();
    assert_eq!(l.body["province"], json!("sichuan"));
    assert_eq!(
        app.post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&uni.token),
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&cquaee),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "another exchange may not review it"
    );
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&cdipex),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("listed"));

    // 「压阻式压」 would be odd; a real four-character phrase from the middle: 「压力传感」.
    let found = app
        .get(
            "/api/v1/listings?q=%E5%8E%8B%E5%8A%9B%E4%BC%A0%E6%84%9F",
            Some(&ent.token),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["items"][0]["id"], json!(id), "{}", found.text);

    let buy = app
        .post(
            &format!("/api/v1/listings/{id}/buy"),
            Some(&ent.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(buy.status, StatusCode::CREATED, "{}", buy.text);
    let trade = &buy.body["trade"];
    let tid = trade["id"].as_str().unwrap().to_string();
    assert_eq!(trade["status"], json!("awaiting_payment"));
    assert_eq!(trade["price_fen"], json!(price));
    // Unified v1 at 350万元: 100万 × 1.5% + 250万 × 1% = 40,000 yuan each side.
    assert_eq!(trade["buyer_fee_fen"], json!(4_000_000));
    assert_eq!(trade["seller_fee_fen"], json!(4_000_000));
    assert_eq!(trade["seller_exchange"], json!("cdipex"));
    assert_eq!(trade["buyer_exchange"], json!("cquaee"));
    assert_eq!(trade["contract_type"], json!("tech_transfer"));
    let again = app.get(&format!("/api/v1/listings/{id}"), None).await;
    assert_eq!(again.body["status"], json!("sold"));

    // Third parties see nothing of the trade.
    assert_eq!(
        app.get(&format!("/api/v1/trades/{tid}"), Some(&outsider.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/trades/{tid}/statement"),
            Some(&outsider.token)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let paid = app
        .post(
            &format!("/api/v1/admin/trades/{tid}/payment-received"),
            Some(&cquaee),
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["status"], json!("paid"));
    let done = app
        .post(
            &format!("/api/v1/trades/{tid}/confirm-delivery"),
            Some(&ent.token),
            json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], json!("settled"));

    for m in [&uni, &ent] {
        let s = app
            .get(&format!("/api/v1/trades/{tid}/statement"), Some(&m.token))
            .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        assert!(
            s.text.contains("4000000"),
            "fees on the statement: {}",
            s.text
        );
    }

    let rev = app.get("/api/v1/admin/revenue", Some(&cdipex)).await;
    assert_eq!(rev.status, StatusCode::OK, "{}", rev.text);
    assert_eq!(
        rev.body["by_exchange"]["cquaee"]["revenue_fen"],
        json!(4_000_000),
        "{}",
        rev.text
    );
    assert_eq!(
        rev.body["by_exchange"]["cdipex"]["revenue_fen"],
        json!(4_000_000)
    );
    assert_eq!(rev.body["by_exchange"]["suaee"]["revenue_fen"], json!(0));

    let v = app.get("/api/v1/admin/ledger/verify", Some(&cquaee)).await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.body["ok"], json!(true), "{}", v.text);
    assert_eq!(v.body["balanced"], json!(true));
    assert!(v.body["entries"].as_i64().unwrap() >= 5);
}

/// A credit restriction set by one exchange holds in all four: no submit, offer, buy, bid or accept,
/// until it is lifted.
#[sqlx::test(migrations = "./migrations")]
async fn a_restricted_organisation_can_do_nothing_in_any_exchange_until_lifted(pool: PgPool) {
    let app = TestApp::new(pool);
    let suaee = app.admin("suaee").await;
    let seller = app.verified_member("seller@example.cn", "cdipex").await;
    let bad = app.verified_member("bad@example.cn", "cquaee").await;
    let cdipex = app.admin("cdipex").await;

    // Listings of each pricing mode by the seller, listed.
    let mut ids = Vec::new();
    for (i, pricing) in [
        json!({"mode": "fixed", "price_fen": 10_000_000}),
        json!({"mode": "negotiable"}),
        json!({"mode": "auction", "auction": {"start_price_fen": 1_000_000, "increment_fen": 10_000,
               "ends_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()}}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = patent_listing(&format!("用于受限测试的成果第{i}号"), 10_000_000);
        body["pricing"] = pricing;
        body["ip_numbers"] = json!([]);
        body["ip_type"] = json!("know_how");
        let l = app
            .post("/api/v1/listings", Some(&seller.token), body)
            .await;
        assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
        let id = l.body["id"].as_str().unwrap().to_string();
        app.post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&seller.token),
            json!({}),
        )
        .await;
        let r = app
            .post(
                &format!("/api/v1/admin/listings/{id}/review"),
                Some(&cdipex),
                json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        ids.push(id);
    }
    // An offer from the seller side to accept later: the bad org offers first, the seller counters.
    let offer = app
        .post(
            &format!("/api/v1/listings/{}/offers", ids[1]),
            Some(&bad.token),
            json!({"amount_fen": 5_000_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(offer.status, StatusCode::CREATED, "{}", offer.text);
    let counter = app
        .post(
            &format!(
                "/api/v1/offers/{}/counter",
                offer.body["id"].as_str().unwrap()
            ),
            Some(&seller.token),
            json!({"amount_fen": 8_000_000}),
        )
        .await;
    assert_eq!(counter.status, StatusCode::CREATED, "{}", counter.text);
    let counter_id = counter.body["id"].as_str().unwrap().to_string();
    // Their own draft, to submit.
    let mut own = patent_listing("受限机构自己的成果草稿", 10_000_000);
    own["ip_numbers"] = json!([]);
    own["ip_type"] = json!("know_how");
    let draft = app.post("/api/v1/listings", Some(&bad.token), own).await;
    let draft_id = draft.body["id"].as_str().unwrap().to_string();

    // Restricted by another province's exchange.
    let r = app
        .post(
            &format!("/api/v1/admin/organizations/{}/restrictions", bad.org_id),
            Some(&suaee),
            json!({"reason": "合同履约失信"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let attempts = [
        app.post(
            &format!("/api/v1/listings/{}/buy", ids[0]),
            Some(&bad.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await,
        app.post(
            &format!("/api/v1/listings/{}/offers", ids[1]),
            Some(&bad.token),
            json!({"amount_fen": 6_000_000, "transaction_mode": "transfer"}),
        )
        .await,
        app.post(
            &format!("/api/v1/offers/{counter_id}/accept"),
            Some(&bad.token),
            json!({}),
        )
        .await,
        app.post(
            &format!("/api/v1/listings/{}/bids", ids[2]),
            Some(&bad.token),
            json!({"amount_fen": 1_000_000}),
        )
        .await,
        app.post(
            &format!("/api/v1/listings/{draft_id}/submit"),
            Some(&bad.token),
            json!({}),
        )
        .await,
    ];
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.status, StatusCode::FORBIDDEN, "attempt {i}: {}", a.text);
        assert_eq!(
            a.body["error"]["code"],
            json!("organization_restricted"),
            "attempt {i}"
        );
    }
    let me = app.get("/api/v1/me", Some(&bad.token)).await;
    assert_eq!(
        me.body["organization"]["restriction"]["reason"],
        json!("合同履约失信")
    );
    let trades: i64 = sqlx::query_scalar("select count(*) from trades")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(trades, 0, "nothing happened");

    // Lifted: it may act again.
    let r = app
        .call(
            axum::http::Method::DELETE,
            &format!("/api/v1/admin/organizations/{}/restrictions", bad.org_id),
            Some(&suaee),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let bid = app
        .post(
            &format!("/api/v1/listings/{}/bids", ids[2]),
            Some(&bad.token),
            json!({"amount_fen": 1_000_000}),
        )
        .await;
    assert_eq!(bid.status, StatusCode::CREATED, "{}", bid.text);
}

/// A start killed half-way through loading the demo leaves it unfinished, not "loaded": the next
/// start runs the steps again, adding what is missing and nothing twice.
#[sqlx::test(migrations = "./migrations")]
async fn an_interrupted_demo_load_is_finished_by_the_next_start(pool: PgPool) {
    async fn counts(pool: &PgPool) -> Vec<i64> {
        let mut out = Vec::new();
        for table in [
            "users",
            "organizations",
            "fee_schedules",
            "listings",
            "demands",
            "offers",
            "bids",
            "trades",
            "ledger_entries",
            "notifications",
            "experts",
            "evaluations",
            "brokers",
            "broker_engagements",
            "financing_products",
            "pledge_requests",
            "webhooks",
        ] {
            out.push(
                sqlx::query_scalar(&format!("select count(*) from {table}"))
                    .fetch_one(pool)
                    .await
                    .unwrap(),
            );
        }
        out
    }
    techmarket::demo::load(&pool).await.unwrap();
    let whole = counts(&pool).await;
    assert!(
        whole.iter().all(|n| *n > 0),
        "every table has demo rows: {whole:?}"
    );
    // As if the first start had died after the accounts and listings, before the demands and the rest.
    sqlx::query("delete from demo_state")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("delete from demands")
        .execute(&pool)
        .await
        .unwrap();
    techmarket::demo::load(&pool).await.unwrap();
    let again = counts(&pool).await;
    assert_eq!(
        again[..4],
        whole[..4],
        "accounts, schedules and listings not doubled"
    );
    assert_eq!(again[4], whole[4], "the demands are back, once");
    assert_eq!(
        again[5..9],
        whole[5..9],
        "offers, bids, trades and entries not doubled"
    );
    assert_eq!(
        again[10..],
        whole[10..],
        "experts, evaluations, brokers, engagements, products, pledges and webhooks not doubled"
    );
    // And once complete, a further start changes nothing.
    techmarket::demo::load(&pool).await.unwrap();
    let last = counts(&pool).await;
    assert_eq!(last[..9], again[..9]);
    assert_eq!(last[10..], again[10..]);
}

/// Issue 15's "Done when": a Chongqing buyer wins an auction in the mode it chose, sees where and how
/// much to pay with the reference, pays; the seller records delivery; the buyer disputes; the
/// buyer's exchange refunds half; both see the outcome; the payout list shows what the bank must
/// send; both transfers are recorded and the ledger verifies, the payables back at zero.
#[sqlx::test(migrations = "./migrations")]
async fn a_won_auction_is_disputed_half_refunded_and_paid_out_and_the_ledger_verifies(
    pool: PgPool,
) {
    let clock = techmarket::service::Clock::manual(chrono::Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let suaee = app.admin("suaee").await;
    let cquaee = app.admin("cquaee").await;
    let seller = app.verified_member("tto@institute.example", "suaee").await;
    let buyer = app
        .verified_member("buyer@carmaker.example", "cquaee")
        .await;
    let rival = app.verified_member("rival@chengdu.example", "cdipex").await;

    let ends_at = (clock.now() + chrono::Duration::days(1)).to_rfc3339();
    let l = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            json!({
                "title": "自动紧急制动系统感知融合算法", "summary": "多传感器融合的AEB感知算法。",
                "description": "毫米波雷达与摄像头融合，已完成实车验证。", "field": "auto",
                "ip_type": "know_how", "ip_numbers": [], "trl": 7,
                "transaction_modes": ["transfer", "nonexclusive_license"], "keywords": ["AEB"],
                "pricing": {"mode": "auction", "auction": {"start_price_fen": 300_000_000i64,
                    "increment_fen": 10_000_000, "ends_at": ends_at}}
            }),
        )
        .await;
    assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
    let id = l.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&suaee),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // The buyer bids for a non-exclusive licence; the rival for the transfer; the buyer wins.
    let bids = format!("/api/v1/listings/{id}/bids");
    for (who, amount, mode) in [
        (&buyer, 300_000_000i64, Some("nonexclusive_license")),
        (&rival, 310_000_000, Some("transfer")),
        (&buyer, 350_000_000, None),
    ] {
        let mut body = json!({ "amount_fen": amount });
        if let Some(m) = mode {
            body["transaction_mode"] = json!(m);
        }
        let r = app.post(&bids, Some(&who.token), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    clock.advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let a = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(a.body["status"], json!("closed"), "{}", a.text);
    let tid = a.body["trade_id"].as_str().unwrap().to_string();
    let trade = app
        .get(&format!("/api/v1/trades/{tid}"), Some(&buyer.token))
        .await;
    assert_eq!(
        trade.body["transaction_mode"],
        json!("nonexclusive_license")
    );
    assert_eq!(trade.body["price_fen"], json!(350_000_000));
    let (buyer_fee, seller_fee) = (4_000_000i64, 4_000_000i64);
    assert_eq!(trade.body["buyer_fee_fen"], json!(buyer_fee));

    // Where, how much, with which reference, by when.
    let pay = app
        .get(
            &format!("/api/v1/trades/{tid}/payment-instructions"),
            Some(&buyer.token),
        )
        .await;
    assert_eq!(pay.status, StatusCode::OK, "{}", pay.text);
    assert_eq!(pay.body["amount_fen"], json!(350_000_000 + buyer_fee));
    assert_eq!(pay.body["reference"], trade.body["number"]);
    assert_eq!(pay.body["exchange"], json!("cquaee"));
    assert!(pay.body["account_number"]
        .as_str()
        .is_some_and(|a| !a.is_empty()));
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{tid}/payment-received"),
            Some(&cquaee),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/trades/{tid}/delivery"),
            Some(&seller.token),
            json!({"note": "算法源代码、标定数据与测试报告已交付"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/trades/{tid}/disputes"),
            Some(&buyer.token),
            json!({"reason": "标定数据缺少雨雾场景，无法复现报告中的指标"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let dispute = r.body["dispute"]["id"].as_str().unwrap().to_string();
    let queue = app
        .get("/api/v1/admin/disputes?status=open", Some(&cquaee))
        .await;
    assert_eq!(queue.body["items"][0]["id"], json!(tid));
    // The seller's exchange sees it in its queue page, with the decision form.
    let cookies = web_login(&app, "admin-suaee@test.example").await;
    let page = app.page("/admin/disputes", &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&format!("data-dispute=\"{dispute}\"")));
    assert!(page
        .text
        .contains(&format!("/admin/disputes/{dispute}/resolve")));
    assert!(page.text.contains("标定数据缺少雨雾场景"));

    // The buyer's exchange refunds half of the price.
    let r = app
        .post(
            &format!("/api/v1/admin/disputes/{dispute}/resolve"),
            Some(&cquaee),
            json!({"outcome": "split", "seller_share_fen": 175_000_000, "reason": "部分交付：各承担一半"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("settled"));
    let seller_gets = 175_000_000 - seller_fee;
    let buyer_gets = 175_000_000i64;

    // Both see the outcome, in the API and on the trade page.
    for (m, email) in [
        (&buyer, "buyer@carmaker.example"),
        (&seller, "tto@institute.example"),
    ] {
        let t = app
            .get(&format!("/api/v1/trades/{tid}"), Some(&m.token))
            .await;
        assert_eq!(t.body["dispute"]["outcome"], json!("split"));
        assert_eq!(t.body["dispute"]["seller_receives_fen"], json!(seller_gets));
        assert_eq!(t.body["dispute"]["buyer_refund_fen"], json!(buyer_gets));
        let cookies = web_login(&app, email).await;
        let page = app.page(&format!("/trades/{tid}"), &cookies).await;
        assert!(page.text.contains("data-outcome=\"split\""), "{email}");
        assert!(page
            .text
            .contains(&format!("data-buyer-refund=\"{buyer_gets}\"")));
        let inbox: i64 = sqlx::query_scalar(
            "select count(*) from notifications where organization_id = $1::uuid and dedupe_key like 'dispute:%:resolved:%'",
        )
        .bind(&m.org_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(inbox, 1);
    }

    // What the bank must send, from the buyer's exchange's account.
    let due = app
        .get("/api/v1/admin/payouts?status=due", Some(&cquaee))
        .await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.text);
    assert_eq!(due.body["total"], json!(2));
    assert_eq!(
        due.body["total_amount_fen"],
        json!(seller_gets + buyer_gets)
    );
    let csv = app.get("/api/v1/admin/payouts.csv", Some(&cquaee)).await;
    assert!(
        csv.text.contains("1710000.00") && csv.text.contains("1750000.00"),
        "{}",
        csv.text
    );
    let cookies = web_login(&app, "admin-cquaee@test.example").await;
    let page = app.page("/admin/payouts", &cookies).await;
    assert!(page
        .text
        .contains(&format!("data-due-total=\"{}\"", seller_gets + buyer_gets)));
    for (party, amount, reference) in [
        ("seller", seller_gets, "CQB-20261210-001"),
        ("buyer", buyer_gets, "CQB-20261210-002"),
    ] {
        let r = app
            .post(
                "/api/v1/admin/payouts",
                Some(&cquaee),
                json!({"trade_id": tid, "party": party, "amount_fen": amount, "bank_reference": reference}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let v = app.get("/api/v1/admin/ledger/verify", Some(&suaee)).await;
    assert_eq!(v.body["ok"], json!(true), "{}", v.text);
    assert_eq!(v.body["balanced"], json!(true));
    let b = app.get("/api/v1/admin/ledger/balances", Some(&suaee)).await;
    assert_eq!(b.body["payable_fen"], json!(0), "{}", b.text);
    assert_eq!(b.body["escrow_fen"], json!(0));
    assert_eq!(
        b.body["bank_fen"],
        json!(buyer_fee + seller_fee),
        "the fees stay"
    );
    // Both statements list where the money went, as the ledger posted it; the certificate states
    // what was settled beside the price.
    for m in [&buyer, &seller] {
        let st = app
            .get(&format!("/api/v1/trades/{tid}/statement"), Some(&m.token))
            .await;
        assert_eq!(st.status, StatusCode::OK, "{}", st.text);
        let moved: Vec<(String, i64)> = st.body["movements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["kind"].as_str().unwrap().to_string(),
                    x["amount_fen"].as_i64().unwrap(),
                )
            })
            .collect();
        let expected = [
            ("payment", 350_000_000 + buyer_fee),
            ("to_seller", seller_gets),
            ("buyer_fee", buyer_fee),
            ("seller_fee", seller_fee),
            ("refund", buyer_gets),
            ("payout_seller", seller_gets),
            ("payout_buyer", buyer_gets),
        ]
        .map(|(k, n)| (k.to_string(), n));
        assert_eq!(moved, expected);
        let c = app
            .get(&format!("/api/v1/trades/{tid}/certificate"), Some(&m.token))
            .await;
        assert_eq!(c.body["price_fen"], json!(350_000_000));
        assert_eq!(c.body["seller_share_fen"], json!(175_000_000));
        assert_eq!(c.body["buyer_refund_fen"], json!(buyer_gets));
    }
}
