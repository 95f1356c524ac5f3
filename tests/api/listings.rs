//! Listings: drafting, review, search, pages.
use std::sync::atomic::{AtomicU32, Ordering};

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

static SERIAL: AtomicU32 = AtomicU32::new(1);

/// A fresh valid invention patent number (never used by another listing of the test).
fn patent() -> String {
    techmarket::service::listings::patent_number(2021, '1', SERIAL.fetch_add(1, Ordering::SeqCst))
}

fn body(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "一项示例科技成果。",
        "description": "第一段介绍。\n\n第二段介绍。",
        "field": "ic",
        "ip_type": "invention_patent",
        "ip_numbers": [patent()],
        "trl": 6,
        "transaction_modes": ["transfer", "nonexclusive_license"],
        "keywords": ["示例"],
        "pricing": {"mode": "fixed", "price_fen": 350_000_000i64}
    })
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

struct Market {
    app: TestApp,
    admins: std::collections::HashMap<&'static str, String>,
}

impl Market {
    async fn new(pool: PgPool) -> Self {
        let app = TestApp::new(pool);
        let mut admins = std::collections::HashMap::new();
        for ex in ["suaee", "cdipex", "nttc_sw", "cquaee"] {
            admins.insert(ex, app.admin(ex).await);
        }
        Market { app, admins }
    }

