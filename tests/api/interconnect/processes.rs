//! Two real server processes on one database deliver every event once, in order.
use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Behaviour, Receiver};
use crate::helpers::{credit_code, otp_for, PASSWORD};
use crate::server::{Database, Server, ServerOptions};

async fn post(c: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut r = c.post(url).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_server_processes_deliver_each_event_once_in_order() {
    let db = Database::fresh("hooks");
    let allow = vec![("TECHMARKET_WEBHOOK_ALLOW", "127.0.0.1".to_string())];
    let mut a_opts = ServerOptions::new(&db.url);
    a_opts.env = allow.clone();
    let a = Server::start(a_opts).await;
    let mut b_opts = ServerOptions::new(&db.url);
    b_opts.env = allow;
    let b = Server::start(b_opts).await;

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    techmarket::service::accounts::create_admin(
        &pool,
        "admin-hooks@test.example",
        techmarket::domain::codes::Exchange::Suaee,
        PASSWORD,
        "管理员",
    )
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let (s, login) = post(
        &c,
        a.url("/api/v1/auth/login"),
        None,
        json!({"email": "admin-hooks@test.example", "password": PASSWORD,
               "otp": otp_for(&pool, "admin-hooks@test.example").await.unwrap()}),
    )
    .await;
    assert_eq!(s, 200, "{login}");
    let admin = login["token"].as_str().unwrap().to_string();
    let rx = Receiver::start(Behaviour::Statuses(vec![200])).await;
    let (s, hook) = post(
        &c,
        b.url("/api/v1/admin/webhooks"),
        Some(&admin),
        json!({"url": rx.url, "events": ["organization.restricted"]}),
    )
    .await;
    assert_eq!(s, 201, "{hook}");

    // Twenty restrictions, made through both processes at once (four organisations, five rounds of
    // restrict and lift).
    let mut orgs = Vec::new();
    for i in 0..4 {
        let (s, r) = post(
            &c,
            a.url("/api/v1/auth/register"),
            None,
            json!({"email": format!("m{i}@hooks.cn"), "password": PASSWORD, "display_name": "测试用户",
                   "organization": {"name": format!("测试机构 {i}"), "kind": "enterprise", "province": "sichuan",
                                    "exchange": "suaee", "credit_code": credit_code(9100 + i)}}),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        orgs.push(r["organization"]["id"].as_str().unwrap().to_string());
    }
    let mut made = 0;
    for round in 0..5 {
        let mut tasks = Vec::new();
        for (i, org) in orgs.iter().enumerate() {
            let server = if (i + round) % 2 == 0 { &a } else { &b };
            let url = server.url(&format!("/api/v1/admin/organizations/{org}/restrictions"));
            let (c, admin) = (c.clone(), admin.clone());
            tasks.push(tokio::spawn(async move {
                post(&c, url, Some(&admin), json!({"reason": "合同违约"})).await
            }));
        }
        for t in tasks {
            let (s, r) = t.await.unwrap();
            assert_eq!(s, 201, "{r}");
            made += 1;
        }
        for org in &orgs {
            let resp = c
                .delete(a.url(&format!("/api/v1/admin/organizations/{org}/restrictions")))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
        }
    }
    rx.wait_for(made, Duration::from_secs(30)).await;
    // Time for a second delivery of anything, had there been one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = rx.received();
    assert_eq!(got.len(), made, "each event once");
    let ids: Vec<i64> = got
        .iter()
        .map(|g| g.json["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), made);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    // And the change feed lists the same events in the same order.
    let feed: Value = c
        .get(b.url("/api/v1/events?limit=1000"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let feed_ids: Vec<i64> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(feed_ids, ids);
    pool.close().await;
}
