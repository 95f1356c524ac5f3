//! Defects found when the market was tried from outside (issue 14), each with the test that guards it.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

fn listing_body(title: &str, n: u32) -> Value {
    json!({
        "title": title,
        "summary": "一项示例科技成果。",
        "description": "第一段介绍。",
        "field": "auto",
        "ip_type": "invention_patent",
        "ip_numbers": [techmarket::service::listings::patent_number(2022, '1', 7000 + n)],
        "trl": 6,
        "transaction_modes": ["transfer"],
        "keywords": ["自动紧急制动"],
        "pricing": {"mode": "negotiable"}
    })
}

#[sqlx::test(migrations = "./migrations")]
async fn a_listings_matches_are_its_owners_and_its_exchanges_admins_only(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@example.cn", "suaee").await;
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let home_admin = app.admin("suaee").await;
    let other_admin = app.admin("cquaee").await;
    let l = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing_body("自动紧急制动算法", 1),
        )
        .await;
    assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
    let lid = l.body["id"].as_str().unwrap();
    let d = app
        .post(
            "/api/v1/demands",
            Some(&buyer.token),
            json!({"title": "寻求自动紧急制动算法", "description": "AEB", "field": "auto", "keywords": ["自动紧急制动"]}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let did = d.body["id"].as_str().unwrap();

    let listing = format!("/api/v1/listings/{lid}/matches");
    let demand = format!("/api/v1/demands/{did}/matches");
    let status = |r: Resp| (r.status, r.body["error"]["code"].clone());
    assert_eq!(
        app.get(&listing, Some(&seller.token)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&listing, Some(&home_admin)).await.status,
        StatusCode::OK
    );
    // An admin acting outside their exchange gets 403 (API.md), never the owner's matches.
    assert_eq!(
        status(app.get(&listing, Some(&other_admin)).await),
        (StatusCode::FORBIDDEN, json!("other_exchange"))
    );
    assert_eq!(
        app.get(&listing, Some(&buyer.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&demand, Some(&buyer.token)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&demand, Some(&other_admin)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        status(app.get(&demand, Some(&home_admin)).await),
        (StatusCode::FORBIDDEN, json!("other_exchange"))
    );
    assert_eq!(
        app.get(&demand, Some(&seller.token)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn titles_are_stored_as_sent_and_an_all_blank_title_is_still_422(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.verified_member("m@example.cn", "suaee").await;
    let title = "  两个空格开头的标题 ";
    let l = app
        .post("/api/v1/listings", Some(&m.token), listing_body(title, 2))
        .await;
    assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
    assert_eq!(l.body["title"], json!(title));
    let id = l.body["id"].as_str().unwrap();
    let again = app
        .get(&format!("/api/v1/listings/{id}"), Some(&m.token))
        .await;
    assert_eq!(again.body["title"], json!(title));
    let blank = app
        .post("/api/v1/listings", Some(&m.token), listing_body(" \t ", 3))
        .await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.text
    );
    assert!(
        blank.body["error"]["fields"]["title"].is_string(),
        "{}",
        blank.text
    );

    let d = app
        .post(
            "/api/v1/demands",
            Some(&m.token),
            json!({"title": " 寻求自动紧急制动算法", "field": "auto"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    assert_eq!(d.body["title"], json!(" 寻求自动紧急制动算法"));
    let d = app
        .post(
            "/api/v1/demands",
            Some(&m.token),
            json!({"title": "    ", "field": "auto"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_query_that_is_not_utf8_is_400_naming_the_parameter(pool: PgPool) {
    let app = TestApp::new(pool);
    for uri in [
        "/api/v1/listings?q=%FF%FE",
        "/api/v1/demands?q=%E8%8A",
        "/api/v1/fee-schedules?status=%C0%AF",
    ] {
        let r = app.get(uri, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        assert_eq!(r.body["error"]["code"], json!("invalid_query"), "{uri}");
        let fields = r.body["error"]["fields"].as_object().unwrap();
        assert_eq!(fields.len(), 1, "{uri}: {}", r.text);
    }
    let r = app.get("/api/v1/listings?q=%FF%FE", None).await;
    assert!(r.body["error"]["fields"]["q"].is_string(), "{}", r.text);
    // The pages too (an HTML error page), and a correct Chinese query still works.
    let r = app.page("/listings?q=%FF", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("<html"));
    let r = app.get("/api/v1/listings?q=%E8%8A%AF%E7%89%87", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// Every mutating `/api/v1/admin/…` route of the document, posted an empty or malformed body by a
/// member: 403 before anything is read from the body (it was 422, telling what the body should be).
#[sqlx::test(migrations = "./migrations")]
async fn members_get_403_from_admin_routes_before_their_body_is_validated(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.verified_member("m@example.cn", "suaee").await;
    let doc = app.get("/api/v1/openapi.json", None).await.body;
    let some_id = uuid::Uuid::now_v7().to_string();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/admin/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let uri = path.replace("{id}", &some_id);
            let m_ = axum::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for body in [
                json!({}),
                json!("not an object"),
                json!({"decision": 5, "reason": []}),
            ] {
                let r = app.call(m_.clone(), &uri, Some(&m.token), Some(body)).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{method} {uri}: {}",
                    r.text
                );
                assert_eq!(r.body["error"]["code"], json!("admin_required"));
            }
            let anon = app.call(m_, &uri, None, Some(json!({}))).await;
            assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked} admin operations");
}

#[sqlx::test(migrations = "./migrations")]
async fn ledger_entries_come_in_the_list_format_and_bad_paging_is_400(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let r = app.get("/api/v1/admin/ledger/entries", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"], json!([]));
    assert_eq!(r.body["total"], json!(0));
    assert_eq!(
        (r.body["page"].clone(), r.body["per_page"].clone()),
        (json!(1), json!(20))
    );
    let r = app
        .get("/api/v1/admin/ledger/entries?limit=5", Some(&admin))
        .await;
    assert_eq!(r.body["per_page"], json!(5), "{}", r.text);
    for (q, field) in [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("per_page=-1", "per_page"),
        ("page=0", "page"),
        ("page=-3", "page"),
        ("limit=abc", "limit"),
    ] {
        let r = app
            .get(&format!("/api/v1/admin/ledger/entries?{q}"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.text);
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{q}: {}",
            r.text
        );
    }
}
