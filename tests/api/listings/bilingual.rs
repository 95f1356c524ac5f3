//! Issue 18 item 6: an optional English title and summary on listings and demands, shown on
//! English pages (the Chinese ones as the fallback), searchable, and in the demo data.
use super::*;

fn h1(html: &str, selector: &str) -> Vec<String> {
    let d = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    d.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_listing_in_english_is_shown_and_found_in_english_and_chinese_stays_the_fallback(
    pool: PgPool,
) {
    let mk = Market::new(pool).await;
    let m = mk.app.verified_member("fuel@uni.example", "suaee").await;
    let mut b = body("氢燃料电池电堆");
    b["title_en"] = json!("Hydrogen fuel cell stack");
    b["summary_en"] = json!("A 120 kW proton-exchange membrane stack for heavy trucks.");
    let id = mk.publish(&m, "suaee", b).await;
    let plain = mk.publish(&m, "suaee", body("高温超导电缆")).await;

    let r = mk.app.get(&format!("/api/v1/listings/{id}"), None).await;
    assert_eq!(r.body["title"], json!("氢燃料电池电堆"));
    assert_eq!(r.body["title_en"], json!("Hydrogen fuel cell stack"));
    assert_eq!(
        r.body["summary_en"],
        json!("A 120 kW proton-exchange membrane stack for heavy trucks.")
    );
    let r = mk.app.get(&format!("/api/v1/listings/{plain}"), None).await;
    assert_eq!(r.body["title_en"], Value::Null);

    // Found by its English words (title and summary), never only by the Chinese ones.
    for q in ["fuel cell stack", "membrane trucks"] {
        let r = mk.search(&format!("q={}", enc(q))).await;
        assert_eq!(titles(&r), ["氢燃料电池电堆"], "{q}");
    }

    // English pages show the English, with the Chinese as the fallback (marked as Chinese).
    let p = mk.app.page(&format!("/listings/{id}?lang=en"), "").await;
    assert_eq!(
        h1(&p.text, "h1#listing-title"),
        ["Hydrogen fuel cell stack"]
    );
    assert!(p.text.contains("A 120 kW proton-exchange membrane stack"));
    let p = mk.app.page(&format!("/listings/{id}"), "").await;
    assert_eq!(h1(&p.text, "h1#listing-title"), ["氢燃料电池电堆"]);
    assert!(!p.text.contains("Hydrogen fuel cell stack"));
    let p = mk.app.page(&format!("/listings/{plain}?lang=en"), "").await;
    assert_eq!(
        h1(&p.text, "h1#listing-title[lang=zh-CN]"),
        ["高温超导电缆"]
    );
    let p = mk.app.page("/listings?lang=en", "").await;
    let cards = h1(&p.text, ".listing-card h2");
    assert!(
        cards.contains(&"Hydrogen fuel cell stack".to_string()),
        "{cards:?}"
    );
    assert!(cards.contains(&"高温超导电缆".to_string()), "{cards:?}");

    // Blank English removes it (PATCH while a draft).
    let draft = mk.create(&m, body("钠离子电池正极材料")).await;
    let r = mk
        .app
        .call(
            axum::http::Method::PATCH,
            &format!("/api/v1/listings/{draft}"),
            Some(&m.token),
            Some(json!({"title_en": "Sodium-ion cathode"})),
        )
        .await;
    assert_eq!(
        r.body["title_en"],
        json!("Sodium-ion cathode"),
        "{}",
        r.text
    );
    let r = mk
        .app
        .call(
            axum::http::Method::PATCH,
            &format!("/api/v1/listings/{draft}"),
            Some(&m.token),
            Some(json!({"title_en": "  "})),
        )
        .await;
    assert_eq!(r.body["title_en"], Value::Null, "{}", r.text);
    // Too long: 422 at its path.
    let r = mk
        .app
        .call(
            axum::http::Method::PATCH,
            &format!("/api/v1/listings/{draft}"),
            Some(&m.token),
            Some(json!({"summary_en": "x".repeat(501)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["summary_en"].is_string(),
        "{}",
        r.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_demand_in_english_is_shown_and_found_in_english(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.verified_member("buyer@car.example", "cquaee").await;
    let r = app
        .post(
            "/api/v1/demands",
            Some(&m.token),
            json!({"title": "寻求固态电池电解质技术", "description": "用于新能源汽车。", "field": "energy",
                   "title_en": "Seeking solid-state battery electrolytes",
                   "summary_en": "For new-energy vehicles."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["title_en"],
        json!("Seeking solid-state battery electrolytes")
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app.get("/api/v1/demands?q=electrolytes", None).await;
    assert_eq!(r.body["items"][0]["id"], json!(id), "{}", r.text);
    let p = app.page(&format!("/demands/{id}?lang=en"), "").await;
    assert_eq!(
        h1(&p.text, "h1"),
        ["Seeking solid-state battery electrolytes"]
    );
    assert!(p.text.contains("For new-energy vehicles."));
    let p = app.page(&format!("/demands/{id}"), "").await;
    assert_eq!(h1(&p.text, "h1"), ["寻求固态电池电解质技术"]);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_demo_listings_and_demands_have_english_titles_and_summaries(pool: PgPool) {
    techmarket::demo::load(&pool).await.unwrap();
    let missing: i64 = sqlx::query_scalar(
        "select count(*) from listings where title_en is null or summary_en is null",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(missing, 0);
    let missing: i64 = sqlx::query_scalar(
        "select count(*) from demands where title_en is null or summary_en is null",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(missing, 0);
    let app = TestApp::new(pool);
    let r = app.get("/api/v1/listings?q=gas%20turbine", None).await;
    assert_eq!(
        r.body["items"][0]["title_en"],
        json!("F-class 50 MW heavy-duty gas turbine"),
        "{}",
        r.text
    );
    let p = app.page("/listings?lang=en", "").await;
    assert!(p
        .text
        .contains("High-speed, high-precision pipelined ADC chip"));
}
