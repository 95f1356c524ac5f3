//! Technology demands and two-way matching.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::text::TsVectorBuilder;
use uuid::Uuid;

use crate::helpers::*;

pub struct ListingSpec<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub description: &'a str,
    pub field: &'a str,
    pub keywords: &'a [&'a str],
    pub trl: i16,
    pub price_fen: Option<i64>,
}

/// A listed listing of `org`, inserted directly (with its search vector computed as the listing code does).
pub async fn insert_listing(pool: &PgPool, org_id: &str, s: &ListingSpec<'_>) -> Uuid {
    let org: Uuid = org_id.parse().unwrap();
    let (user, exchange, province): (Uuid, String, String) = sqlx::query_as(
        "select u.id, o.exchange, o.province from users u join organizations o on o.id = u.organization_id where o.id = $1 limit 1",
    )
    .bind(org)
    .fetch_one(pool)
    .await
    .unwrap();
    let keywords: Vec<String> = s.keywords.iter().map(|k| k.to_string()).collect();
    let mut b = TsVectorBuilder::new();
    b.add(s.title, 'A');
    b.add(s.summary, 'B');
    for k in &keywords {
        b.add(k, 'B');
    }
    b.add(s.description, 'D');
    let id = Uuid::now_v7();
    let mode = if s.price_fen.is_some() {
        "fixed"
    } else {
        "negotiable"
    };
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, summary, description, field, ip_type, trl, \
         transaction_modes, keywords, pricing_mode, price_fen, sort_price_fen, status, exchange, province, search, listed_at) \
         values ($1, $2, $3, $4, $5, $6, $7, 'know_how', $8, '{transfer}', $9, $10, $11, $11, 'listed', $12, $13, $14::tsvector, now())",
    )
    .bind(id)
    .bind(org)
    .bind(user)
    .bind(s.title)
    .bind(s.summary)
    .bind(s.description)
    .bind(s.field)
    .bind(s.trl)
    .bind(&keywords)
    .bind(mode)
    .bind(s.price_fen)
    .bind(exchange)
    .bind(province)
    .bind(b.build())
    .execute(pool)
    .await
    .unwrap();
    // Its matching profile, as the background job computes it for rows written without one.
    techmarket::service::listings::profiles::refresh_all(pool)
        .await
        .unwrap();
    id
}

pub fn aeb_listing() -> ListingSpec<'static> {
    ListingSpec {
        title: "自动紧急制动（AEB）系统及控制算法",
        summary: "基于毫米波雷达与视觉融合的自动紧急制动控制算法，已完成实车验证。",
        description: "本成果提供目标识别、碰撞风险评估与分级制动控制的完整算法。",
        field: "auto",
        keywords: &["自动紧急制动", "AEB", "毫米波雷达"],
        trl: 7,
        price_fen: Some(500_000_000),
    }
}

pub fn parking_listing() -> ListingSpec<'static> {
    ListingSpec {
        title: "远程智能泊车系统",
        summary: "手机遥控的自动泊车方案。",
        description: "基于超声波雷达与环视摄像头的遥控泊车。",
        field: "auto",
        keywords: &["自动泊车", "遥控泊车"],
        trl: 6,
        price_fen: Some(300_000_000),
    }
}

pub async fn post_demand(app: &TestApp, token: &str, body: Value) -> Resp {
    app.post("/api/v1/demands", Some(token), body).await
}

pub fn aeb_demand() -> Value {
    json!({"title": "寻求自动紧急制动算法", "description": "新款SUV需要AEB功能，寻求感知融合与制动控制算法。",
           "field": "auto", "keywords": ["自动紧急制动", "AEB"], "budget_min_fen": 200_000_000, "budget_max_fen": 800_000_000})
}

