//! Duplicate listings across the four exchanges: one IP number in one active listing (409
//! `duplicate_ip` naming the other, at submission and at approval, also under races), and the
//! likely duplicates reviewers see in their queue, side by side.
use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;
use sqlx::PgPool;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn two_exchanges_racing_to_submit_one_patent_get_one_listing(pool: PgPool) {
    let mk = Market::new(pool).await;
    let number = patent();
    let mut ids = Vec::new();
    let mut members = Vec::new();
    for (i, ex) in ["suaee", "cquaee", "cdipex", "nttc_sw"].iter().enumerate() {
        let m = mk
            .app
            .verified_member(&format!("racer{i}@uni.example"), ex)
            .await;
        let mut b = body(&format!("同一专利的成果 {i}"));
        b["ip_numbers"] = json!([number.clone()]);
        ids.push(mk.create(&m, b).await);
        members.push(m);
    }
    let uris: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/listings/{id}/submit"))
        .collect();
    let answers = join_all(
        uris.iter()
            .zip(&members)
            .map(|(uri, m)| mk.app.post(uri, Some(&m.token), json!({}))),
    )
    .await;
    let ok: Vec<usize> = (0..4)
        .filter(|i| answers[*i].status == StatusCode::OK)
        .collect();
    assert_eq!(ok.len(), 1, "exactly one submission wins");
    let winner = &ids[ok[0]];
    for (i, r) in answers.iter().enumerate() {
        if i != ok[0] {
            assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
            assert_eq!(r.body["error"]["code"], json!("duplicate_ip"));
            assert_eq!(r.body["error"]["listing_id"], json!(winner));
        }
    }
    let active: i64 = sqlx::query_scalar(
        "select count(*) from listings where status in ('pending_review', 'listed') and $1 = any(ip_numbers)",
    )
    .bind(&number)
    .fetch_one(&mk.app.pool)
    .await
    .unwrap();
    assert_eq!(active, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn approval_is_refused_when_the_number_became_active_elsewhere(pool: PgPool) {
    let mk = Market::new(pool).await;
    let a = mk.app.verified_member("a@uni.example", "suaee").await;
    let b = mk.app.verified_member("b@cq.example", "cquaee").await;
    let number = patent();
    let mut first = body("待审成果");
    first["ip_numbers"] = json!([number.clone()]);
    let pending = mk.create(&a, first).await;
    mk.submit(&a, &pending).await;
    // Another exchange's listing with the same number listed meanwhile (e.g. imported as listed).
    let mut second = body("另一交易所的同号成果");
    second["ip_numbers"] = json!([number.clone()]);
    let other = mk.create(&b, second).await;
    sqlx::query(
        "update listings set status = 'listed', listed_at = now(), ip_canonical = \
         (select ip_canonical from listings where id = $2::uuid) where id = $1::uuid",
    )
    .bind(&other)
    .bind(&pending)
    .execute(&mk.app.pool)
    .await
    .unwrap();
    let r = mk.approve("suaee", &pending).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("duplicate_ip"));
    assert_eq!(r.body["error"]["listing_id"], json!(other));
    let status: String = sqlx::query_scalar("select status from listings where id = $1::uuid")
        .bind(&pending)
        .fetch_one(&mk.app.pool)
        .await
        .unwrap();
    assert_eq!(status, "pending_review", "nothing changed");
}

#[sqlx::test(migrations = "./migrations")]
async fn reviewers_see_likely_duplicates_of_the_same_owner_side_by_side(pool: PgPool) {
    let mk = Market::new(pool).await;
    let owner = mk.app.verified_member("owner@uni.example", "suaee").await;
    let stranger = mk.app.verified_member("other@uni.example", "suaee").await;
    let old = mk
        .publish(&owner, "suaee", body("F级50兆瓦重型燃气轮机"))
        .await;
    // A very similar title from someone else is not a likely duplicate of the owner's.
    let theirs = mk.create(&stranger, body("F级50兆瓦重型燃气轮机")).await;
    mk.submit(&stranger, &theirs).await;
    let new = mk
        .create(&owner, body("F级 50 兆瓦重型燃气轮机（改进型）"))
        .await;
    mk.submit(&owner, &new).await;
    let unrelated = mk.create(&owner, body("齿轨列车关键技术")).await;
    mk.submit(&owner, &unrelated).await;

    let cookies = browser_login(&mk.app, "admin-suaee@test.example").await;
    let queue = mk.app.page("/admin/listings", &cookies).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    let doc = scraper::Html::parse_document(&queue.text);
    let rows = scraper::Selector::parse("tbody tr").unwrap();
    let flag = scraper::Selector::parse(".likely-duplicate a").unwrap();
    let mut flagged = Vec::new();
    for row in doc.select(&rows) {
        let title: String = row
            .select(&scraper::Selector::parse("td a").unwrap())
            .next()
            .unwrap()
            .text()
            .collect();
        let hints: Vec<String> = row
            .select(&flag)
            .map(|a| a.value().attr("href").unwrap().to_string())
            .collect();
        flagged.push((title, hints));
    }
    let hints_of = |t: &str| {
        flagged
            .iter()
            .find(|(title, _)| title == t)
            .map(|(_, h)| h.clone())
            .unwrap()
    };
    assert_eq!(
        hints_of("F级 50 兆瓦重型燃气轮机（改进型）"),
        vec![format!("/admin/listings/{new}?compare={old}#compare")]
    );
    assert!(hints_of("齿轨列车关键技术").is_empty());
    assert!(
        hints_of("F级50兆瓦重型燃气轮机").is_empty(),
        "another owner's"
    );

    let review = mk
        .app
        .page(&format!("/admin/listings/{new}?compare={old}"), &cookies)
        .await;
    assert_eq!(review.status, StatusCode::OK);
    assert_eq!(
        select_all(&review.text, ".side-by-side td.this"),
        ["F级 50 兆瓦重型燃气轮机（改进型）"]
    );
    assert_eq!(
        select_all(&review.text, ".side-by-side td.other"),
        ["F级50兆瓦重型燃气轮机"]
    );
    let unrelated_page = mk
        .app
        .page(&format!("/admin/listings/{unrelated}"), &cookies)
        .await;
    assert!(select_all(&unrelated_page.text, ".side-by-side").is_empty());
}

fn select_all(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}
