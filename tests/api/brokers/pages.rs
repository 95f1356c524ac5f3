//! The pages, as a new user would go through them (issue 21 "Done when", second half): an admin
//! certifies a broker on /admin/brokers; the buyer engages the broker on the trade page; the broker
//! accepts on their page; the trade settles; the broker's page shows the commission earned, the
//! buyer's statement what was paid to whom, the registration CSV the commission; both languages.
use axum::http::{header, StatusCode};

use super::*;

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
async fn a_broker_engaged_by_the_buyer_sees_the_commission_arrive_and_the_statement_says_to_whom(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@broker.example", "suaee").await;
    let buyer = app.verified_member("buyer@broker.example", "cquaee").await;
    let broker = app.verified_member("jjr@broker.example", "cquaee").await;
    let token = app.admin("cquaee").await;
    let admin_web = web_login(&app, "admin-cquaee@test.example").await;
    // The admin certifies the broker by e-mail; an unknown e-mail is said so on the form.
    let r = send(
        &app,
        &admin_web,
        "/admin/brokers",
        "/admin/brokers",
        &[
            ("email", "nobody@broker.example"),
            ("certificate_no", "渝技经证 2026-0007"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("没有使用该邮箱的会员"), "{}", r.text);
    let r = send(
        &app,
        &admin_web,
        "/admin/brokers",
        "/admin/brokers",
        &[
            ("email", "JJR@broker.example"),
            ("certificate_no", "渝技经证 2026-0007"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let p = app.page("/admin/brokers?lang=en", &admin_web).await;
    assert!(
        p.text.contains("渝技经证 2026-0007") && p.text.contains("Certify a technology broker")
    );

    let t = trade(&app, &seller, "suaee", &buyer, "cquaee", 350_000_000).await;
    let buyer_web = web_login(&app, &buyer.email).await;
    let page = app.page(&format!("/trades/{t}"), &buyer_web).await;
    assert!(
        page.text.contains("提议聘请"),
        "the engagement step is on the trade page"
    );
    let broker_id: String = sqlx::query_scalar("select id::text from brokers")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // A rate above 10% is refused with words, nothing made.
    let r = send(
        &app,
        &buyer_web,
        &format!("/trades/{t}"),
        &format!("/trades/{t}/broker"),
        &[("broker_id", &broker_id), ("side", "buyer"), ("rate", "12")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = app.page(&location(&r), &buyer_web).await;
    assert!(back.text.contains("佣金比例须在"), "{}", back.text);
    let r = send(
        &app,
        &buyer_web,
        &format!("/trades/{t}"),
        &format!("/trades/{t}/broker"),
        &[("broker_id", &broker_id), ("side", "buyer"), ("rate", "3")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        location(&r).contains("done=broker_engaged"),
        "{}",
        location(&r)
    );

    // The broker accepts on their page (in English).
    let broker_web = web_login(&app, &broker.email).await;
    let mine = app
        .page(&format!("/brokers/{broker_id}?lang=en"), &broker_web)
        .await;
    assert!(
        mine.text.contains("Accept") && mine.text.contains("Commission pending"),
        "{}",
        mine.text
    );
    let engagement: String = sqlx::query_scalar("select id::text from broker_engagements")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = send(
        &app,
        &broker_web,
        &format!("/brokers/{broker_id}"),
        &format!("/broker-engagements/{engagement}/accept"),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let mine = app
        .page(&format!("/brokers/{broker_id}"), &broker_web)
        .await;
    assert!(
        mine.text.contains("data-pending=\"10500000\""),
        "{}",
        mine.text
    );

    // The buyer is shown the amount due with the commission; the trade is paid and settled.
    let page = app.page(&format!("/trades/{t}"), &buyer_web).await;
    let bf: i64 = sqlx::query_scalar("select buyer_fee_fen from trades where id = $1::uuid")
        .bind(&t)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let due = techmarket::domain::money::format_yuan(350_000_000 + bf + 10_500_000);
    assert!(page.text.contains(&due), "{due} not on the trade page");
    let paid = app
        .post(
            &format!("/api/v1/admin/trades/{t}/payment-received"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    let done = app
        .post(
            &format!("/api/v1/trades/{t}/confirm-delivery"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);

    // The commission arrived: the broker's page shows it earned, nothing pending.
    let mine = app
        .page(&format!("/brokers/{broker_id}"), &broker_web)
        .await;
    assert!(
        mine.text.contains("data-earned=\"10500000\""),
        "{}",
        mine.text
    );
    assert!(mine.text.contains("data-pending=\"0\""));
    // The buyer's statement shows what was paid to whom, in both languages.
    for lang in ["zh-CN", "en"] {
        let s = app
            .page(&format!("/trades/{t}/statement?lang={lang}"), &buyer_web)
            .await;
        assert_eq!(s.status, StatusCode::OK);
        assert!(s.text.contains("class=\"commission buyer\""), "{}", s.text);
        assert!(s.text.contains("渝技经证 2026-0007"));
        assert!(s
            .text
            .contains(&techmarket::domain::money::format_yuan(10_500_000)));
        assert!(
            s.text.contains("data-kind=\"broker_commission\""),
            "the movement from the ledger"
        );
    }
    // The registration CSV carries the commission.
    let csv = app
        .get("/api/v1/admin/trades/registration.csv", Some(&token))
        .await;
    assert!(csv.text.contains("105000.00"), "{}", csv.text);
    assert!(csv.text.contains("买方经纪人"), "{}", csv.text);
    // The directory lists the broker for members.
    let d = app.page("/brokers?lang=en", &buyer_web).await;
    assert!(
        d.text.contains("渝技经证 2026-0007") && d.text.contains("Certified technology brokers")
    );
}
