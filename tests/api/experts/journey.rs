//! The first half of issue 21's Done-when, as a new user would go: a Sichuan institute lists a
//! patent with the Chongqing exchange; the Chongqing admin registers experts from both provinces
//! and assembles a panel of three on the evaluation page; each expert scores on their form (in
//! Chinese or English); the listing's page then shows the badge and the published report.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use super::*;

async fn member(
    app: &TestApp,
    email: &str,
    name: &str,
    province: &str,
    exchange: &str,
    n: u32,
) -> Member {
    let r = app
        .register(
            email,
            "institute",
            province,
            exchange,
            Some(credit_code_in(province, n)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let user = r.body["user"]["id"].as_str().unwrap().to_string();
    let org = r.body["organization"]["id"].as_str().unwrap().to_string();
    sqlx::query("update organizations set verified_at = now() where id = $1::uuid")
        .bind(&org)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update users set display_name = $2 where id = $1::uuid")
        .bind(&user)
        .bind(name)
        .execute(&app.pool)
        .await
        .unwrap();
    let l = app.login(email, PASSWORD).await;
    Member {
        token: l.body["token"].as_str().unwrap().to_string(),
        user_id: user,
        org_id: org,
        email: email.to_string(),
    }
}

/// Posts a form of the page at `page` (with its CSRF token) and returns the answer.
async fn submit(
    app: &TestApp,
    cookies: &str,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Resp {
    let p = app.page(page, cookies).await;
    assert_eq!(p.status, StatusCode::OK, "{page}: {}", p.text);
    let token = input_value(&p.text, "_csrf").expect("a CSRF token");
    let mut sent = fields.to_vec();
    sent.push(("_csrf", token.as_str()));
    app.form(action, cookies, &sent).await
}

#[sqlx::test(migrations = "./migrations")]
async fn a_chongqing_admin_has_a_sichuan_patent_evaluated_and_the_listing_shows_the_report(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let cq_admin = app.admin("cquaee").await;
    let owner = member(
        &app,
        "tto@sc-institute.example",
        "技术转移办公室",
        "sichuan",
        "cquaee",
        810_001,
    )
    .await;
    // The patent: drafted, submitted, approved by the Chongqing exchange.
    let r = app
        .post(
            "/api/v1/listings",
            Some(&owner.token),
            json!({"title": "高速流水线ADC芯片", "summary": "12位 1GS/s 模数转换器", "description": "面向通信基站的高速ADC。",
                   "field": "ic", "ip_type": "invention_patent", "ip_numbers": ["ZL201710601862.3"], "trl": 5,
                   "transaction_modes": ["transfer"], "keywords": ["ADC", "芯片"], "pricing": {"mode": "negotiable"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let l = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["province"], json!("sichuan"));
    let r = app
        .post(
            &format!("/api/v1/listings/{l}/submit"),
            Some(&owner.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{l}/review"),
            Some(&cq_admin),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Three experts from both provinces, registered on the pool's page.
    let admin_web = web_login(&app, "admin-cquaee@test.example").await;
    let people = [
        ("zhang@scu.example", "张教授", "sichuan", "suaee"),
        ("li@cqu.example", "李研究员", "chongqing", "cquaee"),
        ("wang@uestc.example", "王教授", "sichuan", "nttc_sw"),
    ];
    let mut experts = Vec::new();
    for (i, (email, name, province, exchange)) in people.iter().enumerate() {
        let m = member(&app, email, name, province, exchange, 810_010 + i as u32).await;
        let r = submit(
            &app,
            &admin_web,
            "/admin/experts",
            "/admin/experts",
            &[
                ("email", email),
                ("fields", "ic"),
                ("fields", "eit"),
                ("title", "教授"),
                ("bio", "集成电路设计。"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        experts.push(m);
    }
    let dir = app.page("/experts?field=ic", "").await;
    for (_, name, ..) in &people {
        assert!(dir.text.contains(name), "{name} in the directory");
    }

    // The panel: suggested on the page, chosen, opened.
    let panel_uri = format!("/admin/listings/{l}/evaluation");
    let page = app.page(&panel_uri, &admin_web).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let ids: Vec<String> = sqlx::query_scalar("select id::text from experts order by created_at")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for id in &ids {
        assert!(page.text.contains(id.as_str()), "expert {id} suggested");
    }
    let due = (chrono::Utc::now() + chrono::Duration::days(10) + chrono::Duration::hours(8))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let r = submit(
        &app,
        &admin_web,
        &panel_uri,
        &panel_uri,
        &[
            ("expert", &ids[0]),
            ("expert", &ids[1]),
            ("expert", &ids[2]),
            ("due_at", &due),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let ev: String =
        sqlx::query_scalar("select id::text from evaluations where listing_id = $1::uuid")
            .bind(&l)
            .fetch_one(&app.pool)
            .await
            .unwrap();

    // Each expert finds the invitation in the inbox and scores on the form.
    let marks = [
        ("6", "4", "4", "3", "性能指标达到国内先进水平。"),
        ("7", "5", "4", "4", "Pilot data are convincing."),
        ("6", "4", "3", "4", "建议补充可靠性测试。"),
    ];
    for (i, m) in experts.iter().enumerate() {
        let web = web_login(&app, &m.email).await;
        let inbox = app.page("/inbox", &web).await;
        assert!(
            inbox
                .text
                .contains("邀请您评价科技成果「高速流水线ADC芯片」"),
            "{}",
            inbox.text
        );
        let form_uri = if i == 1 {
            format!("/evaluations/{ev}?lang=en")
        } else {
            format!("/evaluations/{ev}")
        };
        let (t, inn, adv, mk, comment) = marks[i];
        let r = submit(
            &app,
            &web,
            &form_uri,
            &format!("/evaluations/{ev}/scores"),
            &[
                ("maturity_trl", t),
                ("innovation", inn),
                ("advancement", adv),
                ("market", mk),
                ("comment", comment),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    }

    // Published: the badge and the report on the listing's page, in both languages.
    let zh = app.page(&format!("/listings/{l}"), "").await;
    assert!(zh.text.contains("专家评价 · TRL 6"), "{}", zh.text);
    for (_, name, ..) in &people {
        assert!(zh.text.contains(name), "{name}'s comment with their name");
    }
    assert!(zh.text.contains("性能指标达到国内先进水平。") && zh.text.contains("专家评价报告"));
    let en = app.page(&format!("/listings/{l}?lang=en"), "").await;
    assert!(
        en.text.contains("Expert evaluation · TRL 6")
            && en.text.contains("Pilot data are convincing.")
    );
    let r = app.get(&format!("/api/v1/listings/{l}"), None).await;
    assert_eq!(
        r.body["evaluation"]["report"],
        json!({"maturity_trl": 6, "innovation": 4, "advancement": 4, "market": 4, "scores": 3,
        "spread": {"maturity_trl": {"min": 6, "max": 7}, "innovation": {"min": 4, "max": 5}, "advancement": {"min": 3, "max": 4}, "market": {"min": 3, "max": 4}}})
    );
}