    async fn create(&self, m: &Member, body: Value) -> String {
        let r = self
            .app
            .post("/api/v1/listings", Some(&m.token), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    }

    async fn submit(&self, m: &Member, id: &str) {
        let r = self
            .app
            .post(
                &format!("/api/v1/listings/{id}/submit"),
                Some(&m.token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], json!("pending_review"));
    }

    async fn approve(&self, exchange: &str, id: &str) -> Resp {
        self.app
            .post(
                &format!("/api/v1/admin/listings/{id}/review"),
                Some(&self.admins[exchange]),
                json!({"decision": "approve"}),
            )
            .await
    }

    /// Create, submit and approve: a listed listing.
    async fn publish(&self, m: &Member, exchange: &str, body: Value) -> String {
        let id = self.create(m, body).await;
        self.submit(m, &id).await;
        let r = self.approve(exchange, &id).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], json!("listed"));
        id
    }

    async fn search(&self, query: &str) -> Resp {
        let r = self
            .app
            .get(&format!("/api/v1/listings?{query}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        r
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn titles(r: &Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

async fn demo_market(pool: PgPool) -> (Market, Member, Member) {
    let mk = Market::new(pool).await;
    let chip = mk.app.verified_member("chip@uni.example", "cdipex").await;
    let turbine = mk.app.verified_member("turbine@uni.example", "suaee").await;
    let mut adc = body("高速高精度流水线模数转换器芯片");
    adc["summary"] = json!("14位250MSPS流水线ADC chip。");
    adc["ip_numbers"] = json!(["ZL201710601862.3"]);
    mk.publish(&chip, "cdipex", adc).await;
    let mut gt = body("F级50兆瓦重型燃气轮机");
    gt["field"] = json!("aerospace");
    gt["description"] = json!("Heavy-duty F-class Gas Turbine for peak-load power plants.");
    gt["pricing"] = json!({"mode": "negotiable"});
    mk.publish(&turbine, "suaee", gt).await;
    let mut rail = body("山区齿轨列车关键技术");
    rail["field"] = json!("rail");
    rail["ip_type"] = json!("utility_model");
    rail["ip_numbers"] = json!(["ZL202320123456.1"]);
    mk.publish(&turbine, "suaee", rail).await;
    (mk, chip, turbine)
}

#[sqlx::test(migrations = "./migrations")]
async fn chinese_english_and_patent_number_queries_find_their_listings(pool: PgPool) {
    let (mk, _, _) = demo_market(pool).await;
    for (q, want) in [
        ("燃气轮机", "F级50兆瓦重型燃气轮机"),
        ("芯片", "高速高精度流水线模数转换器芯片"),
        ("模数转换", "高速高精度流水线模数转换器芯片"),
        ("齿轨", "山区齿轨列车关键技术"),
        ("TURBINE", "F级50兆瓦重型燃气轮机"),
        ("gas turbine", "F级50兆瓦重型燃气轮机"),
        ("adc", "高速高精度流水线模数转换器芯片"),
        ("ZL201710601862.3", "高速高精度流水线模数转换器芯片"),
        ("201710601862.3", "高速高精度流水线模数转换器芯片"),
        ("2017106018623", "高速高精度流水线模数转换器芯片"),
        ("CN2017106018623", "高速高精度流水线模数转换器芯片"),
    ] {
        let r = mk.search(&format!("q={}", enc(q))).await;
        assert_eq!(titles(&r), vec![want.to_string()], "q={q}");
        assert_eq!(r.body["total"], json!(1), "q={q}");
    }
    for q in ["汽轮机", "数模转换", "201710601863", "steam turbine"] {
        let r = mk.search(&format!("q={}", enc(q))).await;
        assert_eq!(r.body["total"], json!(0), "q={q} should find nothing");
    }
    // Punctuation only: nothing searchable, nothing found, no error.
    let r = mk.search(&format!("q={}", enc("，。'&|"))).await;
    assert_eq!(r.body["total"], json!(0));
    // Without q: every listed listing, newest first.
    let r = mk.search("").await;
    assert_eq!(r.body["total"], json!(3));
    assert_eq!(titles(&r)[0], "山区齿轨列车关键技术");
}

#[sqlx::test(migrations = "./migrations")]
async fn drafts_pending_rejected_and_withdrawn_listings_are_never_found(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "suaee").await;
    let draft = mk.create(&m, body("燃气轮机草稿一号")).await;
    let pending = mk.create(&m, body("燃气轮机待审二号")).await;
    mk.submit(&m, &pending).await;
    let rejected = mk.create(&m, body("燃气轮机驳回三号")).await;
    mk.submit(&m, &rejected).await;
    let r = mk
        .app
        .post(
            &format!("/api/v1/admin/listings/{rejected}/review"),
            Some(&mk.admins["suaee"]),
            json!({"decision": "reject", "reason": "材料不全"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let listed = mk.publish(&m, "suaee", body("燃气轮机挂牌四号")).await;
    let withdrawn = mk.publish(&m, "suaee", body("燃气轮机撤回五号")).await;
    let r = mk
        .app
        .post(
            &format!("/api/v1/listings/{withdrawn}/withdraw"),
            Some(&m.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("withdrawn"));

    let r = mk.search(&format!("q={}", enc("燃气轮机"))).await;
    assert_eq!(titles(&r), vec!["燃气轮机挂牌四号".to_string()]);
    assert_eq!(r.body["total"], json!(1));
    let r = mk.search("").await;
    assert_eq!(r.body["total"], json!(1));
    assert_eq!(r.body["items"][0]["id"], json!(listed));

    // At its address (API.md): a draft only to its owner and admins; the others to anyone, with
    // their status, and the reject reason only to insiders.
    let other = mk.app.member("other@corp.example", "cquaee").await;
    for (id, status) in [
        (&draft, "draft"),
        (&pending, "pending_review"),
        (&rejected, "rejected"),
        (&withdrawn, "withdrawn"),
    ] {
        let public = status != "draft";
        let want = if public {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        let r = mk.app.get(&format!("/api/v1/listings/{id}"), None).await;
        assert_eq!(r.status, want, "anonymous {status}");
        if public {
            assert_eq!(r.body["status"], json!(status));
            assert!(r.body["reject_reason"].is_null(), "{}", r.text);
        }
        let r = mk
            .app
            .get(&format!("/api/v1/listings/{id}"), Some(&other.token))
            .await;
        assert_eq!(r.status, want, "other member {status}");
        let r = mk
            .app
            .get(&format!("/api/v1/listings/{id}"), Some(&m.token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "owner {status}");
        if status == "rejected" {
            assert!(r.body["reject_reason"].is_string(), "{}", r.text);
        }
    }
    let r = mk
        .app
        .get(
            &format!("/api/v1/listings/{draft}"),
            Some(&mk.admins["cquaee"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "admins see drafts");
    let r = mk
        .app
        .get(&format!("/api/v1/listings/{listed}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[sqlx::test(migrations = "./migrations")]
async fn relevance_puts_a_title_hit_above_a_description_only_hit(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "cquaee").await;
    let mut in_title = body("微型燃气轮机发电机组");
    in_title["description"] = json!("发电机组说明。");
    let mut in_desc = body("分布式能源站调峰系统");
    in_desc["description"] = json!("系统核心设备为一台燃气轮机，配余热锅炉。");
    // The title hit is older: relevance, not age, puts it first.
    mk.publish(&m, "cquaee", in_title).await;
    mk.publish(&m, "cquaee", in_desc).await;
    let r = mk.search(&format!("q={}", enc("燃气轮机"))).await;
    assert_eq!(
        titles(&r),
        vec![
            "微型燃气轮机发电机组".to_string(),
            "分布式能源站调峰系统".to_string()
        ]
    );
    let r = mk
        .search(&format!("q={}&sort=relevance", enc("燃气轮机")))
        .await;
    assert_eq!(titles(&r)[0], "微型燃气轮机发电机组");
    let r = mk
        .search(&format!("q={}&sort=newest", enc("燃气轮机")))
        .await;
    assert_eq!(titles(&r)[0], "分布式能源站调峰系统");
}

#[sqlx::test(migrations = "./migrations")]
async fn filters_sorts_and_exact_totals_and_pages(pool: PgPool) {
    let mk = Market::new(pool).await;
    let sc = mk.app.verified_member("sc@uni.example", "nttc_sw").await;
    let cq = mk.app.verified_member("cq@uni.example", "cquaee").await;
    // 7 listings in Sichuan (ic, fixed prices 1..7 万元, TRL 3..9), 3 in Chongqing (rail, negotiable / auction).
    for i in 1..=7i64 {
        let mut b = body(&format!("四川芯片成果{i:02}"));
        b["pricing"] = json!({"mode": "fixed", "price_fen": i * 1_000_000});
        b["trl"] = json!(i + 2);
        mk.publish(&sc, "nttc_sw", b).await;
    }
    for i in 1..=2i64 {
        let mut b = body(&format!("重庆轨道成果{i:02}"));
        b["field"] = json!("rail");
        b["pricing"] = json!({"mode": "negotiable", "price_fen": i * 10_000_000});
        mk.publish(&cq, "cquaee", b).await;
    }
    let mut b = body("重庆轨道拍卖成果");
    b["field"] = json!("rail");
    b["ip_type"] = json!("know_how");
    b["ip_numbers"] = json!([]);
    b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 50_000_000i64, "increment_fen": 100_000, "reserve_fen": 80_000_000i64, "ends_at": in_days(10)}});
    mk.publish(&cq, "cquaee", b).await;

    let total = |r: &Resp| r.body["total"].as_i64().unwrap();
    assert_eq!(total(&mk.search("").await), 10);
    assert_eq!(total(&mk.search("province=sichuan").await), 7);
    assert_eq!(total(&mk.search("province=chongqing&field=rail").await), 3);
    assert_eq!(total(&mk.search("exchange=nttc_sw").await), 7);
    assert_eq!(total(&mk.search("ip_type=know_how").await), 1);
    assert_eq!(total(&mk.search("pricing=negotiable").await), 2);
    assert_eq!(total(&mk.search("pricing=auction").await), 1);
    assert_eq!(total(&mk.search("trl_min=7").await), 3);
    let r = mk
        .search("min_price_fen=2000000&max_price_fen=5000000&sort=price_asc")
        .await;
    assert_eq!(
        titles(&r),
        [
            "四川芯片成果02",
            "四川芯片成果03",
            "四川芯片成果04",
            "四川芯片成果05"
        ]
    );
    let r = mk.search("sort=price_desc&per_page=3").await;
    assert_eq!(
        titles(&r),
        ["重庆轨道拍卖成果", "重庆轨道成果02", "重庆轨道成果01"]
    );
    assert_eq!(
        r.body["items"][0]["pricing"]["auction"]["has_reserve"],
        json!(true)
    );
    assert!(
        r.body["items"][0]["pricing"]["auction"]
            .get("reserve_fen")
            .is_none(),
        "the reserve is secret"
    );
    // Pages: exact totals, the last page partial, beyond the end empty.
    let r = mk
        .search("province=sichuan&per_page=3&page=3&sort=price_asc")
        .await;
    assert_eq!(total(&r), 7);
    assert_eq!(titles(&r), ["四川芯片成果07"]);
    let r = mk.search("province=sichuan&per_page=3&page=4").await;
    assert_eq!(total(&r), 7);
    assert!(titles(&r).is_empty());
    let r = mk
        .search(&format!(
            "q={}&per_page=2&page=4&sort=price_asc",
            enc("芯片")
        ))
        .await;
    assert_eq!(total(&r), 7);
    assert_eq!(titles(&r), ["四川芯片成果07"]);
    let r = mk
        .search(&format!("q={}&per_page=2&page=9", enc("芯片")))
        .await;
    assert_eq!(total(&r), 7);
    assert!(titles(&r).is_empty());
    assert_eq!(
        total(
            &mk.search(&format!("q={}&province=chongqing", enc("芯片")))
                .await
        ),
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_search_parameters_are_400_naming_the_parameter(pool: PgPool) {
    let app = TestApp::new(pool);
    for (query, param) in [
        ("field=spaceships", "field"),
        ("province=guangdong", "province"),
        ("exchange=nyse", "exchange"),
        ("ip_type=trademark", "ip_type"),
        ("pricing=free", "pricing"),
        ("min_price_fen=-1", "min_price_fen"),
        ("max_price_fen=abc", "max_price_fen"),
        ("min_price_fen=500&max_price_fen=100", "max_price_fen"),
        ("trl_min=10", "trl_min"),
        ("sort=random", "sort"),
        ("page=0", "page"),
        ("per_page=101", "per_page"),
    ] {
        let r = app.get(&format!("/api/v1/listings?{query}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text);
        assert_eq!(r.body["error"]["code"], json!("invalid_query"), "{query}");
        assert!(
            r.body["error"]["fields"].get(param).is_some(),
            "{query}: {}",
            r.text
        );
    }
    // Empty values (as a GET form sends them) mean "any".
    let r = app
        .get(
            "/api/v1/listings?q=&field=&province=&min_price_fen=&trl_min=&sort=",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The search page names the boxes as the user sees them, never the API's parameter names.
    let r = app
        .page("/listings?min_price_wan=300&max_price_wan=100", "")
        .await;
    assert!(
        r.text
            .contains("最高价格（万元）：最高价格不能低于最低价格。"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("max_price_fen"));
    let r = app.page("/listings?trl_min=99", "").await;
    assert!(r.text.contains("最低技术成熟度："), "{}", r.text);
    assert!(!r.text.contains("trl_min:"));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_page_past_the_last_result_says_so_and_links_back(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("owner@uni.example", "suaee").await;
    mk.publish(&m, "suaee", body("燃气轮机叶片冷却技术")).await;
    let r = mk
        .app
        .page("/listings?q=%E7%87%83%E6%B0%94&page=3", "")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("这一页已超出结果范围。"), "{}", r.text);
    assert!(!r.text.contains("没有找到符合条件的科技成果"));
    assert!(r.text.contains("page=1"));
}

/// A change that makes a valid listing body invalid.
type Mutation = Box<dyn Fn(&mut Value)>;

#[sqlx::test(migrations = "./migrations")]
async fn each_invalid_field_is_422_naming_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.member("draft@uni.example", "suaee").await;
    let long = |n: usize| "长".repeat(n);
    let cases: Vec<(&str, Mutation)> = vec![
        ("title", Box::new(|b| b["title"] = json!("短"))),
        ("title", Box::new(move |b| b["title"] = json!(long(201)))),
        (
            "summary",
            Box::new(move |b| b["summary"] = json!(long(501))),
        ),
        (
            "description",
            Box::new(move |b| b["description"] = json!(long(20_001))),
        ),
        ("field", Box::new(|b| b["field"] = json!("spaceships"))),
        ("ip_type", Box::new(|b| b["ip_type"] = json!("trademark"))),
        (
            "ip_numbers[0]",
            Box::new(|b| b["ip_numbers"] = json!(["202110123456.8"])),
        ),
        ("ip_numbers", Box::new(|b| b["ip_numbers"] = json!([]))),
        (
            "ip_numbers[0]",
            Box::new(|b| {
                b["ip_type"] = json!("know_how");
                b["ip_numbers"] = json!(["a\u{0}b"]);
            }),
        ),
        (
            "title",
            Box::new(|b| b["title"] = json!("标题\u{0}控制字符")),
        ),
        (
            "ip_numbers",
            Box::new(|b| b["ip_numbers"] = json!(["202320123456.1"])),
        ),
        ("trl", Box::new(|b| b["trl"] = json!(0))),
        ("trl", Box::new(|b| b["trl"] = json!(10))),
        (
            "transaction_modes",
            Box::new(|b| b["transaction_modes"] = json!([])),
        ),
        (
            "transaction_modes[1]",
            Box::new(|b| b["transaction_modes"] = json!(["transfer", "rent"])),
        ),
        (
            "keywords",
            Box::new(|b| b["keywords"] = json!(vec!["词"; 21])),
        ),
        (
            "keywords[0]",
            Box::new(move |b| b["keywords"] = json!([long(31)])),
        ),
        (
            "keywords[1]",
            Box::new(|b| b["keywords"] = json!(["好", " "])),
        ),
        (
            "pricing.mode",
            Box::new(|b| b["pricing"] = json!({"mode": "barter"})),
        ),
        (
            "pricing.price_fen",
            Box::new(|b| b["pricing"] = json!({"mode": "fixed"})),
        ),
        (
            "pricing.price_fen",
            Box::new(|b| b["pricing"] = json!({"mode": "fixed", "price_fen": 0})),
        ),
        (
            "pricing.price_fen",
            Box::new(|b| {
                b["pricing"] = json!({"mode": "fixed", "price_fen": 100_000_000_000_001i64})
            }),
        ),
        (
            "pricing.price_fen",
            Box::new(|b| b["pricing"] = json!({"mode": "negotiable", "price_fen": -5})),
        ),
        (
            "pricing.auction",
            Box::new(|b| b["pricing"] = json!({"mode": "auction"})),
        ),
        (
            "pricing.auction.start_price_fen",
            Box::new(
                |b| b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 0, "increment_fen": 1, "ends_at": in_days(3)}}),
            ),
        ),
        (
            "pricing.auction.increment_fen",
            Box::new(
                |b| b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 100, "increment_fen": 0, "ends_at": in_days(3)}}),
            ),
        ),
        (
            "pricing.auction.reserve_fen",
            Box::new(
                |b| b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 100, "increment_fen": 1, "reserve_fen": 99, "ends_at": in_days(3)}}),
            ),
        ),
        (
            "pricing.auction.ends_at",
            Box::new(
                |b| b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 100, "increment_fen": 1, "ends_at": in_days(-1)}}),
            ),
        ),
        (
            "pricing.auction.ends_at",
            Box::new(
                |b| b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 100, "increment_fen": 1, "ends_at": in_days(91)}}),
            ),
        ),
        (
            "pricing.auction.extension_seconds",
            Box::new(
                |b| b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 100, "increment_fen": 1, "ends_at": in_days(3), "extension_seconds": 7200}}),
            ),
        ),
        ("trl", Box::new(|b| b["trl"] = json!("six"))),
        (
            "title",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("title");
            }),
        ),
    ];
    for (path, mutate) in cases {
        let mut b = body("合法的成果名称");
        mutate(&mut b);
        let r = app.post("/api/v1/listings", Some(&m.token), b).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text
        );
        assert!(
            r.body["error"]["fields"].get(path).is_some(),
            "expected {path} in {}",
            r.text
        );
    }
    // And a valid one is a 201 draft with the organisation's exchange and province.
    let r = app
        .post("/api/v1/listings", Some(&m.token), body("合法的成果名称"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], json!("draft"));
    assert_eq!(r.body["exchange"], json!("suaee"));
    assert_eq!(r.body["province"], json!("sichuan"));
    assert_eq!(r.body["organization"]["id"], json!(m.org_id));
    assert_eq!(r.body["pricing"]["price_fen"], json!(350_000_000i64));
    // Anonymous drafting is 401; admins have no organisation (403).
    let r = app
        .post("/api/v1/listings", None, body("合法的成果名称"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "./migrations")]
