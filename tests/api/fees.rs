//! Fees: quotes against DOMAIN.md's tables, schedule versions, maker–checker, the moment a
//! schedule takes effect, frozen trade fees, simulation, and the calculator and editor pages.
use axum::http::StatusCode;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::codes::{Exchange, TransactionMode};
use uuid::Uuid;

use crate::helpers::*;

const V1: &str = "00000000-0000-7000-8000-000000000001";

/// An exchange admin with an e-mail of our choosing (the helper gives one per exchange).
async fn admin_named(app: &TestApp, email: &str, exchange: &str) -> String {
    techmarket::service::accounts::create_admin(
        &app.pool,
        email,
        Exchange::parse(exchange).unwrap(),
        PASSWORD,
        "管理员",
    )
    .await
    .unwrap();
    let l = app.login(email, PASSWORD).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text);
    l.body["token"].as_str().unwrap().to_string()
}

fn side(bands: &[(Option<i64>, i64)], min: i64, max: Option<i64>) -> Value {
    json!({
        "bands": bands.iter().map(|(u, r)| json!({"up_to_fen": u, "rate_ppm": r})).collect::<Vec<_>>(),
        "min_fee_fen": min,
        "max_fee_fen": max,
    })
}

/// A flat 2 % schedule for both sides, no minimum, no cap.
fn flat_two_percent(name: &str, effective_from: Option<DateTime<Utc>>) -> Value {
    let s = side(&[(None, 20_000)], 0, None);
    let mut v = json!({"name": name, "buyer": s, "seller": s});
    if let Some(at) = effective_from {
        v["effective_from"] = json!(at);
    }
    v
}

