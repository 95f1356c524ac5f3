//! The contract registration CSV.
use axum::http::{header, StatusCode};
use chrono::Utc;
use sqlx::PgPool;
use techmarket::domain::codes::TransactionMode;

use crate::helpers::*;

use super::*;

/// Splits CSV text (RFC 4180) into rows of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[sqlx::test(migrations = "./migrations")]
async fn the_registration_csv_has_one_safely_quoted_row_per_settled_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let title = "=HYPERLINK(\"x\"), 智能\n阀门";
    let l = listing(&app, &seller.m, "suaee", title, "listed").await;
    let id = trade_at(
        &app,
        &seller,
        &buyer,
        l,
        123_456_789,
        TransactionMode::ExclusiveLicense,
        Utc::now(),
    )
    .await;
    assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);
    assert_eq!(
        confirm(&app, &id, &buyer.m.token).await.status,
        StatusCode::OK
    );
    // Unsettled trades are not registered.
    let _unpaid = new_trade(&app, &seller, &buyer, 1_000_000).await;
    let r = app
        .get("/api/v1/admin/trades/registration.csv", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = r.text.trim_start_matches('\u{feff}');
    let rows = parse_csv(text);
    assert_eq!(rows.len(), 2, "header + one settled trade: {rows:?}");
    assert_eq!(rows[0][0], "合同类型代码");
    assert_eq!(rows[0].len(), 16);
    let row = &rows[1];
    assert_eq!(row.len(), 16, "{row:?}");
    assert_eq!(row[0], "tech_license");
    assert_eq!(row[1], "技术许可合同");
    assert_eq!(row[2], "测试机构 s@example.cn");
    assert_eq!(row[3].len(), 18);
    assert_eq!(row[4], "四川");
    assert_eq!(row[7], "重庆");
    assert_eq!(row[8], "1234567.89");
    assert_eq!(row[9], "123456789");
    assert_eq!(row[10].len(), 10);
    let number: String = sqlx::query_scalar("select number from trades where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(number.starts_with("TM-"), "{number}");
    assert_eq!(row[12], number, "the readable trade number");
    assert_eq!(row[13], format!("'{title}"), "one field, formula defused");

    // Filtered by exchange.
    let r = app
        .get(
            "/api/v1/admin/trades/registration.csv?exchange=cdipex",
            Some(&admin),
        )
        .await;
    assert_eq!(
        parse_csv(r.text.trim_start_matches('\u{feff}')).len(),
        1,
        "header only"
    );
    let r = app
        .get(
            "/api/v1/admin/trades/registration.csv?exchange=suaee",
            Some(&admin),
        )
        .await;
    assert_eq!(parse_csv(r.text.trim_start_matches('\u{feff}')).len(), 2);
    let r = app
        .get(
            "/api/v1/admin/trades/registration.csv?exchange=nowhere",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Members may not download it; admins get it from the trades page too.
    let r = app
        .get(
            "/api/v1/admin/trades/registration.csv",
            Some(&buyer.m.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let cookies = web_login(&app, "admin-cquaee@test.example").await;
    let page = app.page("/admin/trades", &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("/admin/trades/registration.csv"));
    let csv = app.page("/admin/trades/registration.csv", &cookies).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(parse_csv(csv.text.trim_start_matches('\u{feff}')).len(), 2);
}
