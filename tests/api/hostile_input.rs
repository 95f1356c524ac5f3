//! Hostile input on every route that reads a body, and in every text and amount field: a clear 4xx
//! that changes nothing, or text stored verbatim and shown escaped on the pages.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

/// Every operation of the document with a JSON body: (method, path with ids filled in).
async fn json_routes(app: &TestApp) -> Vec<(Method, String)> {
    let doc = app.get("/api/v1/openapi.json", None).await.body;
    let id = uuid::Uuid::now_v7().to_string();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["requestBody"]["content"]["application/json"].is_object() {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                out.push((m, path.replace("{id}", &id)));
            }
        }
    }
    assert!(out.len() >= 12, "{} routes with a JSON body", out.len());
    out
}

async fn raw(app: &TestApp, method: Method, uri: &str, token: &str, body: Vec<u8>) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if !token.is_empty() {
        b = b.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(b.body(Body::from(body)).unwrap()).await
}

/// Tokens that get each route past authorization to its body: an admin for `/admin/`, else a member.
struct Callers {
    member: String,
    admin: String,
}

impl Callers {
    async fn new(app: &TestApp) -> Self {
        let member = app.verified_member("body@example.cn", "suaee").await.token;
        let admin = app.admin("cquaee").await;
        Callers { member, admin }
    }

