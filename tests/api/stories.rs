//! End-to-end stories across areas, as the issues' "Done when" tell them, through the public API only.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

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
    // And once complete, a further start changes nothing.
    techmarket::demo::load(&pool).await.unwrap();
    assert_eq!(counts(&pool).await[..9], again[..9]);
}
