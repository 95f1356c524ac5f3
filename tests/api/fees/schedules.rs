//! Schedule versions: public, in force from their moment, validated field by field.
use axum::http::StatusCode;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn schedules_are_public_and_unified_v1_is_in_force_from_the_start(pool: PgPool) {
    let app = TestApp::new(pool);
    let list = app.get("/api/v1/fee-schedules", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["total"], json!(1));
    assert_eq!(list.body["page"], json!(1));
    let v1 = &list.body["items"][0];
    assert_eq!(v1["id"], json!(V1));
    assert_eq!(v1["status"], json!("approved"));
    assert_eq!(v1["effective_from"], json!("2026-01-01T00:00:00Z"));
    assert_eq!(v1["created_by"], Value::Null);
    assert_eq!(v1["approved_by"], Value::Null);
    for s in ["buyer", "seller"] {
        assert_eq!(v1[s]["min_fee_fen"], json!(30_000));
        assert_eq!(v1[s]["max_fee_fen"], Value::Null);
        assert!(v1[s]["max_fee_fen"].is_null() && v1[s].get("max_fee_fen").is_some());
        let bands = v1[s]["bands"].as_array().unwrap();
        assert_eq!(bands.len(), 6);
        assert_eq!(
            bands[0],
            json!({"up_to_fen": 100_000_000, "rate_ppm": 15_000})
        );
        assert_eq!(bands[5], json!({"up_to_fen": null, "rate_ppm": 1_000}));
    }
    let current = app.get("/api/v1/fee-schedules/current", None).await;
    assert_eq!(current.status, StatusCode::OK);
    assert_eq!(current.body["id"], json!(V1));
    let one = app.get(&format!("/api/v1/fee-schedules/{V1}"), None).await;
    assert_eq!(one.body, *v1);
    for bad in ["nope", "00000000-0000-0000-0000-000000000000"] {
        let r = app.get(&format!("/api/v1/fee-schedules/{bad}"), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let r = app.get("/api/v1/fee-schedules?status=bogus", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = "./migrations")]
async fn invalid_drafts_name_the_exact_field(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let body = json!({
        "name": "",
        "effective_from": "2020-01-01T00:00:00Z",
        "buyer": side(&[(Some(1_000_000), 10_000), (Some(1_000_000), 5_000), (None, 1_000)], -1, None),
        "seller": side(
            &[(Some(1_000_000), 10_000), (Some(2_000_000), 5_000), (Some(3_000_000), 1_000_001), (Some(4_000_000), 1_000)],
            50_000,
            Some(10_000),
        ),
    });
    let r = app
        .post("/api/v1/admin/fee-schedules", Some(&admin), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("validation_failed"));
    let fields = r.body["error"]["fields"].as_object().unwrap();
    for path in [
        "name",
        "effective_from",
        "buyer.bands[1].up_to_fen",
        "buyer.min_fee_fen",
        "seller.bands[2].rate_ppm",
        "seller.bands[3].up_to_fen",
        "seller.max_fee_fen",
    ] {
        assert!(fields.contains_key(path), "{path} missing in {fields:?}");
    }
    assert_eq!(fields.len(), 7, "{fields:?}");
    // Wrong types are 422 naming the field too; malformed JSON is 400.
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&admin),
            json!({"name": "x", "buyer": {"bands": [{"up_to_fen": null, "rate_ppm": "1%"}]}, "seller": {"bands": []}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["buyer.bands[0].rate_ppm"].is_string(),
        "{}",
        r.text
    );
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&admin),
            json!({"name": "x", "buyer": {"bands": []}, "seller": {"bands": [{"rate_ppm": 1}]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["buyer.bands"].is_string(),
        "{}",
        r.text
    );
    // Nothing was stored.
    let list = app.get("/api/v1/fee-schedules", None).await;
    assert_eq!(list.body["total"], json!(1));
    // A member gets 403 even with a bad body: authorisation first.
    let m = app.member("m@example.cn", "suaee").await;
    let r = app
        .post("/api/v1/admin/fee-schedules", Some(&m.token), body)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_schedule_in_force_switches_at_effective_from_and_not_before(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = app.admin("cquaee").await;
    let checker = app.admin("suaee").await;
    let at = (Utc::now() + Duration::seconds(3)).trunc_subsecs(0);
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("at a set moment", Some(at)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["effective_from"], json!(at));
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/approve"),
            Some(&checker),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["effective_from"],
        json!(at),
        "the requested moment is kept"
    );

    // Approved, but not yet in force.
    let q = quote(&app, 350_000_000).await;
    assert_eq!(q["unified"]["schedule_id"], json!(V1));
    assert_eq!(q["unified"]["buyer_fee_fen"], json!(4_000_000));
    let current = app.get("/api/v1/fee-schedules/current", None).await;
    assert_eq!(current.body["id"], json!(V1));
    // The switch is exactly at `at`.
    let just_before =
        techmarket::service::fees::quote(&app.pool, 350_000_000, at - Duration::microseconds(1))
            .await
            .unwrap();
    assert_eq!(just_before.unified.schedule_id.to_string(), V1);
    let at_the_moment = techmarket::service::fees::quote(&app.pool, 350_000_000, at)
        .await
        .unwrap();
    assert_eq!(at_the_moment.unified.schedule_id.to_string(), id);
    assert_eq!(at_the_moment.unified.buyer_fee_fen, 7_000_000);

    // And through the API once the moment has come.
    let wait =
        (at - Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(50);
    assert!(wait <= std::time::Duration::from_secs(4));
    tokio::time::sleep(wait).await;
    let q = quote(&app, 350_000_000).await;
    assert_eq!(q["unified"]["schedule_id"], json!(id));
    assert_eq!(q["unified"]["seller_fee_fen"], json!(7_000_000));
    let current = app.get("/api/v1/fee-schedules/current", None).await;
    assert_eq!(current.body["id"], json!(id));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_moment_that_passed_before_approval_takes_effect_at_approval(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = app.admin("cquaee").await;
    let checker = app.admin("suaee").await;
    let at = (Utc::now() + Duration::milliseconds(300)).trunc_subsecs(3);
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("late approval", Some(at)),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let approved_after = Utc::now();
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/approve"),
            Some(&checker),
            json!({}),
        )
        .await;
    let effective: DateTime<Utc> = r.body["effective_from"].as_str().unwrap().parse().unwrap();
    assert!(
        effective >= approved_after,
        "no retroactive fees: {effective} < {approved_after}"
    );
    assert_eq!(
        r.body["requested_effective_from"]
            .as_str()
            .map(|s| s.parse::<DateTime<Utc>>().unwrap()),
        Some(at)
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_fee_routes_are_in_the_openapi_document(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.get("/api/v1/openapi.json", None).await;
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/fees/quote",
        "/api/v1/fee-schedules",
        "/api/v1/fee-schedules/current",
        "/api/v1/fee-schedules/{id}",
        "/api/v1/admin/fee-schedules",
        "/api/v1/admin/fee-schedules/{id}/approve",
        "/api/v1/admin/fee-schedules/{id}/reject",
        "/api/v1/admin/fee-schedules/{id}/simulate",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
}
