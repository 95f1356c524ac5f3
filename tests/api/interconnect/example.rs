//! The example receiver in `examples/webhook_receiver.py` (Python standard library only) verifies
//! real deliveries, refuses a tampered one and handles a repeated event once.
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::http::StatusCode;
use sqlx::PgPool;
use techmarket::service::interconnect::delivery::deliver_due;

use super::*;
use crate::server::free_port;

#[sqlx::test]
async fn the_example_receiver_prints_each_event_with_a_valid_signature(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    // The secret is known only once the webhook exists: register it first, then start the script.
    let (hook, secret) = webhook(&app, &admin, &url, &[]).await;
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/webhook_receiver.py"
        ))
        .arg(port.to_string())
        .env("TECHMARKET_WEBHOOK_SECRET", &secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the receiver listens");

    let seller = app.verified_member("s@example.cn", "suaee").await;
    let buyer = app.verified_member("b@example.cn", "suaee").await;
    let trade = buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{trade}/payment-received"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    deliver_due(&app.state).await.unwrap();

    // A tampered body is refused; the same event again is acknowledged and not handled twice.
    let d = app
        .get(
            &format!("/api/v1/admin/webhooks/{hook}/deliveries"),
            Some(&admin),
        )
        .await;
    assert_eq!(d.body["total"], json!(2), "{}", d.text);
    assert!(d.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == json!("delivered")));
    let body = br#"{"id":"1","type":"trade.paid","created_at":"2026-12-01T00:00:00Z","data":{}}"#;
    let sig =
        techmarket::domain::interconnect::signature(&secret, chrono::Utc::now().timestamp(), body);
    let tampered =
        br#"{"id":"1","type":"trade.paid","created_at":"2026-12-01T00:00:00Z","data":{"x":1}}"#;
    let r = client
        .post(&url)
        .header("Techmarket-Signature", &sig)
        .body(tampered.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = client
        .post(&url)
        .header("Techmarket-Signature", &sig)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "already handled");

    child.kill().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = child.wait();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0]["signature"], json!("valid"));
    assert_eq!(lines[0]["type"], json!("trade.created"));
    assert_eq!(lines[1]["type"], json!("trade.paid"));
    assert_eq!(lines[1]["data"]["trade_id"], json!(trade));
    assert_eq!(lines[2]["signature"], json!("INVALID"));
}
