//! The pages, as a new user would go through them: a Sichuan institute applies to a Chongqing bank
//! from its listing, the bank sees the valuation reference with its chart and approves with the
//! registration number, a buyer is refused while pledged, then the bank releases it.
use axum::http::{header, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::*;

/// A form of the page at `page` sent with that page's CSRF token.
async fn send(
    app: &TestApp,
    cookies: &str,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Resp {
    let p = app.page(page, cookies).await;
    assert_eq!(p.status, StatusCode::OK, "{page}: {}", p.text);
    let token = input_value(&p.text, "_csrf").expect("the page has a form");
    let mut sent = fields.to_vec();
    sent.push(("_csrf", &token));
    app.form(action, cookies, &sent).await
}

fn location(r: &Resp) -> String {
    r.headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[sqlx::test(migrations = "./migrations")]
async fn an_institute_pledges_its_patent_to_a_bank_through_the_pages(pool: PgPool) {
    let app = TestApp::new(pool);
    let (owner, bank, id) = patent_and_bank(&app, "fixed").await;
    let owner_web = web_login(&app, &owner.email).await;
    let bank_web = web_login(&app, &bank.email).await;

    // The bank publishes a product; the public page shows it in both languages.
    let r = send(
        &app,
        &bank_web,
        "/finance",
        "/finance/products",
        &[
            ("name", "知识价值信用贷款"),
            ("rate_min", "3.5"),
            ("rate_max", "4.8"),
            ("max_amount", "1000万"),
            ("term_min_months", "6"),
            ("term_max_months", "36"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    for (lang, words) in [("zh-CN", "科技金融"), ("en", "Technology finance")] {
        let p = app.page(&format!("/finance?lang={lang}"), "").await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(
            p.text.contains(words) && p.text.contains("知识价值信用贷款"),
            "{lang}"
        );
        assert!(p.text.contains("3.5%") && p.text.contains("4.8%"), "{lang}");
    }

    // Two comparable deals settled this year.
    let earlier = app.verified_member("earlier@buyer.cn", "cdipex").await;
    for (price, days) in [(150_000_000, 30), (250_000_000, 90)] {
        super::requests::settled_trade(
            &app,
            &owner,
            &earlier,
            "ic",
            "invention_patent",
            price,
            days,
        )
        .await;
    }

    // The owner applies from its listing's page.
    let listing_page = app.page(&format!("/listings/{id}"), &owner_web).await;
    assert!(listing_page
        .text
        .contains(&format!("/listings/{id}/pledge")));
    let r = send(
        &app,
        &owner_web,
        &format!("/listings/{id}/pledge"),
        &format!("/listings/{id}/pledge"),
        &[
            ("lender", &bank.org_id),
            ("amount", "100万"),
            ("term", "12"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let request_page = location(&r);
    assert!(
        request_page.starts_with("/finance/pledges/"),
        "{request_page}"
    );
    let rid = request_page
        .trim_start_matches("/finance/pledges/")
        .split('?')
        .next()
        .unwrap()
        .to_string();

    // The bank's queue lists it; its page shows the valuation table and, with comparable
    // trades, the chart.
    let q = app.page("/finance/pledges?lang=en", &bank_web).await;
    assert!(q.text.contains(&rid), "{}", q.text);
    let p = app
        .page(&format!("/finance/pledges/{rid}?lang=en"), &bank_web)
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.text.contains("Valuation reference") && p.text.contains("Median of comparable trades")
    );
    assert!(
        p.text.contains("registration_no"),
        "the bank sees the approval form"
    );
    assert!(p.text.contains("<svg"), "the chart of comparable prices");
    assert!(
        p.text.contains("¥2,000,000.00"),
        "the median of 150万 and 250万"
    );
    let p = app
        .page(&format!("/finance/pledges/{rid}"), &owner_web)
        .await;
    assert!(p.text.contains("估值参考"));
    assert!(
        !p.text.contains("name=\"registration_no\""),
        "the owner cannot decide"
    );

    let r = send(
        &app,
        &bank_web,
        &format!("/finance/pledges/{rid}"),
        &format!("/finance/pledges/{rid}/approve"),
        &[("registration_no", "2026-CQ-ZY-000123")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let l = app.get(&format!("/api/v1/listings/{id}"), None).await;
    assert_eq!(
        l.body["pledge"]["registration_no"],
        json!("2026-CQ-ZY-000123")
    );

    // A buyer's purchase is refused with a message naming the pledge.
    let buyer = app.verified_member("buyer@auto.cq.cn", "cquaee").await;
    let buy = format!("/api/v1/listings/{id}/buy");
    let r = app
        .post(
            &buy,
            Some(&buyer.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], json!("ip_pledged"));

    let r = send(
        &app,
        &bank_web,
        &format!("/finance/pledges/{rid}"),
        &format!("/finance/pledges/{rid}/release"),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = app
        .post(
            &buy,
            Some(&buyer.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
