//! The listing workflow through the API: validation, ownership, review by the home exchange,
//! guards, auctions opened on approval, duplicate patents.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

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
    mk.withdraw(&a, &first_id).await;
    mk.submit(&b, &second_id).await;
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

/// A listing's detail row is kept between requests (service::listings::details) and served again only
/// while nothing it shows has changed: its organisation's name, a published evaluation, an active
/// pledge, each written by another part of the market (here: SQL), and a withdrawal show in the very
/// next answer, to strangers and on the page; insiders' fields never reach a stranger.
#[sqlx::test(migrations = "./migrations")]
async fn a_kept_listing_shows_every_change_at_once(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("kept@uni.example", "suaee").await;
    let bank = mk
        .app
        .verified_member("kept-bank@bank.example", "suaee")
        .await;
    let id = mk.publish(&m, "suaee", body("详情缓存测试成果")).await;
    let uri = format!("/api/v1/listings/{id}");
    let first = mk.app.get(&uri, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["pledge"], json!(null));
    assert_eq!(first.body["evaluation"], json!(null));
    assert_eq!(
        mk.app.get(&uri, None).await.text,
        first.text,
        "served again unchanged"
    );
    // The owner sees when it was submitted; a stranger right after does not.
    let own = mk.app.get(&uri, Some(&m.token)).await;
    assert!(own.body["submitted_at"].is_string(), "{}", own.text);
    assert_eq!(
        mk.app.get(&uri, None).await.body["submitted_at"],
        json!(null)
    );

    sqlx::query("update organizations set name = '详情缓存改名研究院' where id = $1::uuid")
        .bind(&m.org_id)
        .execute(&mk.app.pool)
        .await
        .unwrap();
    assert_eq!(
        mk.app.get(&uri, None).await.body["organization"]["name"],
        json!("详情缓存改名研究院")
    );
    let page = mk.app.page(&format!("/listings/{id}"), "").await;
    assert!(page.text.contains("详情缓存改名研究院"), "the page too");

    sqlx::query(
        "insert into evaluations (id, listing_id, status, due_at, exchange, created_at, closed_at, report) \
         values ($1, $2::uuid, 'published', now(), 'suaee', now(), now(), $3)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&id)
    .bind(json!({"medians": {"maturity_trl": 8, "innovation": 4, "advancement": 4, "market": 4},
                 "spread": {"maturity_trl": {"min": 7, "max": 9}, "innovation": {"min": 4, "max": 4},
                            "advancement": {"min": 4, "max": 4}, "market": {"min": 4, "max": 4}}, "scores": 3}))
    .execute(&mk.app.pool)
    .await
    .unwrap();
    let r = mk.app.get(&uri, None).await;
    assert_eq!(
        r.body["evaluation"]["report"]["maturity_trl"],
        json!(8),
        "{}",
        r.text
    );

    sqlx::query(
        "insert into pledge_requests (id, listing_id, owner_organization_id, lender_organization_id, amount_fen, \
         term_months, status, valuation, registration_no, created_at, decided_at) \
         values ($1, $2::uuid, $3::uuid, $4::uuid, 100000000, 12, 'active', '{}', 'REG-KEPT-1', now(), now())",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&id)
    .bind(&m.org_id)
    .bind(&bank.org_id)
    .execute(&mk.app.pool)
    .await
    .unwrap();
    let r = mk.app.get(&uri, None).await;
    assert_eq!(
        r.body["pledge"]["registration_no"],
        json!("REG-KEPT-1"),
        "{}",
        r.text
    );

    // Withdrawn: strangers see it so at once (a withdrawn listing stays public at its address).
    mk.withdraw(&m, &id).await;
    let r = mk.app.get(&uri, None).await;
    assert_eq!(r.body["status"], json!("withdrawn"), "{}", r.text);
    assert_eq!(r.body["submitted_at"], json!(null));
}

/// The jobs' tick runs an update of auctions every second that usually changes nothing: it must not
/// bump the listing-page generation (that threw every kept row and answer away each second); an
/// update that changes an auction does.
#[sqlx::test(migrations = "./migrations")]
async fn only_updates_that_change_auctions_move_the_page_generation(pool: PgPool) {
    let generation = || async {
        sqlx::query_scalar::<_, i64>("select last_value from listing_pages_generation")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let mk = Market::new(pool.clone()).await;
    let m = mk.app.verified_member("tick@uni.example", "suaee").await;
    let mut b = body("页面代数拍卖成果");
    b["pricing"] = json!({"mode": "auction", "auction": {
        "start_price_fen": 100_000_000i64, "increment_fen": 1_000_000i64, "ends_at": in_days(3)}});
    let id = mk.publish(&m, "suaee", b).await;
    let before = generation().await;
    sqlx::query(
        "update auctions set status = 'open', opened_at = starts_at \
         where status = 'scheduled' and starts_at is not null and starts_at <= now()",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(generation().await, before, "nothing was due: no bump");
    sqlx::query("update auctions set extension_seconds = 600 where listing_id = $1::uuid")
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    assert_ne!(generation().await, before, "an auction changed");
}
