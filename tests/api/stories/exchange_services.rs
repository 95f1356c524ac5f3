//! Issue 16's "Done when", tried as new users would: an enterprise's owner invites a colleague, who
//! is refused a bid until the exchange records the deposit, bids, is outbid, sees the notice, loses
//! and sees the refund; the winner pays (its deposit counting toward the payment); the buyer prints
//! the certificate and a stranger following its QR code's address sees that it is genuine; an
//! administrator cannot sign in without the authenticator app.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

const DEPOSIT: i64 = 50_000_000;

/// The text of the elements matching `css` (whitespace collapsed), joined by " | ".
fn texts(html: &str, css: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" | ")
}

async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn ledger_verifies(app: &TestApp, admin: &str, step: &str) {
    let v = app.get("/api/v1/admin/ledger/verify", Some(admin)).await;
    assert_eq!(v.body["ok"], json!(true), "{step}: {}", v.text);
    assert_eq!(v.body["balanced"], json!(true), "{step}: {}", v.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_colleague_pays_the_deposit_loses_the_auction_and_is_refunded_the_winner_gets_a_certificate(
    pool: PgPool,
) {
    let clock = techmarket::service::Clock::manual(chrono::Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let suaee = app.admin("suaee").await;
    let cquaee = app.admin("cquaee").await;
    let seller = app.verified_member("tto@radar.example", "suaee").await;
    let owner = app
        .verified_member("owner@carmaker.example", "cquaee")
        .await;
    let winner = app.verified_member("buyer@chengdu.example", "cdipex").await;
    let cdipex = app.admin("cdipex").await;

    // The owner invites a colleague by e-mail; the link works once.
    let inv = app
        .invite(&owner, "colleague@carmaker.example", "member")
        .await;
    let link = inv["token"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "colleague@carmaker.example", "password": PASSWORD,
                   "display_name": "周采购", "invitation": link}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["organization"]["id"], json!(owner.org_id));
    let again = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "colleague@carmaker.example", "password": PASSWORD,
                   "display_name": "周采购", "invitation": link}),
        )
        .await;
    assert!(again.status.is_client_error(), "{}", again.text);
    let l = app.login("colleague@carmaker.example", PASSWORD).await;
    let colleague = l.body["token"].as_str().unwrap().to_string();

    // An auction that asks a deposit of 50万元.
    let ends_at = (clock.now() + chrono::Duration::days(2)).to_rfc3339();
    let l = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            json!({
                "title": "车载4D毫米波成像雷达", "summary": "77 GHz 4D 成像雷达。",
                "description": "12发16收级联MIMO天线阵列，已完成车规验证。", "field": "auto",
                "ip_type": "know_how", "ip_numbers": [], "trl": 7,
                "transaction_modes": ["transfer"], "keywords": ["4D成像雷达"],
                "pricing": {"mode": "auction", "auction": {"start_price_fen": 600_000_000i64,
                    "increment_fen": 10_000_000, "deposit_fen": DEPOSIT, "ends_at": ends_at}}
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

    // The colleague sees the rule on the auction page and cannot bid before paying.
    let colleague_web = web_login(&app, "colleague@carmaker.example").await;
    let page = app.page(&format!("/listings/{id}"), &colleague_web).await;
    let deposit_text = texts(&page.text, "[data-deposit]");
    assert!(
        deposit_text.contains("¥500,000.00") && deposit_text.contains("贵机构尚未缴纳"),
        "{deposit_text}"
    );
    assert!(deposit_text.contains("未竞得者的保证金全额退还"));
    let bids = format!("/api/v1/listings/{id}/bids");
    let r = app
        .post(
            &bids,
            Some(&colleague),
            json!({"amount_fen": 600_000_000i64}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("deposit_required"));

    // The money reaches the exchanges; their administrators record both deposits.
    for (admin, org) in [(&cquaee, &owner.org_id), (&cdipex, &winner.org_id)] {
        let r = app
            .post(
                &format!("/api/v1/admin/listings/{id}/deposits"),
                Some(admin),
                json!({ "organization_id": org }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    ledger_verifies(&app, &suaee, "deposits recorded").await;
    let page = app.page(&format!("/listings/{id}"), &colleague_web).await;
    assert!(texts(&page.text, "[data-deposit]").contains("贵机构已缴纳，可出价"));

    // The colleague bids, is outbid and is told; the leader is not.
    let r = app
        .post(
            &bids,
            Some(&colleague),
            json!({"amount_fen": 600_000_000i64}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .post(
            &bids,
            Some(&winner.token),
            json!({"amount_fen": 650_000_000i64}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        kinds(&app, &colleague).await.first().map(String::as_str),
        Some("outbid")
    );
    assert!(!kinds(&app, &winner.token)
        .await
        .contains(&"outbid".to_string()));
    let inbox = app.page("/inbox", &colleague_web).await;
    assert!(
        inbox.text.contains("车载4D毫米波成像雷达"),
        "{}",
        inbox.text
    );

    // The auction closes: the colleague's organisation lost and its deposit comes back.
    clock.advance(chrono::Duration::days(2) + chrono::Duration::minutes(1));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let a = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(a.body["status"], json!("closed"), "{}", a.text);
    let tid = a.body["trade_id"].as_str().unwrap().to_string();
    // The loser's notice says what happens next: the deposit is refunded.
    let told = app
        .get("/api/v1/notifications?lang=en", Some(&colleague))
        .await;
    assert_eq!(
        told.body["items"][0]["kind"],
        json!("auction_lost"),
        "{}",
        told.text
    );
    let text = told.body["items"][0]["text"].as_str().unwrap_or("");
    assert!(text.contains("¥500,000.00 has been refunded"), "{text}");
    let page = app.page(&format!("/listings/{id}"), &colleague_web).await;
    assert!(
        texts(&page.text, "[data-deposit]").contains("已退还贵机构"),
        "{}",
        texts(&page.text, "[data-deposit]")
    );
    let inbox = app.page("/inbox?lang=en", &colleague_web).await;
    assert!(
        inbox.text.contains("¥500,000.00 has been refunded"),
        "{}",
        inbox.text
    );
    ledger_verifies(&app, &suaee, "closed").await;

    // The winner pays the balance (its deposit counts toward the payment); delivery; settled.
    let t: Value = app
        .get(&format!("/api/v1/trades/{tid}"), Some(&winner.token))
        .await
        .body;
    assert_eq!(t["buyer_organization_id"], json!(winner.org_id));
    let total = t["price_fen"].as_i64().unwrap() + t["buyer_fee_fen"].as_i64().unwrap();
    let pi = app
        .get(
            &format!("/api/v1/trades/{tid}/payment-instructions"),
            Some(&winner.token),
        )
        .await;
    assert_eq!(pi.body["amount_fen"], json!(total - DEPOSIT), "{}", pi.text);
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{tid}/payment-received"),
            Some(&cdipex),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/trades/{tid}/delivery"),
            Some(&seller.token),
            json!({"note": "量产工艺文件与标定工装已交付"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/trades/{tid}/confirm-delivery"),
            Some(&winner.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("settled"), "{}", r.text);
    ledger_verifies(&app, &suaee, "settled").await;

    // The buyer prints the certificate: a QR code of its public address.
    let buyer_web = web_login(&app, &winner.email).await;
    let cert = app
        .page(&format!("/trades/{tid}/certificate"), &buyer_web)
        .await;
    assert_eq!(cert.status, StatusCode::OK, "{}", cert.text);
    assert!(
        cert.text.contains("<svg"),
        "the QR code is drawn on the server"
    );
    let verify_url = texts(&cert.text, "a.verify-url");
    let path = verify_url
        .find("/certificates/")
        .map(|i| verify_url[i..].to_string())
        .expect("the verification address");
    // A stranger (no session) follows it and sees that it is genuine.
    let public = app.page(&path, "").await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(
        texts(&public.text, ".verdict.genuine").contains("真实有效"),
        "{}",
        public.text
    );
    assert!(public.text.contains("车载4D毫米波成像雷达"));

    // An administrator cannot sign in without the authenticator's code; with it, they can.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "admin-suaee@test.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"]["code"], json!("otp_required"));
    let (r, _) = send_login_form(
        &app,
        &[
            ("email", "admin-suaee@test.example"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert!(
        !r.status.is_redirection(),
        "the login page asks for the code"
    );
    let r = app.login("admin-suaee@test.example", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
