//! Trade numbers, payment instructions, settlement accounts and payment reminders (issue 15).
use std::collections::HashSet;

use futures_util::future::join_all;

use crate::server::{Server, ServerOptions};

use super::*;

fn db_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or_default()
    )
}

/// 32 purchases at once, half through each of two server processes: 32 trades, 32 distinct
/// numbers of the documented shape.
#[sqlx::test(migrations = "./migrations")]
async fn trade_numbers_are_unique_under_32_concurrent_trades_on_two_processes(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let mut buyers = Vec::new();
    for (i, ex) in ["cquaee", "cdipex", "nttc_sw", "cquaee"].iter().enumerate() {
        buyers.push(party(&app, &format!("b{i}@example.cn"), ex).await);
    }
    let l = listing(&app, &seller.m, "suaee", "非独占许可的成果", "listed").await;
    let url = db_url(&app.pool);
    let mut opts = [ServerOptions::new(&url), ServerOptions::new(&url)];
    for o in &mut opts {
        o.jobs = false;
    }
    let [a, b] = opts;
    let servers = [Server::start(a).await, Server::start(b).await];
    let client = reqwest::Client::new();
    let runs = (0..32).map(|i| {
        let (client, base) = (&client, servers[i % 2].base.clone());
        let token = buyers[i % buyers.len()].m.token.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/listings/{l}/buy"))
                .bearer_auth(token)
                .json(&json!({"transaction_mode": "nonexclusive_license"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let body: Value = r.json().await.unwrap();
            body["trade"]["number"].as_str().unwrap().to_string()
        }
    });
    let numbers: Vec<String> = join_all(runs).await;
    let distinct: HashSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), 32, "{numbers:?}");
    let year = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y")
        .to_string();
    for n in &numbers {
        let rest = n
            .strip_prefix(&format!("TM-{year}-"))
            .unwrap_or_else(|| panic!("{n}"));
        assert!(
            rest.len() >= 6 && rest.chars().all(|c| c.is_ascii_digit()),
            "{n}"
        );
    }
    let stored: i64 = sqlx::query_scalar("select count(distinct number) from trades")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 32);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_buyer_sees_where_how_much_and_by_when_to_pay(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let other = party(&app, "x@example.cn", "cdipex").await;
    let admin = app.admin("cquaee").await;
    let member_of_admin_exchange = app.admin("suaee").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;
    let trade = app
        .get(&format!("/api/v1/trades/{id}"), Some(&buyer.m.token))
        .await
        .body;
    let number = trade["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("TM-"));

    // The buyer's exchange's admins set its account (validated, audited).
    let put = |body: Value, token: String| {
        let app = &app;
        async move {
            app.call(
                Method::PUT,
                "/api/v1/admin/settlement-account",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let r = put(
        json!({"bank": " ", "account_name": "x", "account_number": "1"}),
        admin.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["bank"].is_string());
    let r = put(
        json!({"bank": "中国工商银行重庆分行", "account_name": "重庆联合产权交易所结算专户", "account_number": "3100 0210 0900 1234 567"}),
        buyer.m.token.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "members may not");
    let r = put(
        json!({"bank": "中国工商银行重庆分行", "account_name": "重庆联合产权交易所结算专户", "account_number": "3100 0210 0900 1234 567"}),
        admin.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["exchange"], json!("cquaee"));
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'settlement_account.set' and target_id = 'cquaee'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    let uri = format!("/api/v1/trades/{id}/payment-instructions");
    let r = app.get(&uri, Some(&buyer.m.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["bank"], json!("中国工商银行重庆分行"));
    assert_eq!(r.body["account_name"], json!("重庆联合产权交易所结算专户"));
    assert_eq!(r.body["account_number"], json!("3100 0210 0900 1234 567"));
    assert_eq!(r.body["reference"], json!(number));
    let total = trade["price_fen"].as_i64().unwrap() + trade["buyer_fee_fen"].as_i64().unwrap();
    assert_eq!(r.body["amount_fen"], json!(total));
    let created =
        chrono::DateTime::parse_from_rfc3339(trade["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(r.body["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - created, chrono::Duration::days(7));
    assert_eq!(trade["payment_due_at"], r.body["due_at"]);

    // Who may see them: the buyer and admins; the seller 403; anyone else 404.
    assert_eq!(
        app.get(&uri, Some(&seller.m.token)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&uri, Some(&other.m.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&uri, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get(&uri, Some(&member_of_admin_exchange)).await.status,
        StatusCode::OK
    );

    // The trade page shows them to the buyer.
    let cookies = web_login(&app, "b@example.cn").await;
    let page = app.page(&format!("/trades/{id}"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        select_text(&page.text, "[data-reference]"),
        vec![number.clone()]
    );
    assert_eq!(
        select_text(&page.text, "[data-account-number]"),
        vec!["3100 0210 0900 1234 567".to_string()]
    );
    assert!(page.text.contains(&format!("data-pay-amount=\"{total}\"")));
    // Not to the seller.
    let cookies = web_login(&app, "s@example.cn").await;
    let page = app.page(&format!("/trades/{id}"), &cookies).await;
    assert!(select_text(&page.text, "[data-reference]").is_empty());
    assert!(
        page.text.contains(&number),
        "the number is on the seller's page too"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_buyer_is_reminded_once_a_day_before_the_deadline(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;
    let reminders = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from notifications where dedupe_key = 'trade:' || $1 || ':payment_due'",
        )
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(reminders().await, 0, "not yet");
    clock.advance(chrono::Duration::days(6) + chrono::Duration::minutes(1));
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(reminders().await, 1, "once");
    let text: String = sqlx::query_scalar(
        "select body_zh from notifications where dedupe_key = 'trade:' || $1 || ':payment_due'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(text.contains("TM-"), "{text}");
    let status: String = sqlx::query_scalar("select status from trades where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "awaiting_payment");
}