    fn for_path(&self, path: &str) -> &str {
        if path.starts_with("/api/v1/admin/") {
            &self.admin
        } else if path.starts_with("/api/v1/auth/") {
            ""
        } else {
            &self.member
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn every_json_route_answers_413_to_a_body_over_one_mebibyte(pool: PgPool) {
    let app = TestApp::new(pool);
    let callers = Callers::new(&app).await;
    let big = format!("{{\"title\": \"{}\"}}", "长".repeat(400_000)).into_bytes();
    assert!(big.len() > 1024 * 1024);
    for (method, path) in json_routes(&app).await {
        let r = raw(
            &app,
            method.clone(),
            &path,
            callers.for_path(&path),
            big.clone(),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{method} {path}: {}",
            r.text
        );
        assert_eq!(
            r.body["error"]["code"],
            json!("payload_too_large"),
            "{method} {path}"
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn deep_nesting_invalid_utf8_and_nul_bytes_in_bodies_are_400_on_every_json_route(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let callers = Callers::new(&app).await;
    let deep_arrays = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)).into_bytes();
    let deep_objects =
        format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)).into_bytes();
    let bad_utf8 = b"{\"title\": \"\xff\xfe\xfd\", \"email\": \"\xc0\xaf\"}".to_vec();
    let raw_nul = b"{\"title\": \"a\x00b\"}".to_vec();
    for (method, path) in json_routes(&app).await {
        // Valid JSON nested too deep: refused as malformed (serde_json's depth limit), or as the
        // wrong type when the outer value already is (422); never a 5xx or a stack overflow.
        for (what, body) in [
            ("200,000 nested arrays", &deep_arrays),
            ("100,000 nested objects", &deep_objects),
        ] {
            let r = raw(
                &app,
                method.clone(),
                &path,
                callers.for_path(&path),
                body.clone(),
            )
            .await;
            // (Deep objects under a member a route ignores are valid JSON it reads past: the
            // rejection then looks up its made-up id, 404.)
            let ok = [
                StatusCode::BAD_REQUEST,
                StatusCode::UNPROCESSABLE_ENTITY,
                StatusCode::NOT_FOUND,
            ];
            assert!(
                ok.contains(&r.status),
                "{what}: {method} {path}: {}",
                r.text
            );
            assert!(
                r.body["error"]["code"].is_string(),
                "{what}: {method} {path}"
            );
        }
        for (what, body) in [("invalid UTF-8", &bad_utf8), ("a raw NUL byte", &raw_nul)] {
            let r = raw(
                &app,
                method.clone(),
                &path,
                callers.for_path(&path),
                body.clone(),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{what}: {method} {path}: {}",
                r.text
            );
            assert_eq!(
                r.body["error"]["code"],
                json!("malformed_json"),
                "{what}: {method} {path}"
            );
        }
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 2);
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn listing(title: &str, n: u32) -> Value {
    json!({
        "title": title,
        "summary": "一项示例科技成果。",
        "description": "第一段介绍。",
        "field": "ic",
        "ip_type": "invention_patent",
        "ip_numbers": [techmarket::service::listings::patent_number(2023, '1', 9000 + n)],
        "trl": 6,
        "transaction_modes": ["transfer"],
        "keywords": ["芯片"],
        "pricing": {"mode": "negotiable", "price_fen": 100_000_000}
    })
}

/// Puts a draft listing on the market directly (the review flow is tested elsewhere), optionally
/// as an open auction.
async fn list_it(app: &TestApp, id: &str, auction: bool) {
    let mode = if auction { "auction" } else { "negotiable" };
    sqlx::query("update listings set status = 'listed', listed_at = now(), pricing_mode = $2 where id = $1::uuid")
        .bind(id)
        .bind(mode)
        .execute(&app.pool)
        .await
        .unwrap();
    if auction {
        sqlx::query(
            "insert into auctions (listing_id, status, start_price_fen, increment_fen, ends_at, extension_seconds, opened_at) \
             values ($1::uuid, 'open', 1000000, 100000, now() + interval '1 day', 300, now())",
        )
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn amounts_of_ten_to_the_twentieth_minus_one_and_zero_are_refused_and_change_nothing(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@example.cn", "suaee").await;
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let admin = app.admin("cdipex").await;
    let negotiable = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing("可谈价的芯片", 1),
        )
        .await;
    let negotiable = negotiable.body["id"].as_str().unwrap().to_string();
    list_it(&app, &negotiable, false).await;
    let auction = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing("拍卖的芯片技术", 2),
        )
        .await;
    let auction = auction.body["id"].as_str().unwrap().to_string();
    list_it(&app, &auction, true).await;
    let open = app
        .post(
            &format!("/api/v1/listings/{negotiable}/offers"),
            Some(&buyer.token),
            json!({"amount_fen": 50_000_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(open.status, StatusCode::CREATED, "{}", open.text);
    let offer = open.body["id"].as_str().unwrap().to_string();
    let (listings, offers, bids, schedules, demands) = (
        count(&app, "listings").await,
        count(&app, "offers").await,
        count(&app, "bids").await,
        count(&app, "fee_schedules").await,
        count(&app, "demands").await,
    );

    // 10^20 does not fit an i64: it is named as a wrong value, never wrapped or saturated.
    let huge: Value = serde_json::from_str("100000000000000000000").unwrap();
    for bad in [huge.clone(), json!(-1), json!(0), json!(1.5), json!("100")] {
        let cases: Vec<(String, &str, Value, &str)> = vec![
            (
                format!("/api/v1/listings/{negotiable}/offers"),
                &buyer.token,
                json!({"amount_fen": bad, "transaction_mode": "transfer"}),
                "amount_fen",
            ),
            (
                format!("/api/v1/offers/{offer}/counter"),
                &seller.token,
                json!({"amount_fen": bad}),
                "amount_fen",
            ),
            (
                format!("/api/v1/listings/{auction}/bids"),
                &buyer.token,
                json!({"amount_fen": bad}),
                "amount_fen",
            ),
            (
                "/api/v1/listings".into(),
                &seller.token,
                {
                    let mut l = listing("价格不对的芯片", 3);
                    l["pricing"] = json!({"mode": "fixed", "price_fen": bad});
                    l
                },
                "pricing.price_fen",
            ),
            (
                "/api/v1/listings".into(),
                &seller.token,
                {
                    let mut l = listing("起拍价不对的芯片", 4);
                    l["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": bad, "increment_fen": 100,
                      "ends_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()}});
                    l
                },
                "pricing.auction.start_price_fen",
            ),
            (
                "/api/v1/demands".into(),
                &buyer.token,
                json!({"title": "寻求芯片技术", "field": "ic", "budget_max_fen": bad}),
                "budget_max_fen",
            ),
            (
                "/api/v1/admin/fee-schedules".into(),
                &admin,
                json!({"name": "坏的收费标准", "buyer": {"bands": [{"up_to_fen": null, "rate_ppm": 1000}], "min_fee_fen": bad, "max_fee_fen": null},
                       "seller": {"bands": [{"up_to_fen": null, "rate_ppm": 1000}], "min_fee_fen": 0, "max_fee_fen": null}}),
                "buyer.min_fee_fen",
            ),
        ];
        for (uri, token, body, field) in cases {
            let r = app.post(&uri, Some(token), body).await;
            if bad == json!(0) && field.ends_with("min_fee_fen") {
                // A minimum fee of zero is allowed; that draft is made (and counted below).
                assert_eq!(r.status, StatusCode::CREATED, "{uri}: {}", r.text);
                continue;
            }
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{bad} at {uri}: {}",
                r.text
            );
            assert!(
                r.body["error"]["fields"][field].is_string(),
                "{bad} at {uri}: {}",
                r.text
            );
        }
    }
    for q in [
        "amount_fen=-1",
        "amount_fen=0",
        "amount_fen=100000000000000000000",
        "amount_fen=1.5",
    ] {
        let r = app.get(&format!("/api/v1/fees/quote?{q}"), None).await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            r.text
        );
    }
    assert_eq!(count(&app, "listings").await, listings);
    assert_eq!(count(&app, "offers").await, offers);
    assert_eq!(count(&app, "bids").await, bids);
    assert_eq!(count(&app, "demands").await, demands);
    assert_eq!(count(&app, "fee_schedules").await, schedules + 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_nul_character_in_any_text_field_is_a_4xx_and_stores_nothing(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.verified_member("nul@example.cn", "suaee").await;
    let admin = app.admin("cquaee").await;
    let nul = "含\u{0}空字符";
    let mut cases: Vec<(&str, Option<&str>, Value)> = Vec::new();
    for field in ["title", "summary", "description"] {
        let mut l = listing("正常的标题", 20);
        l[field] = json!(format!("{nul}的内容四个字"));
        cases.push(("/api/v1/listings", Some(&m.token), l));
    }
    for field in ["keywords", "ip_numbers"] {
        let mut l = listing("正常的标题", 21);
        l[field] = json!([nul]);
        cases.push(("/api/v1/listings", Some(&m.token), l));
    }
    for (field, value) in [
        ("title", json!(format!("寻求{nul}技术"))),
        ("description", json!(nul)),
        ("keywords", json!([nul])),
    ] {
        let mut d = json!({"title": "寻求某项技术", "field": "ic"});
        d[field] = value;
        cases.push(("/api/v1/demands", Some(&m.token), d));
    }
    for path in ["email", "display_name", "organization.name"] {
        let mut r = json!({"email": "new@example.cn", "password": PASSWORD, "display_name": "新用户",
            "organization": {"name": "新的机构", "kind": "individual", "province": "sichuan", "exchange": "suaee"}});
        match path.split_once('.') {
            Some((a, b)) => r[a][b] = json!(nul),
            None => r[path] = json!(format!("{nul}@example.cn")),
        }
        cases.push(("/api/v1/auth/register", None, r));
    }
    let org = m.org_id.clone();
    let restrict = format!("/api/v1/admin/organizations/{org}/restrictions");
    cases.push((&restrict, Some(&admin), json!({"reason": nul})));
    cases.push((
        "/api/v1/admin/fee-schedules",
        Some(&admin),
        json!({"name": nul, "buyer": {"bands": [{"up_to_fen": null, "rate_ppm": 1000}], "min_fee_fen": 0, "max_fee_fen": null},
               "seller": {"bands": [{"up_to_fen": null, "rate_ppm": 1000}], "min_fee_fen": 0, "max_fee_fen": null}}),
    ));
    let before = [
        count(&app, "listings").await,
        count(&app, "demands").await,
        count(&app, "users").await,
        count(&app, "org_restrictions").await,
        count(&app, "fee_schedules").await,
    ];
    for (uri, token, body) in cases {
        let r = app.post(uri, token, body.clone()).await;
        assert!(
            r.status.is_client_error(),
            "{uri} {body}: {} {}",
            r.status,
            r.text
        );
        assert!(r.body["error"]["code"].is_string(), "{uri}: {}", r.text);
    }
    let after = [
        count(&app, "listings").await,
        count(&app, "demands").await,
        count(&app, "users").await,
        count(&app, "org_restrictions").await,
        count(&app, "fee_schedules").await,
    ];
    assert_eq!(before, after);
}

const SCRIPT: &str = "<script>alert('xss')</script>";
const SQL: &str = "'; drop table listings; --";
const ATTR: &str = "\" onmouseover=\"alert(1)\" x=\"";
const IMG: &str = "<img src=x onerror=alert(1)>";

/// The page shows `text` as text: never raw in the HTML, present in what a reader sees, and no
/// script or event handler came of it.
fn shows_escaped(page: &Resp, text: &str, what: &str) {
    assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.text);
    assert!(
        !page.text.contains(text),
        "{what}: raw {text:?} in the page"
    );
    let doc = scraper::Html::parse_document(&page.text);
    let shown: String = doc.root_element().text().collect();
    assert!(shown.contains(text), "{what}: {text:?} is not shown");
    let scripts = scraper::Selector::parse("script").unwrap();
    assert!(
        doc.select(&scripts)
            .all(|s| !s.inner_html().contains("alert")),
        "{what}: a script ran"
    );
    let handlers = scraper::Selector::parse("[onmouseover], [onerror]").unwrap();
    assert_eq!(
        doc.select(&handlers).count(),
        0,
        "{what}: an attribute was injected"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn injection_strings_are_stored_verbatim_and_shown_escaped_on_the_pages(pool: PgPool) {
    let app = TestApp::new(pool);
    // Registration: the names are kept as sent and shown escaped to the member and the admin.
    let reg = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "evil@example.cn", "password": PASSWORD, "display_name": SCRIPT,
                   "organization": {"name": format!("{SQL}{ATTR}"), "kind": "enterprise", "province": "sichuan",
                                    "exchange": "suaee", "credit_code": credit_code(4242)}}),
        )
        .await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.text);
    assert_eq!(reg.body["user"]["display_name"], json!(SCRIPT));
    assert_eq!(
        reg.body["organization"]["name"],
        json!(format!("{SQL}{ATTR}"))
    );
    let token = app.login("evil@example.cn", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let member = web_login(&app, "evil@example.cn").await;
    let account = app.page("/account", &member).await;
    shows_escaped(&account, SCRIPT, "account: display name");
    shows_escaped(&account, &format!("{SQL}{ATTR}"), "account: organisation");
    let admin = app.admin("suaee").await;
    let admin_cookies = web_login(&app, "admin-suaee@test.example").await;
    shows_escaped(
        &app.page("/admin", &admin_cookies).await,
        &format!("{SQL}{ATTR}"),
        "admin: verification queue",
    );
    let org = reg.body["organization"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/v1/admin/organizations/{org}/verify"),
        Some(&admin),
        json!({}),
    )
    .await;

    // A listing whose every text field is hostile.
    let mut l = listing(&format!("芯片{SCRIPT}"), 30);
    l["summary"] = json!(format!("摘要{ATTR}"));
    l["description"] = json!(format!("描述{SQL}\n\n{SCRIPT}"));
    l["keywords"] = json!([SCRIPT, SQL]);
    let r = app.post("/api/v1/listings", Some(&token), l).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let stored = app
        .get(&format!("/api/v1/listings/{id}"), Some(&token))
        .await
        .body;
    assert_eq!(stored["title"], json!(format!("芯片{SCRIPT}")));
    assert_eq!(stored["summary"], json!(format!("摘要{ATTR}")));
    assert_eq!(
        stored["description"],
        json!(format!("描述{SQL}\n\n{SCRIPT}"))
    );
    assert_eq!(stored["keywords"], json!([SCRIPT, SQL]));
    list_it(&app, &id, false).await;
    let page = app.page(&format!("/listings/{id}"), &member).await;
    shows_escaped(&page, SCRIPT, "listing page: title");
    shows_escaped(&page, ATTR, "listing page: summary");
    shows_escaped(&page, SQL, "listing page: description");
    let search = app
        .page(&format!("/listings?q={}", url_encode("芯片")), "")
        .await;
    shows_escaped(&search, SCRIPT, "search results");

    // A demand, a restriction reason, a fee schedule name.
    let d = app
        .post(
            "/api/v1/demands",
            Some(&token),
            json!({"title": format!("寻求{SCRIPT}"), "description": SQL, "field": "ic", "keywords": [ATTR]}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let did = d.body["id"].as_str().unwrap();
    let page = app.page(&format!("/demands/{did}"), &member).await;
    shows_escaped(&page, SCRIPT, "demand page: title");
    shows_escaped(&page, SQL, "demand page: description");
    let reason = format!("理由{SCRIPT}");
    let r = app
        .post(
            &format!("/api/v1/admin/organizations/{org}/restrictions"),
            Some(&admin),
            json!({"reason": reason}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["reason"], json!(reason));
    shows_escaped(
        &app.page("/admin/restrictions", &admin_cookies).await,
        SCRIPT,
        "restrictions page",
    );
    let side = json!({"bands": [{"up_to_fen": null, "rate_ppm": 1000}], "min_fee_fen": 0, "max_fee_fen": null});
    let f = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&admin),
            json!({"name": format!("标准{IMG}"), "buyer": side, "seller": side}),
        )
        .await;
    assert_eq!(f.status, StatusCode::CREATED, "{}", f.text);
    assert_eq!(f.body["name"], json!(format!("标准{IMG}")));
    shows_escaped(
        &app.page("/admin/fees", &admin_cookies).await,
        IMG,
        "fee schedules of the admin pages",
    );

    // And the tables are all there.
    for table in [
        "users",
        "organizations",
        "listings",
        "demands",
        "fee_schedules",
    ] {
        assert!(count(&app, table).await >= 1, "{table}");
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