#[sqlx::test(migrations = "./migrations")]
async fn a_chongqing_car_maker_finds_the_sichuan_aeb_listing_first_with_reasons(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("auto@sichuan.example", "cdipex").await;
    let buyer = app.verified_member("car@chongqing.example", "cquaee").await;
    let aeb = insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    let parking = insert_listing(&app.pool, &seller.org_id, &parking_listing()).await;

    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    assert_eq!(d.body["status"], json!("open"));
    assert_eq!(d.body["province"], json!("chongqing"));
    let id = d.body["id"].as_str().unwrap();

    let m = app
        .get(&format!("/api/v1/demands/{id}/matches"), Some(&buyer.token))
        .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let items = m.body["items"].as_array().unwrap();
    assert_eq!(items[0]["listing"]["id"], json!(aeb.to_string()));
    // Remote parking shares no concept with emergency braking: not a match, although field, budget and
    // readiness fit.
    assert!(
        items
            .iter()
            .all(|i| i["listing"]["id"] != json!(parking.to_string())),
        "{}",
        m.text
    );
    let keywords = items[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "keywords")
        .unwrap();
    assert!(
        keywords["detail"]
            .as_str()
            .unwrap()
            .starts_with("共同概念：自动紧急制动"),
        "{keywords}"
    );
    let codes: Vec<&str> = items[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    for c in ["field", "keywords", "budget", "maturity", "region"] {
        assert!(codes.contains(&c), "reason {c} in {codes:?}");
    }
    let region = items[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "region")
        .unwrap();
    assert!(
        region["detail"].as_str().unwrap().contains("跨省"),
        "{region}"
    );

    // The listing's owner was told (score ≥ 70), exactly once.
    let n: i64 = sqlx::query_scalar(
        "select count(*) from notifications where organization_id = $1::uuid and kind = 'match'",
    )
    .bind(&seller.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(n, 1);
    // Listing approval later re-checks the same pair: still once.
    let mut conn = app.pool.acquire().await.unwrap();
    techmarket::service::demands::on_listing_listed(&mut conn, aeb)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'match'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 2, "one for each side of the pair, never repeated");
    techmarket::service::demands::on_listing_listed(&mut conn, aeb)
        .await
        .unwrap();
    let again: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'match'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(again, 2);

    // The demand page shows the reasons in words.
    let page = app.page(&format!("/demands/{id}"), "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("寻求自动紧急制动算法"));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_cross_province_match_never_scores_lower_than_within_one_province(pool: PgPool) {
    let app = TestApp::new(pool);
    let sc_seller = app.verified_member("s1@example.cn", "suaee").await;
    let cq_seller = app.verified_member("s2@example.cn", "cquaee").await;
    let buyer = app.verified_member("b@example.cn", "cquaee").await;
    let cross = insert_listing(&app.pool, &sc_seller.org_id, &aeb_listing()).await;
    let inside = insert_listing(&app.pool, &cq_seller.org_id, &aeb_listing()).await;
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    let id = d.body["id"].as_str().unwrap();
    let m = app
        .get(&format!("/api/v1/demands/{id}/matches"), Some(&buyer.token))
        .await;
    let score = |lid: Uuid| {
        m.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["listing"]["id"] == json!(lid.to_string()))
            .unwrap()["score"]
            .as_u64()
            .unwrap()
    };
    assert!(score(cross) >= score(inside));
}

#[sqlx::test(migrations = "./migrations")]
async fn matches_are_for_the_owner_only(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@example.cn", "suaee").await;
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let other = app.verified_member("other@example.cn", "cquaee").await;
    let l = insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    let id = d.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/demands/{id}/matches"), Some(&other.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/demands/{id}/matches"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&format!("/api/v1/listings/{l}/matches"), Some(&other.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let lm = app
        .get(
            &format!("/api/v1/listings/{l}/matches"),
            Some(&seller.token),
        )
        .await;
    assert_eq!(lm.status, StatusCode::OK, "{}", lm.text);
    assert_eq!(lm.body["items"][0]["demand"]["id"], json!(id));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_closed_demand_stops_matching(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@example.cn", "suaee").await;
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let l = insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    let id = d.body["id"].as_str().unwrap();
    assert_eq!(
        app.post(
            &format!("/api/v1/demands/{id}/close"),
            Some(&seller.token),
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let c = app
        .post(
            &format!("/api/v1/demands/{id}/close"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.body["status"], json!("closed"));
    assert_eq!(
        app.post(
            &format!("/api/v1/demands/{id}/close"),
            Some(&buyer.token),
            json!({})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    let lm = app
        .get(
            &format!("/api/v1/listings/{l}/matches"),
            Some(&seller.token),
        )
        .await;
    assert!(lm.body["items"].as_array().unwrap().is_empty());
    let dm = app
        .get(&format!("/api/v1/demands/{id}/matches"), Some(&buyer.token))
        .await;
    assert!(dm.body["items"].as_array().unwrap().is_empty());
    let list = app.get("/api/v1/demands", None).await;
    assert_eq!(list.body["total"], json!(0));
}

#[sqlx::test(migrations = "./migrations")]
async fn demands_are_validated_field_by_field(pool: PgPool) {
    let app = TestApp::new(pool);
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let cases = [
        (json!({"title": "短", "field": "auto"}), "title"),
        (json!({"title": "寻求某项技术", "field": "cars"}), "field"),
        (
            json!({"title": "寻求某项技术", "field": "auto", "budget_min_fen": 500, "budget_max_fen": 100}),
            "budget_max_fen",
        ),
        (
            json!({"title": "寻求某项技术", "field": "auto", "budget_min_fen": -5}),
            "budget_min_fen",
        ),
        (
            json!({"title": "寻求某项技术", "field": "auto", "deadline": "2020-01-01T00:00:00Z"}),
            "deadline",
        ),
        (
            json!({"title": "寻求某项技术", "field": "auto", "budget_max_fen": "lots"}),
            "budget_max_fen",
        ),
    ];
    for (body, field) in cases {
        let r = post_demand(&app, &buyer.token, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{field} in {}",
            r.text
        );
    }
    let unverified = app.member("new@example.cn", "suaee").await;
    let r = post_demand(&app, &unverified.token, aeb_demand()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("organization_unverified"));
}

#[sqlx::test(migrations = "./migrations")]
async fn demands_are_searchable_in_chinese(pool: PgPool) {
    let app = TestApp::new(pool);
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    post_demand(&app, &buyer.token, aeb_demand()).await;
    post_demand(
        &app,
        &buyer.token,
        json!({"title": "重型燃气轮机关键技术合作", "field": "energy"}),
    )
    .await;
    let r = app
        .get(
            "/api/v1/demands?q=%E7%87%83%E6%B0%94%E8%BD%AE%E6%9C%BA",
            None,
        )
        .await; // 燃气轮机
    assert_eq!(r.body["total"], json!(1), "{}", r.text);
    let r = app
        .get("/api/v1/demands?field=auto&province=chongqing", None)
        .await;
    assert_eq!(r.body["total"], json!(1));
    let r = app.get("/api/v1/demands?field=nope", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let page = app.page("/demands?q=%E7%87%83%E6%B0%94", "").await;
    assert!(page.text.contains("重型燃气轮机关键技术合作"));
    assert!(!page.text.contains("寻求自动紧急制动算法"));
}

#[sqlx::test(migrations = "./migrations")]
async fn approving_a_fitting_listing_notifies_the_demand_owner_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app
        .verified_member("seller@sichuan.example", "cdipex")
        .await;
    let buyer = app
        .verified_member("buyer@chongqing.example", "cquaee")
        .await;
    let admin = app.admin("cdipex").await;
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    assert_eq!(d.status, StatusCode::CREATED);
    let l = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            json!({"title": "自动紧急制动（AEB）系统及控制算法", "summary": "基于毫米波雷达与视觉融合的自动紧急制动控制算法。",
                   "description": "目标识别、碰撞风险评估与分级制动控制。", "field": "auto", "ip_type": "know_how", "ip_numbers": [],
                   "trl": 7, "transaction_modes": ["transfer"], "keywords": ["自动紧急制动", "AEB"],
                   "pricing": {"mode": "fixed", "price_fen": 500_000_000}}),
        )
        .await;
    assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
    let id = l.body["id"].as_str().unwrap();
    assert_eq!(
        app.post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&seller.token),
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&admin),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n: i64 = sqlx::query_scalar(
        "select count(*) from notifications where organization_id = $1::uuid and kind = 'match'",
    )
    .bind(&buyer.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(n, 1, "the car maker hears of the new listing");
}

/// The demand form reports every problem at once: an unreadable budget does not hide a missing
/// title until the next submit.
#[sqlx::test(migrations = "./migrations")]
async fn the_demand_form_shows_every_error_at_once(pool: PgPool) {
    let app = TestApp::new(pool);
    app.verified_member("buyer@car.cn", "cquaee").await;
    let cookies = web_login(&app, "buyer@car.cn").await;
    let page = app.page("/demands/new", &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            "/demands/new",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("title", ""),
                ("field", "auto"),
                ("budget_min", "-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let doc = scraper::Html::parse_document(&r.text);
    let sel = scraper::Selector::parse(".field-error").unwrap();
    let errors: Vec<String> = doc.select(&sel).map(|e| e.text().collect()).collect();
    assert!(
        errors.len() >= 2,
        "title and budget both flagged: {errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("负数")), "{errors:?}");
}

/// A demand posted while a fitting listing is being approved: neither transaction sees the other's
/// uncommitted row, so without care the pair is never told. The second to score waits for the first
/// to commit, then finds it: told exactly once.
#[sqlx::test(migrations = "./migrations")]
async fn a_demand_posted_during_a_fitting_listings_approval_is_still_matched(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("auto@sichuan.example", "cdipex").await;
    let buyer = app.verified_member("car@chongqing.example", "cquaee").await;
    let aeb = insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    sqlx::query("update listings set status = 'pending_review', listed_at = null where id = $1")
        .bind(aeb)
        .execute(&app.pool)
        .await
        .unwrap();
    let approve = async {
        // As the review does: listed, then the demands scored, in one transaction; held open a
        // while so that the demand arrives in between.
        let mut tx = app.pool.begin().await.unwrap();
        sqlx::query("update listings set status = 'listed', listed_at = now() where id = $1")
            .bind(aeb)
            .execute(&mut *tx)
            .await
            .unwrap();
        let sent = techmarket::service::demands::on_listing_listed(&mut tx, aeb)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        tx.commit().await.unwrap();
        sent
    };
    let post = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        post_demand(&app, &buyer.token, aeb_demand()).await
    };
    let (sent, d) = tokio::join!(approve, post);
    assert_eq!(
        sent, 0,
        "the demand was not there yet when the listing was scored"
    );
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let told: i64 = sqlx::query_scalar(
        "select count(*) from notifications where kind = 'match' and dedupe_key like $1",
    )
    .bind(format!("match:{}:{aeb}:%", d.body["id"].as_str().unwrap()))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, 1, "the pair is told once");
}

#[sqlx::test(migrations = "./migrations")]
async fn a_budget_with_one_bound_reads_as_words_with_full_width_punctuation(pool: PgPool) {
    let app = TestApp::new(pool);
    let buyer = app
        .verified_member("budget@chongqing.example", "cquaee")
        .await;
    for (title, min, max) in [
        ("寻求上限预算的技术", None, Some(20_000_000_000i64)),
        ("寻求下限预算的技术", Some(50_000_000i64), None),
    ] {
        let d = post_demand(
            &app,
            &buyer.token,
            json!({"title": title, "field": "auto", "budget_min_fen": min, "budget_max_fen": max}),
        )
        .await;
        assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    }
    let page = app.page("/demands", "").await;
    assert!(
        page.text.contains("预算："),
        "full-width colon: {}",
        page.text
    );
    assert!(!page.text.contains("预算:"));
    assert!(!page.text.contains("— ~"), "no dash for a missing bound");
    assert!(!page.text.contains("~ —"));
    assert!(page.text.contains("不超过"), "{}", page.text);
    assert!(page.text.contains("起"), "{}", page.text);
    let page = app.page("/demands?lang=en", "").await;
    assert!(page.text.contains("up to "), "{}", page.text);
    assert!(page.text.contains("from "), "{}", page.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_favicon_is_linked_and_served_also_as_favicon_ico(pool: PgPool) {
    let app = TestApp::new(pool);
    let home = app.page("/demands", "").await;
    assert!(home
        .text
        .contains(r#"<link rel="icon" href="/static/favicon.svg""#));
    for uri in ["/static/favicon.svg", "/favicon.ico"] {
        let r = app.page(uri, "").await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(r.text.contains("<svg"), "{uri}: {}", r.text);
    }
}
