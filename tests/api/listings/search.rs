//! Search: Chinese, English and patent numbers; what is never found; relevance; filters, sorts,
//! totals and pages; bad parameters; seeded data; the broad-search cache staying exact.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

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
    mk.withdraw(&m, &withdrawn).await;

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
async fn an_english_search_finds_chinese_listings_and_the_words_as_written_rank_first(
    pool: PgPool,
) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("m@uni.example", "cquaee").await;
    mk.publish(&m, "cquaee", body("水轮机转轮热喷涂涂层技术"))
        .await;
    mk.publish(
        &m,
        "cquaee",
        body("Thermal spray coating of boiler water-wall tubes"),
    )
    .await;
    mk.publish(&m, "cquaee", body("自修复聚氨酯防护涂层")).await;
    // English finds the Chinese listing; the listing with the words as written comes first.
    let r = mk
        .search(&format!("q={}", enc("thermal spray coating")))
        .await;
    assert_eq!(
        titles(&r),
        vec![
            "Thermal spray coating of boiler water-wall tubes".to_string(),
            "水轮机转轮热喷涂涂层技术".to_string()
        ],
        "{}",
        r.text
    );
    // Chinese finds the English listing; the exact Chinese substring comes first.
    let r = mk.search(&format!("q={}", enc("热喷涂"))).await;
    assert_eq!(
        titles(&r),
        vec![
            "水轮机转轮热喷涂涂层技术".to_string(),
            "Thermal spray coating of boiler water-wall tubes".to_string()
        ]
    );
    // Synonyms in one language too; nothing about coatings is not found by a turbine.
    let r = mk
        .search(&format!("q={}", enc("hydro turbine runner")))
        .await;
    assert_eq!(titles(&r), vec!["水轮机转轮热喷涂涂层技术".to_string()]);
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

