//! Delivery and acceptance (issue 15): the seller records delivery of a paid trade; the buyer
//! confirms, or the trade settles by itself at the end of the acceptance period (clock injected).
use super::*;

async fn deliver(app: &TestApp, id: &str, token: &str, note: &str) -> Resp {
    app.post(
        &format!("/api/v1/trades/{id}/delivery"),
        Some(token),
        json!({ "note": note }),
    )
    .await
}

#[sqlx::test(migrations = "./migrations")]
async fn delivery_then_settlement_at_the_end_of_the_acceptance_period(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let stranger = party(&app, "x@example.cn", "cdipex").await;
    let admin = app.admin("cquaee").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;

    // Not before payment; only the seller; a note is required.
    let r = deliver(&app, &id, &seller.m.token, "源代码与技术资料已交付").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);
    assert_eq!(
        deliver(&app, &id, &buyer.m.token, "x").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        deliver(&app, &id, &stranger.m.token, "x").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        deliver(&app, &id, &admin, "x").await.status,
        StatusCode::FORBIDDEN
    );
    let r = deliver(&app, &id, &seller.m.token, "  ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["note"].is_string());

    let r = deliver(
        &app,
        &id,
        &seller.m.token,
        "源代码与技术资料已交付，买方张工签收",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], json!("delivered"));
    let delivered =
        chrono::DateTime::parse_from_rfc3339(r.body["delivered_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(r.body["acceptance_due_at"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        due - delivered,
        chrono::Duration::days(15),
        "the default period"
    );
    // Delivered once: a second record is a conflict.
    assert_eq!(
        deliver(&app, &id, &seller.m.token, "again").await.status,
        StatusCode::CONFLICT
    );
    let told: i64 = sqlx::query_scalar(
        "select count(*) from notifications where organization_id = $1::uuid and dedupe_key like '%:delivered:%'",
    )
    .bind(&buyer.m.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, 1, "the buyer is told");

    // Within the period nothing happens.
    clock.advance(chrono::Duration::days(14));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    let t = app
        .get(&format!("/api/v1/trades/{id}"), Some(&buyer.m.token))
        .await;
    assert_eq!(t.body["status"], json!("delivered"));
    // At its end the trade settles, through the ledger, once.
    clock.advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    let t = app
        .get(&format!("/api/v1/trades/{id}"), Some(&buyer.m.token))
        .await;
    assert_eq!(t.body["status"], json!("settled"), "{}", t.body);
    let by: Option<String> =
        sqlx::query_scalar("select settled_by from trades where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(by.as_deref(), Some("acceptance_period"));
    let nets = nets(&app.pool).await;
    let price = t.body["price_fen"].as_i64().unwrap();
    let seller_fee = t.body["seller_fee_fen"].as_i64().unwrap();
    assert_eq!(
        nets[&format!("payable:seller:{}", seller.m.org_id)],
        -(price - seller_fee),
        "the seller is owed price − fee"
    );
    assert_eq!(nets[&format!("escrow:{id}")], 0);
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["balanced"], json!(true));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_buyer_may_confirm_a_delivered_trade_and_the_seller_records_it_on_the_page(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;
    assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);
    let cookies = web_login(&app, "s@example.cn").await;
    let page = app.page(&format!("/trades/{id}"), &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/trades/{id}/delivery"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("note", "<b>资料</b>已交付"),
                ("idem", "d1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.page(&format!("/trades/{id}"), &cookies).await;
    assert_eq!(
        select_text(&page.text, "[data-delivery-note]"),
        vec!["<b>资料</b>已交付".to_string()],
        "shown as text"
    );
    assert_eq!(
        confirm(&app, &id, &buyer.m.token).await.status,
        StatusCode::OK
    );
    let by: Option<String> =
        sqlx::query_scalar("select settled_by from trades where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(by.as_deref(), Some("buyer"));
}
