//! The listing pages: escaping, the full story in a browser, the form, the review page.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

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