#[sqlx::test(migrations = "./migrations")]
async fn a_wrong_filter_is_marked_and_nothing_is_claimed_found(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("owner@uni.example", "suaee").await;
    mk.publish(&m, "suaee", body("燃气轮机叶片冷却技术")).await;
    let r = mk.app.page("/listings?min_price_wan=abc", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("最低价格（万元）："), "{}", r.text);
    assert!(r.text.contains(r#"id="min_price_wan" name="min_price_wan" inputmode="decimal" maxlength="30" value="abc" aria-invalid="true""#), "{}", r.text);
    assert!(!r.text.contains(r#"id="max_price_wan" name="max_price_wan" inputmode="decimal" maxlength="30" value="" aria-invalid"#));
    for claim in ["共 0 项", "没有找到符合条件的科技成果", "result-count"] {
        assert!(!r.text.contains(claim), "{claim} shown on the error page");
    }
    let r = mk.app.page("/listings?trl_min=99", "").await;
    assert!(r
        .text
        .contains(r#"<select id="trl_min" name="trl_min" aria-invalid="true">"#));
    // English: the label and its message with a half-width colon.
    let r = mk.app.page("/listings?min_price_wan=abc&lang=en", "").await;
    assert!(!r.text.contains("0 technology achievements"));
    assert!(!r.text.contains("No technology achievement matches."));
    // The demand board likewise.
    let r = mk.app.page("/demands?field=nope", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text
            .contains(r#"<select id="field" name="field" aria-invalid="true">"#),
        "{}",
        r.text
    );
    assert!(!r.text.contains("共 0 项需求"));
    assert!(!r.text.contains("没有符合条件的技术需求。"));
    // A good search still counts.
    let r = mk.app.page("/listings?min_price_wan=", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("共 1 项科技成果"), "{}", r.text);
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
    // Every listing got its matching profile with its batch, the same one the background refresh computes.
    let version = techmarket::service::listings::profiles::current_version();
    let missing: i64 = sqlx::query_scalar(
        "select count(*) from listings l where not exists \
         (select 1 from listing_match_profiles p where p.listing_id = l.id and p.version = $1)",
    )
    .bind(version)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(missing, 0);
    type Stored = (
        uuid::Uuid,
        Vec<i64>,
        Vec<String>,
        Vec<i64>,
        Vec<i32>,
        Vec<i32>,
    );
    let stored = || async {
        sqlx::query_as::<_, Stored>(
            "select p.listing_id, p.concepts, p.surfaces, p.tokens, p.retrieval, \
             array(select c.concept from listing_match_concepts c where c.listing_id = p.listing_id order by 1) \
             from listing_match_profiles p order by p.listing_id limit 40",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let seeded = stored().await;
    assert_eq!(seeded.len(), 40);
    assert!(seeded.iter().all(|s| !s.1.is_empty() && !s.5.is_empty()));
    let ids: Vec<uuid::Uuid> = seeded.iter().map(|s| s.0).collect();
    sqlx::query("delete from listing_match_concepts where listing_id = any($1)")
        .bind(&ids)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("delete from listing_match_profiles where listing_id = any($1)")
        .bind(&ids)
        .execute(&pool)
        .await
        .unwrap();
    let refreshed = techmarket::service::listings::profiles::refresh_all(&pool)
        .await
        .unwrap();
    assert_eq!(refreshed, 40);
    assert_eq!(stored().await, seeded);
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
    let vector = techmarket::service::listings::search_vector(
        "燃气轮机样品",
        "",
        &[],
        &[],
        "",
        [None, None],
    );
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
    mk.withdraw(&m, &id).await;
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

/// Anonymous answers are kept whole (service::listings::answers) and served again only while nothing
/// they show has changed: an auction's end, an organisation's name, a listing's English title, each
/// changed by another part of the market (here: SQL), shows in the very next answer; an owner's answer
/// (with its reserve) is never served to a stranger.
#[sqlx::test(migrations = "./migrations")]
async fn anonymous_answers_show_every_change_at_once_and_owners_get_their_own(pool: PgPool) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("answers@uni.example", "suaee").await;
    let mut b = body("答案缓存测试拍卖成果");
    b["pricing"] = json!({"mode": "auction", "auction": {
        "start_price_fen": 100_000_000i64, "increment_fen": 1_000_000i64,
        "reserve_fen": 150_000_000i64, "ends_at": in_days(3)}});
    let id = mk.publish(&m, "suaee", b).await;
    let q = format!("q={}", enc("答案缓存测试"));
    let item = |r: &Resp| r.body["items"][0].clone();
    let first = mk.search(&q).await;
    assert_eq!(item(&first)["id"], json!(id));
    assert_eq!(
        item(&first)["pricing"]["auction"]["reserve_fen"],
        json!(null)
    );
    assert_eq!(
        mk.search(&q).await.text,
        first.text,
        "served again unchanged"
    );

    // The owner sees its reserve; a stranger right after does not.
    let own = mk
        .app
        .get(&format!("/api/v1/listings?{q}"), Some(&m.token))
        .await;
    assert_eq!(
        own.body["items"][0]["pricing"]["auction"]["reserve_fen"],
        json!(150_000_000i64)
    );
    assert_eq!(mk.search(&q).await.text, first.text);

    let ends = "2031-01-02T03:04:05Z";
    sqlx::query("update auctions set ends_at = $2::timestamptz where listing_id = $1::uuid")
        .bind(&id)
        .bind(ends)
        .execute(&mk.app.pool)
        .await
        .unwrap();
    let r = mk.search(&q).await;
    let got = item(&r)["pricing"]["auction"]["ends_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&got).unwrap(),
        chrono::DateTime::parse_from_rfc3339(ends).unwrap(),
        "the auction's new end"
    );

    sqlx::query("update organizations set name = '答案缓存改名研究院' where id = $1::uuid")
        .bind(&m.org_id)
        .execute(&mk.app.pool)
        .await
        .unwrap();
    assert_eq!(
        item(&mk.search(&q).await)["organization"]["name"],
        json!("答案缓存改名研究院")
    );

    sqlx::query("update listings set title_en = 'Answer cache test' where id = $1::uuid")
        .bind(&id)
        .execute(&mk.app.pool)
        .await
        .unwrap();
    assert_eq!(
        item(&mk.search(&q).await)["title_en"],
        json!("Answer cache test")
    );

    // Withdrawn: gone from the next answer.
    mk.withdraw(&m, &id).await;
    assert_eq!(mk.search(&q).await.body["total"], json!(0));
}
