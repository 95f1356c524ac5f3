//! Listings' stored matching profiles (issue 20, speed): written with the listing, replaced when its texts
//! change, computed by the job for rows that lack a current one; a demand's page can show the listings
//! considered that are not a match; the demand board searches across languages.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::service::listings::profiles;
use uuid::Uuid;

use crate::demands::{aeb_demand, aeb_listing, insert_listing, parking_listing, post_demand};
use crate::helpers::*;

/// The profile row of a listing: (version, words, specific concepts).
async fn profile_row(pool: &PgPool, id: &str) -> Option<(i64, Vec<String>, Vec<i32>)> {
    sqlx::query_as(
        "select version, surfaces, retrieval from listing_match_profiles where listing_id = $1::uuid",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .unwrap()
}

fn listing_body(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "水电站水轮机过流部件的表面防护。",
        "description": "适用于混流式水轮机。",
        "field": "energy",
        "ip_type": "know_how",
        "trl": 6,
        "transaction_modes": ["transfer"],
        "keywords": [],
        "pricing": {"mode": "negotiable"}
    })
}

#[sqlx::test(migrations = "./migrations")]
async fn a_listing_carries_a_current_profile_that_follows_its_texts(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("hydro@sichuan.example", "suaee").await;
    let r = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing_body("水轮机转轮热喷涂涂层技术"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let (version, words, concepts) = profile_row(&app.pool, &id).await.unwrap();
    assert_eq!(version, profiles::current_version());
    assert!(words.iter().any(|w| w.contains("热喷涂")), "{words:?}");
    assert!(!concepts.is_empty());

    // An edit through the service replaces it in the same transaction.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/listings/{id}"),
            Some(&seller.token),
            Some(json!({"title": "重型燃气轮机叶片冷却技术"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (version, words, _) = profile_row(&app.pool, &id).await.unwrap();
    assert_eq!(version, profiles::current_version());
    assert!(words.iter().any(|w| w.contains("燃气轮机")), "{words:?}");
    assert!(!words.iter().any(|w| w.contains("热喷涂")), "{words:?}");

    // Texts changed by any other writer drop it until the job computes it again.
    sqlx::query("update listings set title = '水轮机转轮热喷涂涂层技术' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(profile_row(&app.pool, &id).await.is_none());
    // Other columns leave it alone.
    assert_eq!(profiles::refresh_all(&app.pool).await.unwrap(), 1);
    sqlx::query("update listings set trl = 7 where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, words, _) = profile_row(&app.pool, &id).await.unwrap();
    assert!(words.iter().any(|w| w.contains("热喷涂")), "{words:?}");
    assert_eq!(profiles::refresh_all(&app.pool).await.unwrap(), 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_listing_without_a_current_profile_is_matched_once_the_job_has_profiled_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("auto@sichuan.example", "cdipex").await;
    let buyer = app.verified_member("car@chongqing.example", "cquaee").await;
    let aeb = insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    // As after a change of the vocabulary: the stored profile is of another version.
    sqlx::query("update listing_match_profiles set version = version + 1")
        .execute(&app.pool)
        .await
        .unwrap();
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let path = format!("/api/v1/demands/{}/matches", d.body["id"].as_str().unwrap());
    let m = app.get(&path, Some(&buyer.token)).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert_eq!(
        m.body["items"],
        json!([]),
        "a profile of another version means nothing"
    );

    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    let m = app.get(&path, Some(&buyer.token)).await;
    assert_eq!(m.body["items"][0]["listing"]["id"], json!(aeb.to_string()));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_demand_page_can_show_the_listings_that_are_not_a_match_and_why(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("auto@sichuan.example", "cdipex").await;
    let buyer = app.verified_member("car@chongqing.example", "cquaee").await;
    insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    let parking: Uuid = insert_listing(&app.pool, &seller.org_id, &parking_listing()).await;
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    let id = d.body["id"].as_str().unwrap().to_string();
    let cookies = web_login(&app, &buyer.email).await;

    let page = app.page(&format!("/demands/{id}"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("自动紧急制动（AEB）系统及控制算法"));
    assert!(
        !page.text.contains(&parking.to_string()),
        "not shown by default"
    );
    assert!(page.text.contains(&format!("/demands/{id}?all=1")));

    let page = app.page(&format!("/demands/{id}?all=1"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = scraper::Html::parse_document(&page.text);
    let cards = scraper::Selector::parse("article.match").unwrap();
    let cards: Vec<String> = html
        .select(&cards)
        .map(|c| c.text().collect::<String>())
        .collect();
    assert!(
        cards[0].contains("自动紧急制动（AEB）系统及控制算法"),
        "the match first"
    );
    let non_match = cards
        .iter()
        .find(|c| c.contains("远程智能泊车系统"))
        .expect("the parking listing is shown as a non-match");
    assert!(
        non_match.contains("与需求没有共同的技术概念"),
        "{non_match}"
    );
    assert!(non_match.contains('0'));
    let page = app
        .page(&format!("/demands/{id}?all=1&lang=en"), &cookies)
        .await;
    assert!(page
        .text
        .contains("No technology concept in common with the demand"));
    assert!(page.text.contains("Show matches only"));

    // The API lists matches only.
    let m = app
        .get(&format!("/api/v1/demands/{id}/matches"), Some(&buyer.token))
        .await;
    let items = m.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["score"].as_u64().unwrap() > 0));
    assert!(items
        .iter()
        .all(|i| i["listing"]["id"] != json!(parking.to_string())));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_demand_board_is_searched_across_languages_with_the_words_as_written_first(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let buyer = app
        .verified_member("plant@chongqing.example", "cquaee")
        .await;
    let post = |title: &'static str| {
        let app = &app;
        let token = buyer.token.clone();
        async move {
            let r = post_demand(app, &token, json!({"title": title, "field": "energy"})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.body["id"].as_str().unwrap().to_string()
        }
    };
    let english = post("Thermal spray coating for boiler tubes").await;
    let chinese = post("寻求水轮机转轮热喷涂涂层技术").await;
    let other = post("寻求光伏组件回收技术").await;
    let ids = |r: &Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let r = app
        .get("/api/v1/demands?q=thermal%20spray%20coating", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&r), [english.clone(), chinese.clone()]);
    assert_eq!(r.body["total"], json!(2));
    let r = app
        .get("/api/v1/demands?q=%E7%83%AD%E5%96%B7%E6%B6%82", None)
        .await;
    assert_eq!(ids(&r), [chinese.clone(), english.clone()], "热喷涂");
    assert!(!ids(&r).contains(&other));
    // The board page too.
    let page = app.page("/demands?q=thermal+spray+coating", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("寻求水轮机转轮热喷涂涂层技术"));
    assert!(!page.text.contains("寻求光伏组件回收技术"));
}
