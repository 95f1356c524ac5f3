//! A dispute decided as a split (issue 15 item 6): the statement lists the trade's money movements
//! as the ledger posted them (payment, the seller's share, both fees, the refund, both payouts), in
//! 元 and 大写 with the trade number; the certificate and the statistics state what was settled.
use super::disputes::{disputed, resolve};
use super::*;

/// The statement's movements as (kind, payer, payee, amount).
fn movements(statement: &Value) -> Vec<(String, String, String, i64)> {
    statement["movements"]
        .as_array()
        .unwrap_or_else(|| panic!("no movements in {statement}"))
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["payer"].as_str().unwrap().to_string(),
                m["payee"].as_str().unwrap().to_string(),
                m["amount_fen"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, &str, i64)]) -> Vec<(String, String, String, i64)> {
    rows.iter()
        .map(|(k, a, b, n)| (k.to_string(), a.to_string(), b.to_string(), *n))
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_statement_of_a_split_shows_every_movement_of_the_ledger_in_figures_and_capitals(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let buyer_admin = app.admin("cquaee").await;
    let (id, d) = disputed(&app, &seller, &buyer, &buyer_admin).await;
    let uri = format!("/api/v1/trades/{id}/statement");

    // Paid and disputed: only the payment has moved, into the buyer's exchange's account.
    let s = app.get(&uri, Some(&buyer.m.token)).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(
        movements(&s.body),
        owned(&[("payment", "bank:cquaee", "escrow", 354_000_000)])
    );

    let r = resolve(
        &app,
        &d,
        &buyer_admin,
        json!({"outcome": "split", "seller_share_fen": 175_000_000, "reason": "部分交付，各担一半"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (party, amount, reference) in [
        ("seller", 171_000_000, "CQB-0001"),
        ("buyer", 175_000_000, "CQB-0002"),
    ] {
        let r = app
            .post(
                "/api/v1/admin/payouts",
                Some(&buyer_admin),
                json!({"trade_id": id, "party": party, "amount_fen": amount, "bank_reference": reference}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    let expected = owned(&[
        ("payment", "bank:cquaee", "escrow", 354_000_000),
        ("to_seller", "escrow", "seller", 171_000_000),
        ("buyer_fee", "escrow", "revenue:cquaee", 4_000_000),
        ("seller_fee", "escrow", "revenue:suaee", 4_000_000),
        ("refund", "escrow", "buyer", 175_000_000),
        ("payout_seller", "seller", "bank:cquaee", 171_000_000),
        ("payout_buyer", "buyer", "bank:cquaee", 175_000_000),
    ]);
    for token in [&buyer.m.token, &seller.m.token, &buyer_admin] {
        let s = app.get(&uri, Some(token)).await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        assert_eq!(movements(&s.body), expected);
    }
    // What moved in equals what moved out: the escrow and both payables are empty.
    let n = nets(&app.pool).await;
    assert_eq!(n[&format!("escrow:{id}")], 0);
    assert_eq!(n[&format!("payable:seller:{}", seller.m.org_id)], 0);
    assert_eq!(n[&format!("payable:buyer:{}", buyer.m.org_id)], 0);

    // The printable statement: one row per movement, in 元 and 大写, with the trade number.
    let number = s_number(&app, &id, &buyer.m.token).await;
    let cookies = web_login(&app, &seller.m.email).await;
    let page = app.page(&format!("/trades/{id}/statement"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let kinds: Vec<String> = {
        let doc = scraper::Html::parse_document(&page.text);
        let sel = scraper::Selector::parse("table.movements tbody tr").unwrap();
        doc.select(&sel)
            .map(|e| e.value().attr("data-kind").unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        kinds,
        expected.iter().map(|m| m.0.clone()).collect::<Vec<_>>()
    );
    let capitals = select_text(&page.text, "table.movements td.capital");
    assert_eq!(capitals.len(), 7);
    assert!(capitals[4].contains("壹佰柒拾伍万"), "{capitals:?}");
    let figures = select_text(&page.text, "table.movements td.num");
    assert!(figures[1].contains("1,710,000.00"), "{figures:?}");
    assert!(
        select_text(&page.text, ".movements code.trade-number").contains(&number),
        "the trade number {number} under the movements"
    );
    let text = select_text(&page.text, "table.movements td").join(" ");
    assert!(
        text.contains("向买方退款") && text.contains("重庆联合产权交易所结算账户"),
        "{text}"
    );
    let en = app
        .page(&format!("/trades/{id}/statement?lang=en"), &cookies)
        .await;
    assert!(en.text.contains("Refunded to the buyer"), "{}", en.text);
}

async fn s_number(app: &TestApp, id: &str, token: &str) -> String {
    let t = app.get(&format!("/api/v1/trades/{id}"), Some(token)).await;
    t.body["number"].as_str().unwrap().to_string()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_split_is_certified_and_counted_at_what_was_actually_settled(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let buyer_admin = app.admin("cquaee").await;
    let (id, d) = disputed(&app, &seller, &buyer, &buyer_admin).await;
    let r = resolve(
        &app,
        &d,
        &buyer_admin,
        json!({"outcome": "split", "seller_share_fen": 120_000_000, "reason": "仅交付部分模块"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("settled"));

    // The certificate: the contract price and, beside it, the share settled and the refund.
    let c = app
        .get(
            &format!("/api/v1/trades/{id}/certificate"),
            Some(&seller.m.token),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(c.body["price_fen"], json!(350_000_000));
    assert_eq!(c.body["seller_share_fen"], json!(120_000_000));
    assert_eq!(c.body["buyer_refund_fen"], json!(230_000_000));
    let number = c.body["number"].as_str().unwrap().to_string();
    let v = app
        .get(&format!("/api/v1/certificates/{number}"), None)
        .await;
    assert_eq!(v.body["genuine"], json!(true), "{}", v.text);
    assert_eq!(v.body["seller_share_fen"], json!(120_000_000));
    assert_eq!(v.body["buyer_refund_fen"], json!(230_000_000));
    // The shares are sealed: changed in the database, the certificate is no longer genuine.
    sqlx::query(
        "update certificates set seller_share_fen = 230000000, buyer_refund_fen = 120000000 where number = $1",
    )
    .bind(&number)
    .execute(&app.pool)
    .await
    .unwrap();
    let v = app
        .get(&format!("/api/v1/certificates/{number}"), None)
        .await;
    assert_eq!(v.body["genuine"], json!(false), "{}", v.text);
    sqlx::query(
        "update certificates set seller_share_fen = 120000000, buyer_refund_fen = 230000000 where number = $1",
    )
    .bind(&number)
    .execute(&app.pool)
    .await
    .unwrap();
    let cookies = web_login(&app, &buyer.m.email).await;
    let page = app
        .page(&format!("/trades/{id}/certificate"), &cookies)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        select_text(&page.text, "td.seller-share"),
        ["¥1,200,000.00"]
    );
    assert_eq!(
        select_text(&page.text, "td.buyer-refund"),
        ["¥2,300,000.00"]
    );
    assert!(
        select_text(&page.text, "tr.split td.capital")
            .iter()
            .any(|t| t.contains("壹佰贰拾万元整")),
        "{}",
        page.text
    );
    let public = app.page(&format!("/certificates/{number}"), "").await;
    assert_eq!(
        select_text(&public.text, "dd.seller-share"),
        ["¥1,200,000.00"]
    );

    // The statistics count what changed hands; the fees as charged.
    let s = app.get("/api/v1/stats/summary", None).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.body["trades"]["count"], json!(1));
    assert_eq!(s.body["trades"]["turnover_fen"], json!(120_000_000));
    assert_eq!(
        s.body["trades"]["cross_province_turnover_fen"],
        json!(120_000_000)
    );
    assert_eq!(
        s.body["trades"]["by_month"][0]["turnover_fen"],
        json!(120_000_000)
    );
    assert_eq!(s.body["fees"]["by_exchange"]["cquaee"], json!(4_000_000));
    assert_eq!(s.body["fees"]["by_exchange"]["suaee"], json!(4_000_000));
    let csv = app.get("/api/v1/stats/trades.csv", None).await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(row[col("price_fen")], "350000000");
    assert_eq!(row[col("settled_fen")], "120000000");
}
