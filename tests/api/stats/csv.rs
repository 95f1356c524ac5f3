//! `GET /api/v1/stats/trades.csv`: parses, one row per settled trade, no personal data.
use std::collections::HashSet;

use axum::http::header;
use serde_json::json;
use sqlx::PgPool;

use super::*;

/// The rows of a CSV (the header first), read by the `csv` crate as a spreadsheet would;
/// the text must start with the UTF-8 byte-order mark.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let body = text
        .strip_prefix('\u{feff}')
        .expect("the CSV starts with a UTF-8 byte-order mark");
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_csv_has_one_row_per_settled_trade_and_no_personal_data(pool: PgPool) {
    let app = TestApp::new(pool);
    let su = party(&app, "zhang.wei@stats-csv.example", "suaee").await;
    let cq = party(&app, "li.na@stats-csv.example", "cquaee").await;
    // People's names where a careless export would pick them up: the users' display names and
    // an individual's organisation (its name is a person's name).
    sqlx::query("update users set display_name = '张伟' where id = $1::uuid")
        .bind(&su.m.user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update organizations set name = '李娜', kind = 'individual', credit_code = null where id = $1::uuid")
        .bind(&cq.m.org_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut made = Vec::new();
    for (s, b, field, price, status, when) in [
        (
            &su,
            &cq,
            "ic",
            350_000_000,
            "settled",
            Some("2026-10-05T02:00:00Z"),
        ),
        (
            &cq,
            &su,
            "auto",
            50_000_000,
            "settled",
            Some("2026-11-20T10:00:00Z"),
        ),
        (
            &su,
            &cq,
            "energy",
            123_456,
            "settled",
            Some("2026-12-01T01:00:00Z"),
        ),
        (&su, &cq, "ic", 777_000_000, "awaiting_payment", None),
        (&cq, &su, "energy", 66_000_000, "paid", None),
        (&su, &cq, "auto", 12_000_000, "cancelled", None),
    ] {
        made.push(trade(&app, s, b, field, price, status, when.map(at)).await);
    }
    let r = app.get("/api/v1/stats/trades.csv", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(r
        .headers
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let rows = parse(&r.text);
    let head = &rows[0];
    assert_eq!(
        head,
        &techmarket::service::stats::CSV_HEADER
            .map(String::from)
            .to_vec()
    );
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let body = &rows[1..];
    let settled: Vec<&Made> = made.iter().filter(|t| t.status == "settled").collect();
    assert_eq!(body.len(), settled.len());
    assert!(body.iter().all(|r| r.len() == head.len()));
    // Exactly the settled trades, oldest settlement first, with their amounts.
    let ids: Vec<String> = body.iter().map(|r| r[col("trade_id")].clone()).collect();
    assert_eq!(
        ids,
        settled.iter().map(|t| t.id.to_string()).collect::<Vec<_>>()
    );
    for (row, t) in body.iter().zip(&settled) {
        assert_eq!(row[col("price_fen")], t.price_fen.to_string());
        assert_eq!(row[col("buyer_fee_fen")], t.buyer_fee_fen.to_string());
        assert_eq!(row[col("seller_fee_fen")], t.seller_fee_fen.to_string());
        assert_eq!(row[col("field")], t.field);
        assert_eq!(row[col("seller_exchange")], t.seller_exchange);
        assert_eq!(row[col("buyer_province")], province_of(t.buyer_exchange));
    }
    assert_eq!(body[0][col("price_yuan")], "3500000.00");
    assert_eq!(body[0][col("field_zh")], "集成电路");
    assert_eq!(body[0][col("cross_province")], "true");
    // The hand-computed savings (summary test): 17万元 and −8,000元.
    assert_eq!(body[0][col("savings_fen")], "17000000");
    assert_eq!(body[1][col("savings_fen")], "-800000");
    // The CSV and the summary tell the same story.
    let s = summary(&app).await;
    let sum = |name: &str| {
        body.iter()
            .map(|r| r[col(name)].parse::<i64>().unwrap())
            .sum::<i64>()
    };
    assert_eq!(s["trades"]["turnover_fen"], json!(sum("price_fen")));
    assert_eq!(s["savings_fen"], json!(sum("savings_fen")));

    // No personal data: no e-mail, no person's or organisation's name, no credit code.
    assert!(!r.text.contains('@'), "an e-mail in the CSV");
    for name in ["张伟", "李娜", "测试机构", "测试用户"] {
        assert!(!r.text.contains(name), "{name} in the CSV");
    }
    let codes: Vec<Option<String>> = sqlx::query_scalar("select credit_code from organizations")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for c in codes.into_iter().flatten() {
        assert!(!r.text.contains(&c), "credit code {c} in the CSV");
    }
    // Only known columns: nothing a member typed (titles, messages) rides along.
    let cells: HashSet<&str> = body.iter().flatten().map(String::as_str).collect();
    assert!(!cells.contains("统计测试成果"));
}

#[sqlx::test(migrations = "./migrations")]
async fn an_empty_market_gives_the_header_alone(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.get("/api/v1/stats/trades.csv", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let rows = parse(&r.text);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "trade_id");
    assert!(r.text.ends_with("\r\n"));
}

/// Many trades come through in many chunks, and in full.
#[sqlx::test(migrations = "./migrations")]
async fn a_long_csv_is_streamed_in_full(pool: PgPool) {
    let app = TestApp::new(pool);
    let su = party(&app, "su@stats-long.example", "suaee").await;
    let cq = party(&app, "cq@stats-long.example", "cquaee").await;
    let t = trade(
        &app,
        &su,
        &cq,
        "ic",
        1_000_000,
        "settled",
        Some(at("2026-12-01T00:00:00Z")),
    )
    .await;
    // 3,000 settled copies of it (straight in the database: the CSV only reads them).
    sqlx::query(
        "insert into trades (id, listing_id, seller_organization_id, buyer_organization_id, price_fen, \
         transaction_mode, contract_type, exclusive, status, fee_schedule_id, buyer_fee_fen, seller_fee_fen, \
         seller_exchange, buyer_exchange, source, created_at, paid_at, settled_at) \
         select gen_random_uuid(), listing_id, seller_organization_id, buyer_organization_id, price_fen + g, \
         transaction_mode, contract_type, exclusive, 'settled', fee_schedule_id, buyer_fee_fen, seller_fee_fen, \
         seller_exchange, buyer_exchange, source, created_at, paid_at, settled_at + g * interval '1 minute' \
         from trades, generate_series(1, 3000) g where id = $1",
    )
    .bind(t.id)
    .execute(&app.pool)
    .await
    .unwrap();
    let r = app.get("/api/v1/stats/trades.csv", None).await;
    assert!(r.text.len() > 3 * techmarket::service::stats::CHUNK_BYTES);
    let rows = parse(&r.text);
    assert_eq!(rows.len(), 1 + 3001);
    let price = rows[0].iter().position(|h| h == "price_fen").unwrap();
    let total: i64 = rows[1..]
        .iter()
        .map(|r| r[price].parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, 3001 * 1_000_000 + (1..=3000).sum::<i64>());
}
