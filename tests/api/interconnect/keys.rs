//! API keys: shown once, stored hashed, scopes, revocation, audit, last use.
use axum::http::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn a_key_is_shown_once_stored_hashed_used_and_revoked(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let (id, secret) = key(&app, &admin, "ERP 主系统", &["read"]).await;
    assert!(secret.starts_with("tmk_") && secret.len() == 68, "{secret}");

    // Only the SHA-256 is kept; the key itself is nowhere in the database.
    let (hash, prefix): (Vec<u8>, String) =
        sqlx::query_as("select key_hash, prefix from api_keys where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(hash, Sha256::digest(secret.as_bytes()).to_vec());
    assert!(secret.starts_with(&prefix) && prefix.len() < 20);
    let list = app.get("/api/v1/admin/api-keys", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains(&secret));
    assert_eq!(list.body["items"][0]["name"], json!("ERP 主系统"));
    assert_eq!(list.body["items"][0]["last_used_at"], json!(null));

    // It works as a bearer token and its use is recorded.
    let r = app.get("/api/v1/events", Some(&secret)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = app.get("/api/v1/admin/api-keys", Some(&admin)).await;
    assert!(list.body["items"][0]["last_used_at"].is_string());

    // Another exchange's admin may not revoke it; a member may not issue keys.
    let other = app.admin("cquaee").await;
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/api-keys/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("other_exchange"));
    let m = app.verified_member("m@keys.cn", "suaee").await;
    let r = app
        .post(
            "/api/v1/admin/api-keys",
            Some(&m.token),
            json!({"name": "x", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/api-keys/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get("/api/v1/events", Some(&secret)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"]["code"], json!("invalid_token"));
    let r = app.get("/api/v1/events", Some("tmk_0000")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where target_type = 'api_key' and target_id = $1 order by id",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actions, ["api_key.create", "api_key.revoke"]);
}

#[sqlx::test]
async fn bad_key_requests_get_422_and_change_nothing(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    for (body, field) in [
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "x", "scopes": ["root"]}), "scopes[0]"),
        (json!({"name": "x".repeat(101), "scopes": ["read"]}), "name"),
    ] {
        let r = app.post("/api/v1/admin/api-keys", Some(&admin), body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert!(r.body["error"]["fields"][field].is_string(), "{}", r.text);
    }
    let n: i64 = sqlx::query_scalar("select count(*) from api_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// Each scope opens its endpoints and no other: 403 `scope_missing` for the rest.
#[sqlx::test]
async fn each_scope_allows_its_endpoints_and_refuses_the_others(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let seller = app.verified_member("seller@scopes.cn", "suaee").await;
    let buyer = app.verified_member("buyer@scopes.cn", "suaee").await;
    let receiver = Receiver::start(Behaviour::Statuses(vec![200])).await;

    for scope in ["read", "review", "payments", "webhooks"] {
        let (_, k) = key(&app, &admin, scope, &[scope]).await;
        // A pending listing to review and an unpaid trade to pay, fresh for each key.
        let pending = listed(&app, &seller, 10_000_000).await;
        sqlx::query(
            "update listings set status = 'pending_review', listed_at = null where id = $1::uuid",
        )
        .bind(&pending)
        .execute(&app.pool)
        .await
        .unwrap();
        let trade = buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;

        let attempts = [
            ("read", app.get("/api/v1/events", Some(&k)).await),
            ("read", app.get("/api/v1/trades", Some(&k)).await),
            (
                "review",
                app.post(
                    &format!("/api/v1/admin/listings/{pending}/review"),
                    Some(&k),
                    json!({"decision": "reject", "reason": "材料不全"}),
                )
                .await,
            ),
            (
                "payments",
                app.post(
                    &format!("/api/v1/admin/trades/{trade}/payment-received"),
                    Some(&k),
                    json!({}),
                )
                .await,
            ),
            (
                "webhooks",
                app.post(
                    "/api/v1/admin/webhooks",
                    Some(&k),
                    json!({"url": receiver.url, "events": ["trade.paid"]}),
                )
                .await,
            ),
        ];
        for (needs, r) in attempts {
            if needs == scope {
                assert!(
                    r.status.is_success(),
                    "{scope} key on a {needs} endpoint: {}",
                    r.text
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{scope} key on a {needs} endpoint: {}",
                    r.text
                );
                assert_eq!(r.body["error"]["code"], json!("scope_missing"));
            }
        }
        // Never for a key, whatever its scopes: issuing keys, and what no scope names.
        for r in [
            app.post(
                "/api/v1/admin/api-keys",
                Some(&k),
                json!({"name": "x", "scopes": ["read"]}),
            )
            .await,
            app.post(
                &format!("/api/v1/admin/organizations/{}/restrictions", seller.org_id),
                Some(&k),
                json!({"reason": "x"}),
            )
            .await,
        ] {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
            assert_eq!(r.body["error"]["code"], json!("scope_missing"));
        }
    }
}

#[sqlx::test]
async fn an_action_taken_with_a_key_is_audited_with_its_id_and_name(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let seller = app.verified_member("s@audit.cn", "suaee").await;
    let buyer = app.verified_member("b@audit.cn", "cquaee").await;
    let (id, k) = key(&app, &admin, "财务系统", &["payments", "read"]).await;
    let trade = buy(&app, &listed(&app, &seller, 50_000_000).await, &buyer).await;
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{trade}/payment-received"),
            Some(&k),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("paid"));
    let (actor, key_id, actor_id): (String, Option<uuid::Uuid>, Option<uuid::Uuid>) = sqlx::query_as(
        "select actor, api_key_id, actor_id from audit_log where action = 'trade.payment_received'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(key_id.map(|u| u.to_string()), Some(id.clone()));
    assert_eq!(actor_id, None);
    assert!(actor.contains("财务系统") && actor.contains(&id), "{actor}");
    let audit = app
        .get("/api/v1/admin/audit?target_type=trade", Some(&admin))
        .await;
    assert!(audit.text.contains("财务系统"), "{}", audit.text);
}