async fn quote(app: &TestApp, amount_fen: i64) -> Value {
    let r = app
        .get(&format!("/api/v1/fees/quote?amount_fen={amount_fen}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

#[sqlx::test(migrations = "./migrations")]
async fn quotes_match_the_legacy_and_unified_tables_of_domain_md(pool: PgPool) {
    let app = TestApp::new(pool);
    // (amount fen, Sichuan, Chongqing, unified v1) per side, worked out by hand from the table:
    let cases: &[(i64, i64, i64, i64)] = &[
        // 1 fen: 5 % of a fen rounds to 0; the unified minimum is capped at the price.
        (1, 0, 0, 1),
        // 1万元: 5 % = 500 元; 0.7 % = 70 元; 1.5 % = 150 元, below the 300 元 minimum.
        (1_000_000, 50_000, 7_000, 30_000),
        // 100万元, the first edge: 5 万, 7 000, 15 000 元.
        (100_000_000, 5_000_000, 700_000, 1_500_000),
        // 100万元 + 1 fen: 3 % of one fen rounds away.
        (100_000_001, 5_000_000, 700_000, 1_500_000),
        // 350万元: 100万×5% + 250万×3% = 125 000 元; 100万×0.7% + 250万×0.5% = 19 500 元;
        // 100万×1.5% + 250万×1% = 40 000 元.
        (350_000_000, 12_500_000, 1_950_000, 4_000_000),
        // 10亿元: 5+12+10+40+35+450 万; 0.7+2+2+12+10+90 万; 1.5+4+3.5+16+10+90 万.
        (100_000_000_000, 552_000_000, 116_700_000, 125_000_000),
        // 10^14 fen (1 万亿元): 102 万 + 9999.99 亿 × 0.5 % etc.
        (
            100_000_000_000_000,
            500_052_000_000,
            100_016_700_000,
            100_025_000_000,
        ),
    ];
    for &(amount, sichuan, chongqing, unified) in cases {
        let q = quote(&app, amount).await;
        assert_eq!(q["amount_fen"], json!(amount));
        assert_eq!(q["unified"]["schedule_id"], json!(V1));
        assert_eq!(q["unified"]["buyer_fee_fen"], json!(unified), "{amount}");
        assert_eq!(q["unified"]["seller_fee_fen"], json!(unified), "{amount}");
        assert_eq!(
            q["unified"]["total_fee_fen"],
            json!(2 * unified),
            "{amount}"
        );
        for (name, fee) in [("sichuan", sichuan), ("chongqing", chongqing)] {
            let l = &q["legacy"][name];
            assert_eq!(l["buyer_fee_fen"], json!(fee), "{name} {amount}");
            assert_eq!(l["seller_fee_fen"], json!(fee), "{name} {amount}");
            assert_eq!(l["total_fee_fen"], json!(2 * fee), "{name} {amount}");
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_quote_amounts_name_the_field_and_never_give_a_5xx(pool: PgPool) {
    let app = TestApp::new(pool);
    for (raw, status) in [
        ("0", StatusCode::UNPROCESSABLE_ENTITY),
        ("-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("100000000000001", StatusCode::UNPROCESSABLE_ENTITY),
        ("-9223372036854775808", StatusCode::UNPROCESSABLE_ENTITY),
        ("abc", StatusCode::BAD_REQUEST),
        ("1.5", StatusCode::BAD_REQUEST),
        ("", StatusCode::BAD_REQUEST),
        ("99999999999999999999", StatusCode::BAD_REQUEST),
        ("1e5", StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .get(&format!("/api/v1/fees/quote?amount_fen={raw}"), None)
            .await;
        assert_eq!(r.status, status, "{raw}: {}", r.text);
        assert!(
            r.body["error"]["fields"]["amount_fen"].is_string(),
            "{raw}: {}",
            r.text
        );
    }
    let r = app.get("/api/v1/fees/quote", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["amount_fen"].is_string());
    // The largest amount is fine.
    quote(&app, 100_000_000_000_000).await;
}

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
            json!({}),
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

    // A reject without any body is fine too.
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
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["reject_reason"], Value::Null);
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

/// A listed fixed-price listing of `seller`'s organisation, inserted directly.
async fn listing(app: &TestApp, seller: &Member, exchange: &str, price_fen: i64) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes, \
         pricing_mode, price_fen, status, exchange, province, listed_at) \
         values ($1, $2::uuid, $3::uuid, '高速流水线ADC芯片', 'ic', 'know_how', 6, '{transfer}', 'fixed', $4, 'listed', $5, $6, now())",
    )
    .bind(id)
    .bind(&seller.org_id)
    .bind(&seller.user_id)
    .bind(price_fen)
    .bind(exchange)
    .bind(Exchange::parse(exchange).unwrap().province().code())
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

async fn trade(
    app: &TestApp,
    listing_id: Uuid,
    seller: &Member,
    buyer: &Member,
    seller_ex: &str,
    buyer_ex: &str,
    price_fen: i64,
) -> Uuid {
    let mut tx = app.pool.begin().await.unwrap();
    let id = techmarket::service::trades::create(
        &mut tx,
        techmarket::service::trades::NewTrade {
            listing_id,
            seller_org: seller.org_id.parse().unwrap(),
            buyer_org: buyer.org_id.parse().unwrap(),
            price_fen,
            mode: TransactionMode::Transfer,
            seller_exchange: seller_ex.into(),
            buyer_exchange: buyer_ex.into(),
            source: "purchase",
            offer_id: None,
            now: Utc::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

#[sqlx::test(migrations = "./migrations")]
async fn trades_keep_their_frozen_fees_and_the_simulation_splits_revenue_by_exchange(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@example.cn", "suaee").await;
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let l1 = listing(&app, &seller, "suaee", 350_000_000).await;
    let l2 = listing(&app, &seller, "suaee", 1_000_000).await;
    let t1 = trade(&app, l1, &seller, &buyer, "suaee", "cquaee", 350_000_000).await;
    let t2 = trade(&app, l2, &seller, &buyer, "suaee", "cquaee", 1_000_000).await;
    sqlx::query("update trades set status = 'cancelled', cancelled_at = now() where id = $1")
        .bind(t2)
        .execute(&app.pool)
        .await
        .unwrap();
    let drafter = app.admin("nttc_sw").await;
    let checker = app.admin("cdipex").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("flat", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();

    // The simulation: the one live trade under v1 (4 万元 per side) against 2 % (7 万元 per side);
    // the buyer's fee to the buyer's exchange, the seller's to the listing's.
    let r = app
        .get(
            &format!("/api/v1/admin/fee-schedules/{id}/simulate"),
            Some(&checker),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["trades"], json!(1), "cancelled trades are left out");
    assert_eq!(r.body["current_total_fee_fen"], json!(8_000_000));
    assert_eq!(r.body["proposed_total_fee_fen"], json!(14_000_000));
    assert_eq!(
        r.body["by_exchange"]["suaee"],
        json!({"current_fee_fen": 4_000_000, "proposed_fee_fen": 7_000_000})
    );
    assert_eq!(
        r.body["by_exchange"]["cquaee"],
        json!({"current_fee_fen": 4_000_000, "proposed_fee_fen": 7_000_000})
    );
    assert_eq!(
        r.body["by_exchange"]["cdipex"],
        json!({"current_fee_fen": 0, "proposed_fee_fen": 0})
    );
    let m = app
        .get(
            &format!("/api/v1/admin/fee-schedules/{id}/simulate"),
            Some(&seller.token),
        )
        .await;
    assert_eq!(m.status, StatusCode::FORBIDDEN);
    let r = app
        .get(
            "/api/v1/admin/fee-schedules/00000000-0000-7000-8000-00000000abcd/simulate",
            Some(&checker),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The new schedule takes effect; the trade keeps what it was created with.
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/approve"),
            Some(&checker),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let q = quote(&app, 350_000_000).await;
    assert_eq!(q["unified"]["schedule_id"], json!(id));
    assert_eq!(q["unified"]["buyer_fee_fen"], json!(7_000_000));
    let (schedule, buyer_fee, seller_fee): (Uuid, i64, i64) = sqlx::query_as(
        "select fee_schedule_id, buyer_fee_fen, seller_fee_fen from trades where id = $1",
    )
    .bind(t1)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(schedule.to_string(), V1);
    assert_eq!((buyer_fee, seller_fee), (4_000_000, 4_000_000));
    // A trade made now uses the new version.
    let l3 = listing(&app, &seller, "suaee", 350_000_000).await;
    let t3 = trade(&app, l3, &seller, &buyer, "suaee", "cquaee", 350_000_000).await;
    let (schedule, buyer_fee): (Uuid, i64) =
        sqlx::query_as("select fee_schedule_id, buyer_fee_fen from trades where id = $1")
            .bind(t3)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(schedule.to_string(), id);
    assert_eq!(buyer_fee, 7_000_000);
    // Approved schedules cannot be edited, even directly in the database.
    let edit = sqlx::query("update fee_schedules set name = 'edited' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await;
    assert!(edit.is_err());
}

// ------------------------------------------------------------------ pages

fn doc(html: &str) -> scraper::Html {
    scraper::Html::parse_document(html)
}

fn texts(html: &scraper::Html, selector: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(selector).unwrap();
    html.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn count(html: &scraper::Html, selector: &str) -> usize {
    html.select(&scraper::Selector::parse(selector).unwrap())
        .count()
}

/// The calculator for `amount` in `lang`.
async fn calculator(app: &TestApp, amount: &str, lang: &str) -> Resp {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("amount", amount)
        .append_pair("lang", lang)
        .finish();
    app.page(&format!("/fees?{q}"), "").await
}

#[sqlx::test(migrations = "./migrations")]
async fn the_calculator_shows_350_wan_in_both_languages_with_a_chart_and_a_table(pool: PgPool) {
    let app = TestApp::new(pool);
    for lang in ["zh-CN", "en"] {
        let r = calculator(&app, "350万", lang).await;
        assert_eq!(r.status, StatusCode::OK, "{lang}");
        let d = doc(&r.text);
        assert_eq!(input_value(&r.text, "amount").as_deref(), Some("350万"));
        // Unified 4 万元, Sichuan 12.5 万元, Chongqing 1.95 万元 per side.
        assert_eq!(
            texts(&d, "table.fee-compare td.buyer-fee"),
            ["¥40,000.00", "¥125,000.00", "¥19,500.00"],
            "{lang}"
        );
        assert_eq!(
            texts(&d, "table.fee-compare td.seller-fee"),
            ["¥40,000.00", "¥125,000.00", "¥19,500.00"]
        );
        assert_eq!(
            texts(&d, "table.fee-compare td.total-fee"),
            ["¥80,000.00", "¥250,000.00", "¥39,000.00"]
        );
        let heading = texts(&d, ".fee-result h2").join(" ");
        let headers = texts(&d, "table.fee-compare thead th").join(" ");
        if lang == "zh-CN" {
            assert!(heading.contains("350万元"), "{heading}");
            assert!(
                headers.contains("统一收费标准")
                    && headers.contains("四川")
                    && headers.contains("重庆")
            );
            assert!(r.text.contains("买方服务费"));
        } else {
            assert!(heading.contains("¥3,500,000.00"), "{heading}");
            assert!(
                headers.contains("Unified")
                    && headers.contains("Sichuan")
                    && headers.contains("Chongqing")
            );
            assert!(texts(&d, "table.fee-compare tbody th").contains(&"Buyer's fee".to_string()));
        }
        // The chart: SVG drawn on the server, three lines, a legend, axis labels, the amount marked.
        assert_eq!(count(&d, "svg.fee-chart-svg"), 1);
        assert_eq!(count(&d, "svg polyline"), 3);
        assert_eq!(count(&d, "svg .legend text"), 3);
        assert_eq!(count(&d, "svg .axis-label"), 2);
        assert_eq!(count(&d, "svg .marker line"), 1);
        assert_eq!(texts(&d, "svg .x-labels text").len(), 6);
        // No inline styles or scripts (CSP).
        assert_eq!(count(&d, "[style]"), 0);
        assert_eq!(count(&d, "script"), 0);
        // The numbers beneath: ten example amounts from 1万 to 10亿.
        let rows = texts(&d, "table.fee-examples tbody th");
        assert_eq!(rows.len(), 10);
        if lang == "zh-CN" {
            assert_eq!(rows[0], "1万元");
            assert_eq!(rows[4], "350万元");
            assert_eq!(rows[9], "10亿元");
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_amounts_in_the_calculator_get_a_clear_message_in_the_users_language(pool: PgPool) {
    let app = TestApp::new(pool);
    for (amount, zh, en) in [
        ("abc", "无法识别的金额", "That is not an amount"),
        ("-5", "金额不能为负数", "cannot be negative"),
        ("1.234", "两位小数", "two decimals"),
        ("10001亿", "金额不能超过", "cannot exceed"),
        ("0", "金额必须大于零", "greater than zero"),
    ] {
        for (lang, expected) in [("zh-CN", zh), ("en", en)] {
            let r = calculator(&app, amount, lang).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{amount} {lang}"
            );
            let d = doc(&r.text);
            let msg = texts(&d, ".field-error").join(" ");
            assert!(msg.contains(expected), "{amount} {lang}: {msg}");
            assert_eq!(count(&d, ".fee-result"), 0, "no silently rounded result");
            assert_eq!(input_value(&r.text, "amount").as_deref(), Some(amount));
        }
    }
    let r = app.page("/fees", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        count(&doc(&r.text), "svg polyline"),
        3,
        "the chart without an amount"
    );
}

/// Every named input of the editor form with its value (buttons excluded), in order.
fn editor_fields(html: &str) -> Vec<(String, String)> {
    let d = doc(html);
    let sel = scraper::Selector::parse("form.fee-editor input[name]").unwrap();
    d.select(&sel)
        .map(|e| {
            (
                e.value().attr("name").unwrap().to_string(),
                e.value().attr("value").unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn post_editor(
    app: &TestApp,
    cookies: &str,
    fields: &[(String, String)],
    action: &str,
) -> Resp {
    let mut pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.push(("action", action));
    app.form("/admin/fees/new", cookies, &pairs).await
}

fn named(fields: &[(String, String)], name: &str) -> usize {
    fields.iter().filter(|(k, _)| k == name).count()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_editor_adds_and_removes_bands_previews_and_saves_without_javascript(pool: PgPool) {
    let app = TestApp::new(pool);
    admin_named(&app, "editor@suaee.example", "suaee").await;
    let cookies = web_login(&app, "editor@suaee.example").await;
    let page = app.page("/admin/fees/new", &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let mut fields = editor_fields(&page.text);
    // Prefilled from v1: six bands a side, the last without an upper bound.
    assert_eq!(named(&fields, "buyer.rate"), 6);
    assert_eq!(named(&fields, "buyer.up_to"), 5);
    assert!(fields.contains(&("buyer.up_to".into(), "100万".into())));
    assert!(fields.contains(&("buyer.min_fee".into(), "300".into())));

    // Without the CSRF token: refused.
    let no_csrf: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .cloned()
        .collect();
    let r = post_editor(&app, &cookies, &no_csrf, "add:buyer").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Add a band to the buyer's side: one more row, the old last one now needs a bound.
    let r = post_editor(&app, &cookies, &fields, "add:buyer").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    fields = editor_fields(&r.text);
    assert_eq!(named(&fields, "buyer.rate"), 7);
    assert_eq!(named(&fields, "buyer.up_to"), 6);
    assert_eq!(
        named(&fields, "seller.rate"),
        6,
        "the other side is untouched"
    );
    // Remove it again, then add once more and fill it in: above 10亿元 at 0.05 %.
    let r = post_editor(&app, &cookies, &fields, "remove:buyer:6").await;
    fields = editor_fields(&r.text);
    assert_eq!(named(&fields, "buyer.rate"), 6);
    assert_eq!(named(&fields, "buyer.up_to"), 5);
    let r = post_editor(&app, &cookies, &fields, "add:buyer").await;
    fields = editor_fields(&r.text);
    let mut up_to_seen = 0;
    let mut rate_seen = 0;
    for (k, v) in fields.iter_mut() {
        if k == "buyer.up_to" {
            up_to_seen += 1;
            if up_to_seen == 6 {
                *v = "10亿".into();
            }
        } else if k == "buyer.rate" {
            rate_seen += 1;
            if rate_seen == 7 {
                *v = "0.05".into();
            }
        } else if k == "name" {
            *v = "统一收费标准 v2".into();
        }
    }

    // Preview: the chart and the example table, nothing saved.
    let r = post_editor(&app, &cookies, &fields, "preview").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = doc(&r.text);
    assert_eq!(
        count(&d, ".fee-preview svg polyline"),
        4,
        "draft, in force, Sichuan, Chongqing"
    );
    assert_eq!(count(&d, ".fee-preview table.fee-examples tbody tr"), 10);
    assert_eq!(count(&d, "[style]"), 0);
    assert_eq!(
        app.get("/api/v1/fee-schedules", None).await.body["total"],
        json!(1)
    );

    // A bad rate comes back with the message beside the field and the input kept.
    let mut bad = fields.clone();
    if let Some(f) = bad.iter_mut().find(|(k, _)| k == "seller.rate") {
        f.1 = "abc".into();
    }
    let r = post_editor(&app, &cookies, &bad, "save").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let d = doc(&r.text);
    assert_eq!(count(&d, "#side-seller .field-error"), 1, "{}", r.text);
    assert!(editor_fields(&r.text).contains(&("seller.rate".into(), "abc".into())));

    // Save: a draft with seven buyer bands, shown on its approval page.
    let r = post_editor(&app, &cookies, &fields, "save").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_string();
    let id = location.strip_prefix("/admin/fees/").unwrap().to_string();
    let v = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(v.body["status"], json!("draft"));
    assert_eq!(v.body["name"], json!("统一收费标准 v2"));
    assert_eq!(v.body["created_by"], json!("editor@suaee.example"));
    let bands = v.body["buyer"]["bands"].as_array().unwrap();
    assert_eq!(bands.len(), 7);
    assert_eq!(
        bands[5],
        json!({"up_to_fen": 100_000_000_000i64, "rate_ppm": 1_000})
    );
    assert_eq!(bands[6], json!({"up_to_fen": null, "rate_ppm": 500}));
    assert_eq!(v.body["seller"]["bands"].as_array().unwrap().len(), 6);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_approval_page_shows_the_draft_beside_the_schedule_in_force_and_decides(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = admin_named(&app, "drafter@cquaee.example", "cquaee").await;
    admin_named(&app, "checker@suaee.example", "suaee").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("两个百分点", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();

    // The drafter sees the page but no buttons, with the reason.
    let drafter_cookies = web_login(&app, "drafter@cquaee.example").await;
    let p = app
        .page(&format!("/admin/fees/{id}"), &drafter_cookies)
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let d = doc(&p.text);
    assert_eq!(count(&d, "form[action$='/approve']"), 0);
    assert!(texts(&d, ".fee-decision .alert")
        .join("")
        .contains("不能审批自己起草"));

    let cookies = web_login(&app, "checker@suaee.example").await;
    let queue = app.page("/admin/fees", &cookies).await;
    assert_eq!(queue.status, StatusCode::OK);
    let d = doc(&queue.text);
    assert!(texts(&d, "table.fee-queue td a")
        .iter()
        .any(|t| t == "两个百分点"));
    let p = app.page(&format!("/admin/fees/{id}"), &cookies).await;
    let d = doc(&p.text);
    assert_eq!(count(&d, "form[action$='/approve']"), 1);
    assert_eq!(
        count(&d, "form[action$='/reject'] textarea[name=reason]"),
        1
    );
    assert_eq!(
        count(&d, "table.fee-side-by-side"),
        2,
        "buyer and seller, side by side"
    );
    assert_eq!(count(&d, ".fee-simulation table"), 1);
    assert_eq!(count(&d, "svg polyline"), 4);
    let csrf = input_value(&p.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/admin/fees/{id}/approve"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let v = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(v.body["status"], json!("approved"));
    assert_eq!(v.body["approved_by"], json!("checker@suaee.example"));
    // Twice: the page again, with the conflict explained.
    let r = app
        .form(
            &format!("/admin/fees/{id}/approve"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(texts(&doc(&r.text), ".alert.error")
        .join("")
        .contains("只能审批草案"));

    // The audit trail of fee schedules on the list page; the public history marks the new version.
    let list = app.page("/admin/fees?lang=en", &cookies).await;
    let actions = texts(&doc(&list.text), "table.fee-audit code");
    assert!(
        actions.contains(&"fee_schedule.approve".to_string()),
        "{actions:?}"
    );
    assert!(actions.contains(&"fee_schedule.draft".to_string()));
    let h = app.page("/fees/history", "").await;
    assert_eq!(h.status, StatusCode::OK);
    let d = doc(&h.text);
    assert_eq!(count(&d, "article.fee-version"), 2);
    assert!(texts(&d, "article.fee-version h2")
        .first()
        .unwrap()
        .contains("两个百分点"));
    assert!(texts(&d, "article.fee-version .tag.ok").len() == 1);

    // Members get 403 on the admin pages; the calculator stays public.
    let m = app.member("plain@example.cn", "suaee").await;
    let _ = m;
    let r = app.page("/admin/fees", "").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "anonymous: to the login page"
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