async fn editing_someone_elses_listing_is_refused(pool: PgPool) {
    let mk = Market::new(pool).await;
    let owner = mk.app.verified_member("owner@uni.example", "suaee").await;
    let other = mk.app.verified_member("other@corp.example", "suaee").await;
    let draft = mk.create(&owner, body("别人的草稿成果")).await;
    let listed = mk.publish(&owner, "suaee", body("别人的挂牌成果")).await;
    let patch = json!({"title": "被篡改的标题"});
    let r = mk
        .app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{draft}"),
            Some(&other.token),
            Some(patch.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a draft they cannot see");
    let r = mk
        .app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{listed}"),
            Some(&other.token),
            Some(patch.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    for action in ["submit", "withdraw"] {
        let r = mk
            .app
            .post(
                &format!("/api/v1/listings/{listed}/{action}"),
                Some(&other.token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
    }
    let r = mk
        .app
        .get(&format!("/api/v1/listings/{draft}"), Some(&owner.token))
        .await;
    assert_eq!(r.body["title"], json!("别人的草稿成果"));

    // The owner may edit a draft (partial update, re-validated) but not a listed one.
    let r = mk
        .app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{draft}"),
            Some(&owner.token),
            Some(json!({"trl": 8, "keywords": ["新词"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["trl"], json!(8));
    assert_eq!(r.body["title"], json!("别人的草稿成果"));
    let r = mk
        .app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{draft}"),
            Some(&owner.token),
            Some(json!({"pricing": {"mode": "fixed"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = mk
        .app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{listed}"),
            Some(&owner.token),
            Some(patch),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("listing_not_editable"));
    // Submitting a listed listing again: 409.
    let r = mk
        .app
        .post(
            &format!("/api/v1/listings/{listed}/submit"),
            Some(&owner.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[sqlx::test(migrations = "./migrations")]
async fn only_an_admin_of_the_home_exchange_reviews(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "cdipex").await;
    let id = mk.create(&m, body("待审核的芯片成果")).await;
    mk.submit(&m, &id).await;
    let uri = format!("/api/v1/admin/listings/{id}/review");
    for ex in ["suaee", "nttc_sw", "cquaee"] {
        let r = mk
            .app
            .post(&uri, Some(&mk.admins[ex]), json!({"decision": "approve"}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{ex}: {}", r.text);
    }
    let r = mk
        .app
        .post(&uri, Some(&m.token), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a member");
    // The queue of the right exchange shows it; another exchange's does not.
    let q = mk
        .app
        .get(
            "/api/v1/admin/listings?status=pending_review",
            Some(&mk.admins["cdipex"]),
        )
        .await;
    assert_eq!(q.body["total"], json!(1), "{}", q.text);
    let q = mk
        .app
        .get("/api/v1/admin/listings", Some(&mk.admins["suaee"]))
        .await;
    assert_eq!(q.body["total"], json!(0));
    // Bad decisions are 422; rejecting needs a reason.
    let admin = &mk.admins["cdipex"];
    let r = mk
        .app
        .post(&uri, Some(admin), json!({"decision": "maybe"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"].get("decision").is_some());
    let r = mk
        .app
        .post(&uri, Some(admin), json!({"decision": "reject"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"].get("reason").is_some());
    let r = mk
        .app
        .post(&uri, Some(admin), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("listed"));
    assert!(r.body["listed_at"].is_string());
    let r = mk
        .app
        .post(&uri, Some(admin), json!({"decision": "approve"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "already reviewed");
}

#[sqlx::test(migrations = "./migrations")]
async fn an_unverified_or_restricted_organisation_cannot_submit(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.member("new@uni.example", "suaee").await;
    let id = mk.create(&m, body("未认证机构的成果")).await;
    let r = mk
        .app
        .post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&m.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("organization_unverified"));
    sqlx::query("update organizations set verified_at = now() where id = $1::uuid")
        .bind(&m.org_id)
        .execute(&mk.app.pool)
        .await
        .unwrap();
    sqlx::query("insert into org_restrictions (id, organization_id, reason) values (gen_random_uuid(), $1::uuid, '失信')")
        .bind(&m.org_id)
        .execute(&mk.app.pool)
        .await
        .unwrap();
    let r = mk
        .app
        .post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&m.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("organization_restricted"));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_rejection_reaches_the_owner_with_its_reason_and_is_audited(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "nttc_sw").await;
    let id = mk.create(&m, body("需要补充材料的成果")).await;
    mk.submit(&m, &id).await;
    let r = mk
        .app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&mk.admins["nttc_sw"]),
            json!({"decision": "reject", "reason": "请补充专利权属证明"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("rejected"));
    let r = mk
        .app
        .get(&format!("/api/v1/listings/{id}"), Some(&m.token))
        .await;
    assert_eq!(r.body["reject_reason"], json!("请补充专利权属证明"));
    // The owner organisation's inbox has it, linking to the listing.
    let (title, link): (String, String) = sqlx::query_as(
        "select title_zh, link from notifications where organization_id = $1::uuid and kind = 'listing.rejected'",
    )
    .bind(&m.org_id)
    .fetch_one(&mk.app.pool)
    .await
    .unwrap();
    assert!(title.contains("需要补充材料的成果"), "{title}");
    assert_eq!(link, format!("/listings/{id}"));
    // Edit and resubmit, then approval notifies too.
    let r = mk
        .app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{id}"),
            Some(&m.token),
            Some(json!({"summary": "已补充权属证明。"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    mk.submit(&m, &id).await;
    let r = mk.approve("nttc_sw", &id).await;
    assert_eq!(r.status, StatusCode::OK);
    let kinds: Vec<String> = sqlx::query_scalar(
        "select kind from notifications where organization_id = $1::uuid order by id",
    )
    .bind(&m.org_id)
    .fetch_all(&mk.app.pool)
    .await
    .unwrap();
    assert_eq!(kinds, ["listing.rejected", "listing.approved"]);
    // Every step is in the audit log.
    let audit = mk
        .app
        .get(
            "/api/v1/admin/audit?target_type=listing",
            Some(&mk.admins["suaee"]),
        )
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "listing.approve",
            "listing.submit",
            "listing.reject",
            "listing.submit"
        ]
    );
    assert_eq!(
        audit.body["items"][0]["actor"],
        json!("admin-nttc_sw@test.example")
    );
    assert_eq!(audit.body["items"][1]["actor"], json!("m@uni.example"));
}

#[sqlx::test(migrations = "./migrations")]
async fn approving_an_auction_opens_it_and_the_reserve_stays_secret(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "suaee").await;
    let mut b = body("拍卖的燃气轮机叶片");
    b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 1_000_000, "increment_fen": 10_000, "reserve_fen": 2_000_000, "ends_at": in_days(5)}});
    let id = mk.create(&m, b).await;
    let status: String =
        sqlx::query_scalar("select status from auctions where listing_id = $1::uuid")
            .bind(&id)
            .fetch_one(&mk.app.pool)
            .await
            .unwrap();
    assert_eq!(status, "scheduled");
    mk.submit(&m, &id).await;
    let r = mk.approve("suaee", &id).await;
    assert_eq!(r.status, StatusCode::OK);
    let (status, opened): (String, bool) = sqlx::query_as(
        "select status, opened_at is not null from auctions where listing_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&mk.app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), opened), ("open", true));
    let public = mk.app.get(&format!("/api/v1/listings/{id}"), None).await;
    assert_eq!(
        public.body["pricing"]["auction"]["has_reserve"],
        json!(true)
    );
    assert!(public.body["pricing"]["auction"]
        .get("reserve_fen")
        .is_none());
    assert!(!public.text.contains("2000000"), "{}", public.text);
    let own = mk
        .app
        .get(&format!("/api/v1/listings/{id}"), Some(&m.token))
        .await;
    assert_eq!(
        own.body["pricing"]["auction"]["reserve_fen"],
        json!(2_000_000)
    );
    let sort_price: i64 =
        sqlx::query_scalar("select sort_price_fen from listings where id = $1::uuid")
            .bind(&id)
            .fetch_one(&mk.app.pool)
            .await
            .unwrap();
    assert_eq!(sort_price, 1_000_000);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_patent_number_already_in_an_active_listing_is_a_duplicate(pool: PgPool) {
    let mk = Market::new(pool).await;
    let a = mk.app.verified_member("a@uni.example", "suaee").await;
    let b = mk.app.verified_member("b@uni.example", "cquaee").await;
    let mut first = body("原始专利成果");
    first["ip_numbers"] = json!(["ZL201710601862.3"]);
    let first_id = mk.publish(&a, "suaee", first).await;
    let mut second = body("重复专利成果");
    second["ip_numbers"] = json!(["201710601862.3"]);
    let second_id = mk.create(&b, second).await;
    let r = mk
        .app
        .post(
            &format!("/api/v1/listings/{second_id}/submit"),
            Some(&b.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("duplicate_ip"));
    assert_eq!(r.body["error"]["listing_id"], json!(first_id));
    // Once the first is withdrawn, the number is free again.
    let r = mk
        .app
        .post(
            &format!("/api/v1/listings/{first_id}/withdraw"),
            Some(&a.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    mk.submit(&b, &second_id).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_script_title_is_escaped_on_every_page(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "suaee").await;
    let title = "<script>alert(1)</script>芯片";
    let id = mk.publish(&m, "suaee", body(title)).await;
    for uri in [
        format!("/listings?q={}", enc("芯片")),
        format!("/listings/{id}"),
        "/listings".to_string(),
    ] {
        let p = mk.app.page(&uri, "").await;
        assert_eq!(p.status, StatusCode::OK, "{uri}");
        assert!(
            !p.text.contains("<script>alert(1)"),
            "{uri} shows raw script"
        );
        assert!(
            p.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;芯片")
                || p.text.contains("&#60;script&#62;"),
            "{uri}"
        );
        let doc = scraper::Html::parse_document(&p.text);
        let sel = scraper::Selector::parse("script").unwrap();
        assert!(
            doc.select(&sel).all(|s| s.inner_html().trim().is_empty()),
            "{uri}: no inline script"
        );
    }
}

/// Logs a member in through the login form; returns the session cookies.
async fn browser_login(app: &TestApp, email: &str) -> String {
    let page = app.page("/login", "").await;
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            "/login",
            &cookies,
            &[("_csrf", &csrf), ("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let session = cookies_from(&r.headers);
    format!("{cookies}; {session}")
}

async fn csrf_of(app: &TestApp, uri: &str, cookies: &str) -> String {
    let p = app.page(uri, cookies).await;
    assert_eq!(p.status, StatusCode::OK, "{uri}: {}", p.text);
    input_value(&p.text, "_csrf").unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_chengdu_university_lists_a_patent_and_a_chongqing_enterprise_finds_it(pool: PgPool) {
    let mk = Market::new(pool).await;
    // A researcher at a Chengdu university (home exchange SUAEE) drafts through the form.
    let uni = mk
        .app
        .verified_member("researcher@cdu.example", "suaee")
        .await;
    let cookies = browser_login(&mk.app, "researcher@cdu.example").await;
    let csrf = csrf_of(&mk.app, "/listings/new", &cookies).await;
    let number = patent();
    let r = mk
        .app
        .form(
            "/listings/new",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("title", "一种页岩气井下智能节流阀及其控制方法"),
                ("summary", "井下节流，安全高效。"),
                ("description", "第一段。\n\n第二段。"),
                ("field", "energy"),
                ("ip_type", "invention_patent"),
                ("ip_numbers", &number),
                ("trl", "7"),
                ("transaction_modes", "transfer"),
                ("transaction_modes", "nonexclusive_license"),
                ("keywords", "页岩气、节流阀"),
                ("pricing.mode", "fixed"),
                ("pricing.price_fen", "120"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_string();
    let id = location
        .trim_start_matches("/listings/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let l = mk
        .app
        .get(&format!("/api/v1/listings/{id}"), Some(&uni.token))
        .await;
    assert_eq!(
        l.body["pricing"]["price_fen"],
        json!(120_000_000i64),
        "120 万元"
    );
    assert_eq!(l.body["keywords"], json!(["页岩气", "节流阀"]));
    assert_eq!(
        l.body["transaction_modes"],
        json!(["transfer", "nonexclusive_license"])
    );
    // Submit from the listing page.
    let csrf = csrf_of(&mk.app, &format!("/listings/{id}"), &cookies).await;
    let r = mk
        .app
        .form(
            &format!("/listings/{id}/submit"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    // The home exchange approves from its review queue page.
    let admin_cookies = browser_login(&mk.app, "admin-suaee@test.example").await;
    let queue = mk.app.page("/admin/listings", &admin_cookies).await;
    assert!(queue.text.contains("一种页岩气井下智能节流阀及其控制方法"));
    let csrf = input_value(&queue.text, "_csrf").unwrap();
    let r = mk
        .app
        .form(
            &format!("/admin/listings/{id}/review"),
            &admin_cookies,
            &[("_csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    // An enterprise in Chongqing types four characters from the middle of the title.
    let buyer = mk
        .app
        .verified_member("buyer@cq-corp.example", "cquaee")
        .await;
    let r = mk
        .app
        .get(
            &format!("/api/v1/listings?q={}", enc("智能节流")),
            Some(&buyer.token),
        )
        .await;
    assert_eq!(r.body["total"], json!(1), "{}", r.text);
    assert_eq!(r.body["items"][0]["id"], json!(id));
    assert_eq!(r.body["items"][0]["exchange"], json!("suaee"));
    // And on the search page, whose filters are a shareable GET URL.
    let page = mk
        .app
        .page(
            &format!(
                "/listings?q={}&province=sichuan&min_price_wan=100&max_price_wan=200",
                enc("智能节流")
            ),
            "",
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let doc = scraper::Html::parse_document(&page.text);
    let sel = scraper::Selector::parse(".listing-card h2 a").unwrap();
    let found: Vec<String> = doc.select(&sel).map(|a| a.text().collect()).collect();
    assert_eq!(found, ["一种页岩气井下智能节流阀及其控制方法"]);
    assert!(page.text.contains("120万元"));
    let page = mk
        .app
        .page(
            &format!("/listings?q={}&max_price_wan=50", enc("智能节流")),
            "",
        )
        .await;
    let doc = scraper::Html::parse_document(&page.text);
    assert_eq!(doc.select(&sel).count(), 0);
    // The owner was notified, and sees the listing under "my listings".
    let mine = mk.app.page("/my/listings", &cookies).await;
    assert!(mine.text.contains("一种页岩气井下智能节流阀及其控制方法"));
    let inbox = mk.app.page("/inbox", &cookies).await;
    assert!(inbox.text.contains("已通过审核"), "{}", inbox.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_listing_form_shows_errors_next_to_fields_and_keeps_the_input(pool: PgPool) {
    let mk = Market::new(pool).await;
    mk.app.verified_member("m@uni.example", "suaee").await;
    let cookies = browser_login(&mk.app, "m@uni.example").await;
    let csrf = csrf_of(&mk.app, "/listings/new", &cookies).await;
    let r = mk
        .app
        .form(
            "/listings/new",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("title", "好标题的成果"),
                ("field", "ic"),
                ("ip_type", "invention_patent"),
                ("ip_numbers", "202110123456.8"),
                ("trl", "5"),
                ("pricing.mode", "auction"),
                ("pricing.auction.start_price_fen", "abc"),
                ("pricing.auction.increment_fen", "0"),
                ("pricing.auction.ends_at", "2020-01-01T10:00"),
                ("pricing.auction.extension_seconds", "99999"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // Every auction box's problem at once: the unreadable start price does not hide the others.
    let doc = scraper::Html::parse_document(&r.text);
    let sel = scraper::Selector::parse(".field-error").unwrap();
    let errors: Vec<String> = doc.select(&sel).map(|e| e.text().collect()).collect();
    for want in [
        "无法识别的金额",
        "金额必须大于零",
        "竞价截止时间必须晚于现在",
        "延时须在 0 至 3600 秒之间",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{want} in {errors:?}"
        );
    }
    assert_eq!(
        input_value(&r.text, "title").as_deref(),
        Some("好标题的成果")
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_new_listing_form_does_not_choose_the_field_trl_or_ip_type_for_the_seller(
    pool: PgPool,
) {
    let mk = Market::new(pool).await;
    mk.app.verified_member("m@uni.example", "suaee").await;
    let cookies = browser_login(&mk.app, "m@uni.example").await;
    let page = mk.app.page("/listings/new", &cookies).await;
    let doc = scraper::Html::parse_document(&page.text);
    for name in ["field", "trl", "ip_type"] {
        let sel =
            scraper::Selector::parse(&format!("select[name={name}] option[selected]")).unwrap();
        assert_eq!(doc.select(&sel).count(), 0, "{name} preselected");
        let sel = scraper::Selector::parse(&format!("select[name={name}][required]")).unwrap();
        assert_eq!(doc.select(&sel).count(), 1, "{name} required");
    }
    // Sent without them (a browser without HTML5 validation): each is asked for by name.
    let csrf = csrf_of(&mk.app, "/listings/new", &cookies).await;
    let r = mk
        .app
        .form(
            "/listings/new",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("title", "好标题的成果"),
                ("field", ""),
                ("ip_type", ""),
                ("trl", ""),
                ("pricing.mode", "negotiable"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.matches("请选择。").count() >= 3, "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn demo_and_bulk_seeds_give_searchable_listings(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    techmarket::demo::load(&pool).await.unwrap();
    let r = app
        .get(&format!("/api/v1/listings?q={}", enc("燃气轮机")), None)
        .await;
    assert_eq!(titles(&r)[0], "F级50兆瓦重型燃气轮机", "{}", r.text);
    let r = app
        .get(&format!("/api/v1/listings?q={}", enc("模数转换")), None)
        .await;
    assert_eq!(titles(&r), ["高速高精度流水线模数转换器芯片"]);
    let admin = app
        .login(
            "admin-cquaee@demo.techmarket.cn",
            techmarket::demo::DEMO_PASSWORD,
        )
        .await;
    let q = app
        .get(
            "/api/v1/admin/listings",
            Some(admin.body["token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        q.body["total"],
        json!(1),
        "one demo listing waits for review"
    );
    let before: i64 = sqlx::query_scalar("select count(*) from listings")
        .fetch_one(&pool)
        .await
        .unwrap();
    techmarket::service::listings::seed_demo(&pool)
        .await
        .unwrap();
    let after: i64 = sqlx::query_scalar("select count(*) from listings")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(before, after, "seed_demo is idempotent");

    techmarket::service::listings::seed_bulk(&pool, 600, 50)
        .await
        .unwrap();
    let (listed, fields, exchanges, modes): (i64, i64, i64, i64) = sqlx::query_as(
        "select count(*), count(distinct field), count(distinct exchange), count(distinct pricing_mode) \
         from listings where status = 'listed'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(listed > 500, "{listed}");
    assert_eq!((fields, exchanges, modes), (15, 4, 3));
    let open_auctions: i64 = sqlx::query_scalar(
        "select count(*) from auctions a join listings l on l.id = a.listing_id where l.status = 'listed' and a.status = 'open'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(open_auctions > 0);
    let demands: i64 = sqlx::query_scalar("select count(*) from demands where status = 'open'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(demands >= 50);
    let r = app
        .get(
            &format!("/api/v1/listings?q={}&per_page=5", enc("燃气轮机")),
            None,
        )
        .await;
    assert!(r.body["total"].as_i64().unwrap() > 10, "{}", r.text);
    let r = app.get("/api/v1/listings?q=turbine", None).await;
    assert!(r.body["total"].as_i64().unwrap() > 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn broad_searches_stay_exact_after_approvals_and_withdrawals(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("bulk@uni.example", "suaee").await;
    // 600 listed listings matching 燃气轮机: a broad search, kept in the search cache.
    let vector = techmarket::service::listings::search_vector("燃气轮机样品", "", &[], &[], "");
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes, \
         pricing_mode, price_fen, status, exchange, province, search, sort_price_fen, listed_at) \
         select gen_random_uuid(), $1::uuid, $2::uuid, '燃气轮机样品' || g, 'aerospace', 'know_how', 5, '{transfer}', \
         'fixed', 1000000 + g, 'listed', 'suaee', 'sichuan', $3::tsvector, 1000000 + g, now() - g * interval '1 minute' \
         from generate_series(1, 600) g",
    )
    .bind(&m.org_id)
    .bind(&m.user_id)
    .bind(&vector)
    .execute(&mk.app.pool)
    .await
    .unwrap();
    let q = format!("q={}", enc("燃气轮机"));
    let total = |r: &Resp| r.body["total"].as_i64().unwrap();
    let r = mk.search(&q).await;
    assert_eq!(total(&r), 600);
    assert_eq!(total(&mk.search("").await), 600);
    let r = mk.search(&format!("{q}&per_page=100&page=6")).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 100);
    assert_eq!(
        total(&mk.search(&format!("{q}&per_page=100&page=3")).await),
        600
    );

    // An approval shows at once, in the ranked list and the totals.
    let id = mk.publish(&m, "suaee", body("新挂牌的重型燃气轮机")).await;
    let r = mk.search(&q).await;
    assert_eq!(total(&r), 601);
    assert_eq!(
        r.body["items"][0]["id"],
        json!(id),
        "a title hit, the newest"
    );
    assert_eq!(total(&mk.search("per_page=5").await), 601);
    // So does a withdrawal.
    let r = mk
        .app
        .post(
            &format!("/api/v1/listings/{id}/withdraw"),
            Some(&m.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = mk.search(&q).await;
    assert_eq!(total(&r), 600);
    assert_ne!(r.body["items"][0]["id"], json!(id));
    assert_eq!(total(&mk.search("per_page=5").await), 600);
    // A listing sold meanwhile (changed by another part of the market, or another server process) drops
    // out at once too: a trigger bumps the search generation that every process checks.
    let first = r.body["items"][0]["id"].as_str().unwrap().to_string();
    sqlx::query("update listings set status = 'sold' where id = $1::uuid")
        .bind(&first)
        .execute(&mk.app.pool)
        .await
        .unwrap();
    let r = mk.search(&q).await;
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["id"] != json!(first)));
    assert_eq!(total(&r), 599);
    assert_eq!(total(&mk.search("per_page=5").await), 599);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_admin_rejects_on_the_review_page_and_the_owner_reads_why(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("owner@uni.example", "cquaee").await;
    let id = mk.create(&m, body("待驳回的<b>成果</b>")).await;
    mk.submit(&m, &id).await;
    let admin = browser_login(&mk.app, "admin-cquaee@test.example").await;
    let page = mk.app.page(&format!("/admin/listings/{id}"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("待驳回的&lt;b&gt;成果&lt;/b&gt;") || page.text.contains("&#60;b&#62;")
    );
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let uri = format!("/admin/listings/{id}/review");
    let r = mk
        .app
        .form(
            &uri,
            &admin,
            &[("_csrf", &csrf), ("decision", "reject"), ("reason", "  ")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let doc = scraper::Html::parse_document(&r.text);
    assert_eq!(
        doc.select(&scraper::Selector::parse(".field-error").unwrap())
            .count(),
        1
    );
    let r = mk
        .app
        .form(
            &uri,
            &admin,
            &[
                ("_csrf", &csrf),
                ("decision", "reject"),
                ("reason", "权属证明缺失"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    // Another exchange's admin gets 403 on the page action too.
    let other = browser_login(&mk.app, "admin-suaee@test.example").await;
    let csrf2 = csrf_of(&mk.app, "/admin/listings", &other).await;
    let r = mk
        .app
        .form(&uri, &other, &[("_csrf", &csrf2), ("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The owner sees the reason and the edit button on the listing page, in both languages.
    let owner = browser_login(&mk.app, "owner@uni.example").await;
    let p = mk.app.page(&format!("/listings/{id}"), &owner).await;
    let doc = scraper::Html::parse_document(&p.text);
    let reason: String = doc
        .select(&scraper::Selector::parse("#reject-reason").unwrap())
        .flat_map(|e| e.text())
        .collect();
    assert!(reason.contains("权属证明缺失"), "{reason}");
    assert!(p.text.contains(&format!("/listings/{id}/edit")));
    let p = mk
        .app
        .page(&format!("/listings/{id}?lang=en"), &owner)
        .await;
    assert!(p.text.contains("Reason for rejection"));
    // Others see the listing and that it was rejected, not why, and no edit button.
    let p = mk.app.page(&format!("/listings/{id}"), "").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.text.contains("权属证明缺失"));
    assert!(!p.text.contains("reject-reason"));
    assert!(!p.text.contains(&format!("/listings/{id}/edit")));
    // The edit form is prefilled; saving it keeps the listing editable and re-submittable.
    let edit = mk.app.page(&format!("/listings/{id}/edit"), &owner).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert_eq!(
        input_value(&edit.text, "pricing.price_fen").as_deref(),
        Some("350")
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn auction_terms_follow_the_draft_and_an_expired_auction_cannot_be_approved(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "cdipex").await;
    let mut b = body("拍卖草稿成果");
    b["pricing"] = json!({"mode": "auction", "auction": {"start_price_fen": 500, "increment_fen": 10, "ends_at": in_days(2)}});
    let id = mk.create(&m, b).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from auctions where listing_id = $1::uuid")
            .bind(&id)
            .fetch_one(&mk.app.pool)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 1);
    let r = mk
        .app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{id}"),
            Some(&m.token),
            Some(json!({"pricing": {"mode": "fixed", "price_fen": 900}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["pricing"].get("auction").is_none());
    assert_eq!(count().await, 0);
    let r = mk
        .app
        .call(Method::PATCH, &format!("/api/v1/listings/{id}"), Some(&m.token), Some(json!({"pricing": {"mode": "auction", "auction": {"start_price_fen": 700, "increment_fen": 10, "ends_at": in_days(1)}}})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["pricing"]["auction"]["start_price_fen"], json!(700));
    assert_eq!(
        r.body["pricing"]["auction"]["extension_seconds"],
        json!(300)
    );
    mk.submit(&m, &id).await;
    // The end passes while it waits for review.
    sqlx::query(
        "update auctions set ends_at = now() - interval '1 minute' where listing_id = $1::uuid",
    )
    .bind(&id)
    .execute(&mk.app.pool)
    .await
    .unwrap();
    let r = mk.approve("cdipex", &id).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]
        .get("pricing.auction.ends_at")
        .is_some());
    let r = mk
        .app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&mk.admins["cdipex"]),
            json!({"decision": "reject", "reason": "竞价时间已过"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "rejecting it still works: {}",
        r.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn concurrent_submissions_of_the_same_patent_yield_one_active_listing(pool: PgPool) {
    let mk = Market::new(pool).await;
    let a = mk.app.verified_member("a@uni.example", "suaee").await;
    let b = mk.app.verified_member("b@uni.example", "cquaee").await;
    let number = patent();
    let mut first = body("同一专利甲");
    first["ip_numbers"] = json!([number]);
    let mut second = body("同一专利乙");
    second["ip_numbers"] = json!([number.trim_start_matches("ZL")]);
    let ida = mk.create(&a, first).await;
    let idb = mk.create(&b, second).await;
    let (ua, ub) = (
        format!("/api/v1/listings/{ida}/submit"),
        format!("/api/v1/listings/{idb}/submit"),
    );
    let results = futures_util::future::join_all([
        mk.app.post(&ua, Some(&a.token), json!({})),
        mk.app.post(&ub, Some(&b.token), json!({})),
    ])
    .await;
    let mut statuses: Vec<StatusCode> = results.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let active: i64 = sqlx::query_scalar(
        "select count(*) from listings where status in ('pending_review', 'listed')",
    )
    .fetch_one(&mk.app.pool)
    .await
    .unwrap();
    assert_eq!(active, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_description_shows_as_escaped_paragraphs(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "suaee").await;
    let mut b = body("段落展示的成果");
    b["description"] = json!("第一段第一行\n第一段<i>第二行</i>\r\n\r\n第二段\n\n\n\n第三段");
    let id = mk.publish(&m, "suaee", b).await;
    let p = mk.app.page(&format!("/listings/{id}"), "").await;
    let doc = scraper::Html::parse_document(&p.text);
    let paras: Vec<String> = doc
        .select(&scraper::Selector::parse(".listing-description p").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(
        paras,
        ["第一段第一行第一段<i>第二行</i>", "第二段", "第三段"]
    );
    assert_eq!(
        doc.select(&scraper::Selector::parse(".listing-description br").unwrap())
            .count(),
        1
    );
    assert_eq!(
        doc.select(&scraper::Selector::parse(".listing-description i").unwrap())
            .count(),
        0
    );
}
