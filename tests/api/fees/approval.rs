//! Maker–checker: an admin of another exchange approves; rejections keep their reason; two
//! approvals at once decide once.
use axum::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn an_admin_of_another_exchange_must_approve_never_the_drafter_or_a_colleague(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = admin_named(&app, "drafter@suaee.example", "suaee").await;
    let colleague = admin_named(&app, "colleague@suaee.example", "suaee").await;
    let checker = admin_named(&app, "Checker@CQUAEE.example", "cquaee").await;
    let member = app.verified_member("member@example.cn", "cdipex").await;

    // Members may not draft.
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&member.token),
            flat_two_percent("v2", None),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            None,
            flat_two_percent("v2", None),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("统一收费标准 v2", None),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let draft = r.body.clone();
    assert_eq!(draft["status"], json!("draft"));
    assert_eq!(draft["name"], json!("统一收费标准 v2"));
    assert_eq!(draft["effective_from"], Value::Null);
    assert_eq!(draft["created_by"], json!("drafter@suaee.example"));
    assert_eq!(draft["created_by_exchange"], json!("suaee"));
    assert_eq!(draft["approved_by"], Value::Null);
    assert_eq!(
        draft["buyer"]["bands"],
        json!([{"up_to_fen": null, "rate_ppm": 20_000}])
    );
    let id = draft["id"].as_str().unwrap().to_string();
    let approve = format!("/api/v1/admin/fee-schedules/{id}/approve");

    let r = app.post(&approve, Some(&member.token), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a member");
    let r = app.post(&approve, Some(&drafter), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the drafter");
    assert_eq!(r.body["error"]["code"], json!("fee_schedule_own_draft"));
    let r = app.post(&approve, Some(&colleague), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the drafter's exchange");
    assert_eq!(r.body["error"]["code"], json!("fee_schedule_same_exchange"));
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/reject"),
            Some(&colleague),
            json!({"reason": "no"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "rejecting follows the same rule"
    );
    // Nothing changed yet: still a draft, v1 still in force.
    let r = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(r.body["status"], json!("draft"));
    assert_eq!(
        quote(&app, 350_000_000).await["unified"]["schedule_id"],
        json!(V1)
    );

    let before = Utc::now();
    let r = app.post(&approve, Some(&checker), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("approved"));
    assert_eq!(r.body["approved_by"], json!("Checker@CQUAEE.example"));
    let effective: DateTime<Utc> = r.body["effective_from"].as_str().unwrap().parse().unwrap();
    assert!(effective >= before.trunc_subsecs(0) && effective <= Utc::now());
    // In force at once (no effective_from): 2 % of 350万元 = 7 万元 per side.
    let q = quote(&app, 350_000_000).await;
    assert_eq!(q["unified"]["schedule_id"], json!(id));
    assert_eq!(q["unified"]["buyer_fee_fen"], json!(7_000_000));
    assert_eq!(q["unified"]["total_fee_fen"], json!(14_000_000));

    // Decided once: a second approval or a rejection is a conflict.
    let r = app.post(&approve, Some(&checker), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("fee_schedule_not_draft"));
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/reject"),
            Some(&checker),
            json!({"reason": "too late"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{V1}/approve"),
            Some(&checker),
            json!({}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "the installed v1 is decided"
    );

    // The newest first in the list.
    let list = app.get("/api/v1/fee-schedules", None).await;
    assert_eq!(list.body["total"], json!(2));
    assert_eq!(list.body["items"][0]["id"], json!(id));

    // Audited: the draft and the approval, with before and after.
    let audit = app
        .get(
            "/api/v1/admin/audit?target_type=fee_schedule",
            Some(&checker),
        )
        .await;
    assert_eq!(audit.body["total"], json!(2), "{}", audit.text);
    let approval = &audit.body["items"][0];
    assert_eq!(approval["action"], json!("fee_schedule.approve"));
    assert_eq!(approval["actor"], json!("Checker@CQUAEE.example"));
    assert_eq!(approval["target_id"], json!(id));
    assert_eq!(approval["before"]["status"], json!("draft"));
    assert_eq!(approval["after"]["status"], json!("approved"));
    let drafted = &audit.body["items"][1];
    assert_eq!(drafted["action"], json!("fee_schedule.draft"));
    assert_eq!(
        drafted["after"]["buyer"]["bands"][0]["rate_ppm"],
        json!(20_000)
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_rejected_draft_keeps_its_reason_and_cannot_be_approved(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = app.admin("nttc_sw").await;
    let checker = app.admin("cdipex").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("太贵的草案", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/reject"),
            Some(&checker),
            json!({"reason": "费率过高 <b>"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("rejected"));
    assert_eq!(r.body["reject_reason"], json!("费率过高 <b>"));
    assert_eq!(r.body["rejected_by"], json!("admin-cdipex@test.example"));
    assert_eq!(r.body["approved_by"], Value::Null);
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/approve"),
            Some(&checker),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        quote(&app, 1_000_000).await["unified"]["schedule_id"],
        json!(V1)
    );

    // A reject without a reason is refused: the drafter must be told why.
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("another", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .call(
            axum::http::Method::POST,
            &format!("/api/v1/admin/fee-schedules/{id}/reject"),
            Some(&checker),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.body["error"]["fields"]["reason"].is_string(),
        "{}",
        r.text
    );
    let r = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(r.body["status"], json!("draft"));
}

#[sqlx::test(migrations = "./migrations")]
async fn concurrent_approvals_decide_a_draft_exactly_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = app.admin("suaee").await;
    let checkers = [
        app.admin("cquaee").await,
        app.admin("cdipex").await,
        app.admin("nttc_sw").await,
    ];
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("race", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let uri = format!("/api/v1/admin/fee-schedules/{id}/approve");
    let results = futures_util::future::join_all(checkers.iter().map(|t| {
        let app = &app;
        let uri = uri.clone();
        async move { app.post(&uri, Some(t), json!({})).await.status }
    }))
    .await;
    let ok = results.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = results
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, 2), "{results:?}");
    let approvals: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'fee_schedule.approve' and target_id = $1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(approvals, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_overlong_rejection_reason_is_422_and_leaves_the_draft_alone(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = app.admin("suaee").await;
    let checker = app.admin("cquaee").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("draft", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/reject"),
            Some(&checker),
            json!({"reason": "太".repeat(1001)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["reason"].is_string());
    let r = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(r.body["status"], json!("draft"));
}
