//! Issue 18: notices for every step that waits on someone, written in the change's transaction
//! (a rolled-back change leaves none), read in the API and the inbox page in both languages; and
//! administrators landing on /admin with the counts of what waits for them.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

/// The caller's notices of `kind` in the API, in `lang`.
async fn notices(app: &TestApp, token: &str, kind: &str, lang: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/api/v1/notifications?per_page=100&lang={lang}"),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == json!(kind))
        .cloned()
        .collect()
}

async fn count_kind(app: &TestApp, kind: &str) -> i64 {
    sqlx::query_scalar("select count(*) from notifications where kind = $1")
        .bind(kind)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Makes every audit row fail: the change that writes one rolls back with its notices.
async fn break_audit(app: &TestApp) {
    sqlx::query(
        "create function fail_audit() returns trigger language plpgsql as \
         $$ begin raise exception 'audit unavailable'; end $$",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "create trigger fail_audit before insert on audit_log for each row execute function fail_audit()",
    )
    .execute(&app.pool)
    .await
    .unwrap();
}

async fn mend_audit(app: &TestApp) {
    sqlx::query("drop trigger fail_audit on audit_log")
        .execute(&app.pool)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "./migrations")]
async fn admins_hear_of_a_new_organisation_and_its_members_of_the_verification(pool: PgPool) {
    let app = TestApp::new(pool);
    let suaee = app.admin("suaee").await;
    let cquaee = app.admin("cquaee").await;
    let m = app.member("new@org.cn", "suaee").await;

    let waiting = notices(&app, &suaee, "organization_waiting", "zh").await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(waiting[0]["title"]
        .as_str()
        .unwrap()
        .contains("测试机构 new@org.cn"));
    let en = notices(&app, &suaee, "organization_waiting", "en").await;
    assert!(en[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("New organisation to verify"));
    assert!(
        notices(&app, &cquaee, "organization_waiting", "zh")
            .await
            .is_empty(),
        "another exchange's admin is not told"
    );
    assert!(notices(&app, &m.token, "organization_waiting", "zh")
        .await
        .is_empty());

    // A registration that fails after the organisation's row (the e-mail is taken) leaves no notice.
    let r = app
        .register(
            "new@org.cn",
            "enterprise",
            "sichuan",
            "suaee",
            Some(credit_code_in("sichuan", 777_001)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(count_kind(&app, "organization_waiting").await, 1);

    // A verification whose audit fails rolls back: no notice, still unverified.
    break_audit(&app).await;
    let verify = format!("/api/v1/admin/organizations/{}/verify", m.org_id);
    let r = app.post(&verify, Some(&suaee), json!({})).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(count_kind(&app, "organization_verified").await, 0);
    mend_audit(&app).await;

    let r = app.post(&verify, Some(&suaee), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let told = notices(&app, &m.token, "organization_verified", "zh").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0]["text"].as_str().unwrap().contains("通过"));
    let told = notices(&app, &m.token, "organization_verified", "en").await;
    assert!(told[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("Your organisation is verified"));
    // Verifying again changes nothing and tells no one again.
    let r = app.post(&verify, Some(&suaee), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(count_kind(&app, "organization_verified").await, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_refusal_needs_a_reason_and_tells_the_organisation_why(pool: PgPool) {
    let app = TestApp::new(pool);
    app.admin("suaee").await;
    app.admin("cdipex").await;
    let m = app.member("refused@org.cn", "suaee").await;
    let other = app.member("elsewhere@org.cn", "cdipex").await;
    let cookies = web_login(&app, "admin-suaee@test.example").await;
    let page = app.page("/admin", &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let refuse = format!("/admin/organizations/{}/refuse", m.org_id);

    // No reason: the page again with the error beside the form; nothing changes.
    let r = app
        .form(&refuse, &cookies, &[("_csrf", &csrf), ("reason", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("field-error"), "{}", r.text);
    assert_eq!(count_kind(&app, "organization_refused").await, 0);

    // Another exchange's organisation: refused with 403.
    let r = app
        .form(
            &format!("/admin/organizations/{}/refuse", other.org_id),
            &cookies,
            &[("_csrf", &csrf), ("reason", "材料不全")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // A refusal whose audit fails leaves no notice.
    break_audit(&app).await;
    let r = app
        .form(
            &refuse,
            &cookies,
            &[("_csrf", &csrf), ("reason", "信用代码与营业执照不符")],
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(count_kind(&app, "organization_refused").await, 0);
    mend_audit(&app).await;

    let before = app.page("/admin", &cookies).await;
    let r = app
        .form(
            &refuse,
            &cookies,
            &[("_csrf", &csrf), ("reason", "信用代码与营业执照不符")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let told = notices(&app, &m.token, "organization_refused", "zh").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0]["text"]
        .as_str()
        .unwrap()
        .contains("信用代码与营业执照不符"));
    let told = notices(&app, &m.token, "organization_refused", "en").await;
    assert!(told[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Reason: 信用代码与营业执照不符"));
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'organization.refuse' and target_id = $1",
    )
    .bind(&m.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // It left the verification queue: the count on /admin fell by one.
    let after = app.page("/admin", &cookies).await;
    assert_eq!(
        waiting_count(&before.text, "/admin#orgs") - 1,
        waiting_count(&after.text, "/admin#orgs")
    );

    // Once verified it can no longer be refused.
    let suaee = app.login("admin-suaee@test.example", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/admin/organizations/{}/verify", m.org_id),
            Some(&suaee),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .form(
            &refuse,
            &cookies,
            &[("_csrf", &csrf), ("reason", "再次退回")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
}

/// The count shown on /admin for the queue at `link`.
fn waiting_count(html: &str, link: &str) -> i64 {
    let doc = scraper::Html::parse_document(html);
    let sel =
        scraper::Selector::parse(&format!(".waiting-list a[href=\"{link}\"] .count")).unwrap();
    doc.select(&sel)
        .next()
        .unwrap_or_else(|| panic!("no count for {link}"))
        .text()
        .collect::<String>()
        .trim()
        .parse()
        .unwrap()
}

fn listing_body(title: &str, n: u32) -> Value {
    json!({
        "title": title,
        "summary": "一项示例科技成果。",
        "description": "第一段介绍。\n\n第二段介绍。",
        "field": "ic",
        "ip_type": "invention_patent",
        "ip_numbers": [techmarket::service::listings::patent_number(2019, '1', 880_000 + n)],
        "trl": 6,
        "transaction_modes": ["transfer"],
        "keywords": ["示例"],
        "pricing": {"mode": "fixed", "price_fen": 350_000_000i64}
    })
}

#[sqlx::test(migrations = "./migrations")]
async fn a_submitted_listing_waits_in_its_exchanges_admins_inboxes_and_on_admin(pool: PgPool) {
    let app = TestApp::new(pool);
    let suaee = app.admin("suaee").await;
    let cdipex = app.admin("cdipex").await;
    let m = app.verified_member("lister@org.cn", "suaee").await;
    let r = app
        .post(
            "/api/v1/listings",
            Some(&m.token),
            listing_body("待审核的燃气轮机叶片", 1),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let cookies = web_login(&app, "admin-suaee@test.example").await;
    let before = waiting_count(&app.page("/admin", &cookies).await.text, "/admin/listings");

    // A submission that rolls back (its audit fails) leaves no notice.
    break_audit(&app).await;
    let submit = format!("/api/v1/listings/{id}/submit");
    let r = app.post(&submit, Some(&m.token), json!({})).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(count_kind(&app, "listing_waiting").await, 0);
    mend_audit(&app).await;

    let r = app.post(&submit, Some(&m.token), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let told = notices(&app, &suaee, "listing_waiting", "zh").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0]["title"]
        .as_str()
        .unwrap()
        .contains("待审核的燃气轮机叶片"));
    assert!(notices(&app, &cdipex, "listing_waiting", "zh")
        .await
        .is_empty());
    let page = app.page("/admin", &cookies).await;
    assert_eq!(waiting_count(&page.text, "/admin/listings"), before + 1);

    // Returned, then submitted again: it waits again, and the admins are told again.
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&suaee),
            json!({"decision": "reject", "reason": "请补充检测报告"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let returned = notices(&app, &m.token, "listing_rejected", "zh").await;
    assert!(returned[0]["text"]
        .as_str()
        .unwrap()
        .contains("请补充检测报告"));
    let r = app.post(&submit, Some(&m.token), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        notices(&app, &suaee, "listing_waiting", "zh").await.len(),
        2
    );
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&suaee),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        notices(&app, &m.token, "listing_approved", "en")
            .await
            .len(),
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_fee_draft_waits_in_the_other_exchanges_admins_inboxes(pool: PgPool) {
    let app = TestApp::new(pool);
    let suaee = app.admin("suaee").await;
    let cquaee = app.admin("cquaee").await;
    let nttc = app.admin("nttc_sw").await;
    let side = json!({"bands": [{"up_to_fen": null, "rate_ppm": 20_000}], "min_fee_fen": 0, "max_fee_fen": null});
    let draft = json!({"name": "2027 年收费标准", "buyer": side, "seller": side});

    break_audit(&app).await;
    let r = app
        .post("/api/v1/admin/fee-schedules", Some(&suaee), draft.clone())
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(count_kind(&app, "fee_draft_waiting").await, 0);
    mend_audit(&app).await;

    let r = app
        .post("/api/v1/admin/fee-schedules", Some(&suaee), draft)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    for token in [&cquaee, &nttc] {
        let told = notices(&app, token, "fee_draft_waiting", "zh").await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0]["text"]
            .as_str()
            .unwrap()
            .contains("2027 年收费标准"));
        let drafter = techmarket::domain::codes::Exchange::parse("suaee").unwrap();
        assert!(told[0]["text"]
            .as_str()
            .unwrap()
            .contains(drafter.name_zh()));
    }
    assert!(
        notices(&app, &suaee, "fee_draft_waiting", "zh")
            .await
            .is_empty(),
        "the drafter's exchange may not decide it"
    );
    let cookies = web_login(&app, "admin-cquaee@test.example").await;
    let page = app.page("/admin", &cookies).await;
    assert_eq!(waiting_count(&page.text, "/admin/fees"), 1);
    let cookies = web_login(&app, "admin-suaee@test.example").await;
    let page = app.page("/admin", &cookies).await;
    assert_eq!(waiting_count(&page.text, "/admin/fees"), 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_seller_has_one_bid_notice_per_auction_renewed_by_each_bid(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@bids.cn", "suaee").await;
    let a = app.verified_member("a@bids.cn", "cdipex").await;
    let b = app.verified_member("b@bids.cn", "cquaee").await;
    let id = crate::trading::auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;
    let bids = format!("/api/v1/listings/{id}/bids");
    let r = app
        .post(&bids, Some(&a.token), json!({"amount_fen": 1_000_000}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let told = notices(&app, &seller.token, "bid_received", "zh").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0]["text"].as_str().unwrap().contains("¥10,000.00"));
    assert_eq!(told[0]["subject_type"], json!("listing"));
    let r = app
        .post(
            &format!(
                "/api/v1/notifications/{}/read",
                told[0]["id"].as_str().unwrap()
            ),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // The bidders are not told of their own bids as sellers.
    assert!(notices(&app, &a.token, "bid_received", "zh")
        .await
        .is_empty());

    // b's first bid (a transaction of its own) and a's known-bidder bid (one statement): the one
    // notice carries the latest price, unread again, newest in the inbox.
    let r = app
        .post(&bids, Some(&b.token), json!({"amount_fen": 1_100_000}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .post(&bids, Some(&a.token), json!({"amount_fen": 1_200_000}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let told = notices(&app, &seller.token, "bid_received", "en").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0]["text"].as_str().unwrap().contains("¥12,000.00"));
    assert_eq!(told[0]["read_at"], Value::Null);
    let r = app
        .get("/api/v1/notifications?per_page=1", Some(&seller.token))
        .await;
    assert_eq!(r.body["items"][0]["kind"], json!("bid_received"));

    // A refused bid (too low) writes nothing.
    let r = app
        .post(&bids, Some(&b.token), json!({"amount_fen": 1_200_000}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let told = notices(&app, &seller.token, "bid_received", "zh").await;
    assert!(told[0]["text"].as_str().unwrap().contains("¥12,000.00"));
}

#[sqlx::test(migrations = "./migrations")]
async fn offers_and_counter_offers_reach_the_other_party_in_the_inbox_page(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@offers.cn", "suaee").await;
    let buyer = app.verified_member("buyer@offers.cn", "cquaee").await;
    let id = crate::trading::listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let offer = crate::trading::offer(&app, &id, &buyer, 5_000_000).await;
    let told = notices(&app, &seller.token, "offer_received", "zh").await;
    assert_eq!(told.len(), 1, "{told:?}");
    let r = app
        .post(
            &format!("/api/v1/offers/{}/counter", offer["id"].as_str().unwrap()),
            Some(&seller.token),
            json!({"amount_fen": 6_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        notices(&app, &buyer.token, "offer_countered", "zh")
            .await
            .len(),
        1
    );
    let cookies = web_login(&app, "buyer@offers.cn").await;
    for (lang, words) in [("zh", "还价"), ("en", "counter")] {
        let page = app.page(&format!("/inbox?lang={lang}"), &cookies).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text.to_lowercase().contains(words),
            "{lang}: {}",
            page.text
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn administrators_land_on_admin_and_members_on_their_account(pool: PgPool) {
    let app = TestApp::new(pool);
    app.admin("suaee").await;
    app.member("waits@org.cn", "suaee").await;
    let code = otp_for(&app.pool, "admin-suaee@test.example")
        .await
        .unwrap();
    let (r, _) = send_login_form(
        &app,
        &[
            ("email", "admin-suaee@test.example"),
            ("password", PASSWORD),
            ("otp", &code),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.headers.get("location").unwrap(), "/admin");
    let (r, _) = send_login_form(&app, &[("email", "waits@org.cn"), ("password", PASSWORD)]).await;
    assert_eq!(r.headers.get("location").unwrap(), "/account");

    let cookies = web_login(&app, "admin-suaee@test.example").await;
    for lang in ["zh", "en"] {
        let page = app.page(&format!("/admin?lang={lang}"), &cookies).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(waiting_count(&page.text, "/admin#orgs"), 1);
        for link in [
            "/admin/listings",
            "/admin/fees",
            "/admin/disputes",
            "/admin/payouts",
        ] {
            assert_eq!(waiting_count(&page.text, link), 0, "{link}");
        }
    }
}

/// The row of the organisation with `credit_code` in the administrators' list on /admin.
fn org_row<'a>(page: &'a str, credit_code: &str) -> &'a str {
    page.split("<tr>")
        .find(|row| row.contains(credit_code))
        .unwrap_or_else(|| panic!("no row of {credit_code} in {page}"))
}

async fn credit_code(app: &TestApp, org_id: &str) -> String {
    sqlx::query_scalar("select credit_code from organizations where id = $1::uuid")
        .bind(org_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_admin_list_marks_a_refused_organisation_with_its_reason(pool: PgPool) {
    let app = TestApp::new(pool);
    app.admin("suaee").await;
    let refused = app.member("refused@org.cn", "suaee").await;
    let waiting = app.member("waiting@org.cn", "suaee").await;
    let (code, waiting_code) = (
        credit_code(&app, &refused.org_id).await,
        credit_code(&app, &waiting.org_id).await,
    );
    let cookies = web_login(&app, "admin-suaee@test.example").await;
    let page = app.page("/admin", &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    // Before the refusal the row says unverified, not refused.
    assert!(!org_row(&page.text, &code).contains("data-refused"));
    let r = app
        .form(
            &format!("/admin/organizations/{}/refuse", refused.org_id),
            &cookies,
            &[("_csrf", &csrf), ("reason", "营业执照 & 信用代码不符")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);

    let zh = app.page("/admin", &cookies).await;
    let row = org_row(&zh.text, &code);
    assert!(
        row.contains("data-refused") && row.contains("已拒绝"),
        "{row}"
    );
    assert!(
        row.contains("营业执照 &#38; 信用代码不符"),
        "the reason, escaped: {row}"
    );
    // The organisation still waiting is not marked, and keeps its unverified tag.
    let other = org_row(&zh.text, &waiting_code);
    assert!(!other.contains("data-refused"), "{other}");
    assert!(other.contains("tag warn"), "{other}");
    let en = app.page("/admin?lang=en", &cookies).await;
    assert!(org_row(&en.text, &code).contains(">Refused<"));

    // Verified after all: no longer marked refused.
    let token = app.login("admin-suaee@test.example", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/admin/organizations/{}/verify", refused.org_id),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = app.page("/admin", &cookies).await;
    let row = org_row(&page.text, &code);
    assert!(
        !row.contains("data-refused") && row.contains("tag ok"),
        "{row}"
    );
}
