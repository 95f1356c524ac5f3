//! The trading pages: the negotiation thread, the listing panel, forms that bid, buy, offer and
//! confirm; the demo data.
use axum::http::{header, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

use super::*;

// ---------------------------------------------------------------- pages

#[sqlx::test(migrations = "./migrations")]
async fn the_negotiation_page_shows_the_thread_and_the_right_forms(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let o = offer(&app, &id, &b, 12_345_600).await;
    let thread = o["thread_id"].as_str().unwrap();
    let oid = o["id"].as_str().unwrap();

    let cookies = web_login(&app, "seller@chip.cn").await;
    let page = app.page(&format!("/offers/{thread}"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    let doc = scraper::Html::parse_document(&page.text);
    let rows = scraper::Selector::parse("table.offers-thread tbody tr").unwrap();
    assert_eq!(doc.select(&rows).count(), 1);
    assert!(page.text.contains("¥123,456.00"));
    assert!(page.text.contains("转让"));
    let accept =
        scraper::Selector::parse(&format!("form[action=\"/offers/{oid}/accept\"]")).unwrap();
    assert_eq!(doc.select(&accept).count(), 1, "the seller may accept");

    // The seller counters through the form; the buyer sees the counter and may accept it.
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/offers/{oid}/counter"),
            &cookies,
            &[("_csrf", &csrf), ("amount", "130万")],
        )
        .await;
    // First the confirmation (amount in 万元 and capitals), then the counter-offer itself.
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("壹佰叁拾万元整"));
    // 130万 answers ¥123,456: 10.5 times, so the box confirming the outlier must be ticked.
    assert!(r.text.contains("data-outlier"));
    let r = app
        .form(
            &format!("/offers/{oid}/counter"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("amount", "130万"),
                ("confirmed", "1"),
                ("confirm_outlier", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let bc = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/offers/{thread}?lang=en"), &bc).await;
    assert!(page.text.contains("¥1,300,000.00"), "{}", page.text);
    let doc = scraper::Html::parse_document(&page.text);
    let forms = scraper::Selector::parse("form[action$=\"/accept\"]").unwrap();
    assert_eq!(doc.select(&forms).count(), 1);
    let my = app.page("/my/offers", &bc).await;
    assert!(my.text.contains(&format!("/offers/{thread}")));

    // A bad amount through the form comes back with a message, not an error page.
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/listings/{id}/offers"),
            &bc,
            &[
                ("_csrf", &csrf),
                ("amount", "abc"),
                ("transaction_mode", "transfer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("trading_error=err.amount"));
    // Someone else's thread: not found.
    let stranger = app.verified_member("x@buyer.cn", "suaee").await;
    let xc = web_login(&app, &stranger.email).await;
    assert_eq!(
        app.page(&format!("/offers/{thread}"), &xc).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn bidding_through_the_form_redirects_back_to_the_listing(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page("/my/offers", &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/listings/{id}/bids"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("amount", "1000"),
                ("idempotency_key", "k1"),
                ("confirmed", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/listings/{id}?trading=bid#trading").as_str()
    );
    let r = app
        .form(
            &format!("/listings/{id}/bids"),
            &cookies,
            &[("_csrf", &csrf), ("amount", "1000"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/listings/{id}?trading_error=bid_too_low#trading").as_str()
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_demo_data_adds_bids_and_a_negotiation_once(pool: PgPool) {
    let app = TestApp::new(pool);
    // Nothing to do without the listings' demo data.
    techmarket::service::trading::seed_demo(&app.pool)
        .await
        .unwrap();
    let seller = app
        .verified_member("chip@demo.techmarket.cn", "suaee")
        .await;
    app.verified_member("buyer-chip@demo.techmarket.cn", "suaee")
        .await;
    app.verified_member("buyer-energy@demo.techmarket.cn", "cquaee")
        .await;
    app.verified_member("buyer-auto@demo.techmarket.cn", "cquaee")
        .await;
    let auc = auction(&app, &seller, 100_000, 10_000, None, 86_400, 300).await;
    let neg = listing(&app, &seller, "negotiable", &["transfer"], Some(1_000_000)).await;
    for _ in 0..2 {
        techmarket::service::trading::seed_demo(&app.pool)
            .await
            .unwrap();
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &auc
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from offers where listing_id = $1::uuid and status = 'open'",
            &neg
        )
        .await,
        1
    );
    let a = app
        .get(&format!("/api/v1/listings/{auc}/auction"), None)
        .await;
    assert_eq!(a.body["bid_count"], json!(3));
    assert_eq!(a.body["bids"][0]["bidder"], json!("竞买人1"));
    assert_eq!(a.body["bids"][1]["bidder"], json!("竞买人2"));
}

fn page_ctx(
    m: Option<&Member>,
    lang: techmarket::i18n::Lang,
) -> techmarket::http::context::PageCtx {
    use techmarket::http::context::{PageCtx, RequestCtx};
    let user = m.map(|m| techmarket::auth::CurrentUser {
        id: m.user_id.parse().unwrap(),
        email: m.email.clone(),
        display_name: "测试用户".into(),
        role: techmarket::domain::codes::Role::Member,
        organization_id: Some(m.org_id.parse().unwrap()),
        org_role: Some(techmarket::domain::codes::OrgRole::Owner),
        admin_exchange: None,
        api_key: None,
    });
    PageCtx::from_request(&RequestCtx {
        lang,
        is_api: false,
        path: "/listings/x".into(),
        query: Some("trading_error=bid_too_low".into()),
        user,
        csrf: "c".into(),
        unread: 0,
        session_secret: None,
    })
}

#[sqlx::test(migrations = "./migrations")]
async fn the_listing_panel_shows_the_fee_the_next_minimum_and_the_guards(pool: PgPool) {
    use techmarket::http::web::trading::listing_panel;
    use techmarket::i18n::Lang;
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let unverified = app.member("new@buyer.cn", "cquaee").await;
    let fixed = listing(&app, &seller, "fixed", &["transfer"], Some(350_000_000)).await;
    let auc = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    app.post(
        &format!("/api/v1/listings/{auc}/bids"),
        Some(&b.token),
        json!({"amount_fen": 100_000}),
    )
    .await;

    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&b), Lang::Zh),
        fixed.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(p.is_fixed() && p.can_act());
    assert_eq!(p.buyer_fee_fen, Some(4_000_000), "unified v1 on ¥3,500,000");

    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&b), Lang::En),
        auc.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(p.is_auction() && p.auction_open() && p.you_lead);
    assert_eq!(p.min_next_yuan, "1010");
    assert_eq!(p.error, "Bid too low: the minimum now is ¥1,010.00.");
    assert_eq!(p.auction.as_ref().unwrap().bids[0].bidder_en, "Bidder 1");
    // The live panel knows the viewer's pseudonym (as the events carry it) to say who leads.
    assert_eq!(p.my_bidder, p.auction.as_ref().unwrap().bids[0].bidder);

    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&unverified), Lang::Zh),
        auc.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(!p.can_act());
    assert_eq!(
        p.guard,
        techmarket::i18n::t(Lang::Zh, "error.organization_unverified")
    );
    assert!(!p.guard.is_empty());
    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&seller), Lang::Zh),
        auc.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(p.is_owner && !p.can_act() && !p.you_lead);
    assert_eq!(p.my_bidder, "", "the seller never bid");
    let p = listing_panel(
        &app.state,
        &page_ctx(None, Lang::Zh),
        fixed.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(!p.signed_in && !p.can_act());
}

/// A credit restriction put on a buyer after its offer: the seller's accept is refused and no
/// trade is made. Withdrawing the listing closes its other open offers and tells their makers.
#[sqlx::test(migrations = "./migrations")]
async fn no_deal_with_a_restricted_buyer_and_withdrawal_closes_the_offers(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bad = app.verified_member("bad@buyer.cn", "cdipex").await;
    let good = app.verified_member("good@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let bad_offer = offer(&app, &id, &bad, 100_000).await;
    let good_offer = offer(&app, &id, &good, 90_000).await;
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason) values ($1, $2::uuid, '失信')",
    )
    .bind(Uuid::now_v7())
    .bind(&bad.org_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let r = app
        .post(
            &format!(
                "/api/v1/offers/{}/accept",
                bad_offer["id"].as_str().unwrap()
            ),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("counterparty_restricted"));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );

    let r = app
        .post(
            &format!("/api/v1/listings/{id}/withdraw"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let status: String = sqlx::query_scalar("select status from offers where id = $1::uuid")
        .bind(good_offer["id"].as_str().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "closed");
    let told: i64 = sqlx::query_scalar(
        "select count(*) from notifications where organization_id = $1::uuid and title_zh like '成果已撤回%'",
    )
    .bind(&good.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, 1);
}

/// A non-exclusive licence listing can be withdrawn once its sales are settled, not while one is
/// unfinished.
#[sqlx::test(migrations = "./migrations")]
async fn a_licence_listing_is_withdrawable_after_its_sales_settle(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let buyer = app.verified_member("b@buyer.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = listing(
        &app,
        &seller,
        "fixed",
        &["nonexclusive_license"],
        Some(5_000_000),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/buy"),
            Some(&buyer.token),
            json!({"transaction_mode": "nonexclusive_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let trade = r.body["trade"]["id"].as_str().unwrap().to_string();
    let withdraw_uri = format!("/api/v1/listings/{id}/withdraw");
    let withdraw = || app.post(&withdraw_uri, Some(&seller.token), json!({}));
    let r = withdraw().await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "awaiting payment: {}",
        r.text
    );
    assert_eq!(r.body["error"]["code"], json!("listing_not_withdrawable"));
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{trade}/payment-received"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        withdraw().await.status,
        StatusCode::CONFLICT,
        "paid, not delivered"
    );
    let r = app
        .post(
            &format!("/api/v1/trades/{trade}/confirm-delivery"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = withdraw().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("withdrawn"));
}

/// Buying through the listing page is binding at once: the buyer ticks a box stating the total
/// (price + buyer fee); without it nothing is bought; with it the trade page says what comes next.
/// Delivery is confirmed the same way, stating what the seller will be paid.
#[sqlx::test(migrations = "./migrations")]
async fn buying_and_confirming_delivery_on_the_pages_need_the_amount_confirmed(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = listing(&app, &seller, "fixed", &["transfer"], Some(350_000_000)).await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    assert!(
        page.text
            .contains("我确认以 ¥3,540,000.00（成交价 + 买方服务费）购买"),
        "{}",
        page.text
    );
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let buy = format!("/listings/{id}/buy");
    let r = app
        .form(
            &buy,
            &cookies,
            &[("_csrf", &csrf), ("transaction_mode", "transfer")],
        )
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/listings/{id}?trading_error=err.trading.confirm_buy#trading").as_str()
    );
    let back = app
        .page(
            &format!("/listings/{id}?trading_error=err.trading.confirm_buy"),
            &cookies,
        )
        .await;
    assert!(back.text.contains("请勾选确认购买总额后再提交。"));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );

    let r = app
        .form(
            &buy,
            &cookies,
            &[
                ("_csrf", &csrf),
                ("transaction_mode", "transfer"),
                ("confirm", "1"),
            ],
        )
        .await;
    // The confirmation shows price, both fees and the total before the purchase is sent.
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("data-buyer-total"), "{}", r.text);
    assert!(r.text.contains("data-seller-fee"));
    let r = app
        .form(
            &buy,
            &cookies,
            &[
                ("_csrf", &csrf),
                ("transaction_mode", "transfer"),
                ("confirm", "1"),
                ("confirmed", "1"),
            ],
        )
        .await;
    let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(
        to.starts_with("/trades/") && to.ends_with("?done=bought"),
        "{to}"
    );
    let trade_page = app.page(&to, &cookies).await;
    assert!(trade_page.text.contains("购买成功"), "{}", trade_page.text);
    let trade = to
        .trim_start_matches("/trades/")
        .trim_end_matches("?done=bought")
        .to_string();

    let r = app
        .post(
            &format!("/api/v1/admin/trades/{trade}/payment-received"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = app.page(&format!("/trades/{trade}"), &cookies).await;
    assert!(
        page.text.contains("确认后将向卖方结算 ¥3,460,000.00"),
        "{}",
        page.text
    );
    let confirm = format!("/trades/{trade}/confirm-delivery");
    let r = app
        .form(&confirm, &cookies, &[("_csrf", &csrf), ("idem", "c1")])
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/trades/{trade}?error=confirm_required").as_str()
    );
    let r = app
        .form(
            &confirm,
            &cookies,
            &[("_csrf", &csrf), ("idem", "c2"), ("confirm", "1")],
        )
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/trades/{trade}?done=settled").as_str()
    );
    let status: String = sqlx::query_scalar("select status from trades where id = $1::uuid")
        .bind(&trade)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "settled");
}

/// A refused offer comes back with what the buyer typed, not an empty form.
#[sqlx::test(migrations = "./migrations")]
async fn a_refused_offer_keeps_what_was_typed(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(
        &app,
        &seller,
        "negotiable",
        &["transfer", "exclusive_license"],
        None,
    )
    .await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/listings/{id}/offers"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("amount", "-100"),
                ("transaction_mode", "exclusive_license"),
                ("message", "希望<独占>许可，价格可谈"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(back.contains("trading_error="), "{back}");
    assert_eq!(
        count(
            &app,
            "select count(*) from offers where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );
    let page = app.page(&back, &cookies).await;
    assert_eq!(input_value(&page.text, "amount").as_deref(), Some("-100"));
    assert!(
        page.text.contains("希望&#60;独占&#62;许可，价格可谈")
            || page.text.contains("希望&lt;独占&gt;许可，价格可谈"),
        "escaped and kept"
    );
    assert!(page
        .text
        .contains(r#"<option value="exclusive_license" selected>"#));
}

/// Issue 18: on a multi-day auction the bid history says on which day each bid came, to the
/// second, in Beijing time, in the page's language.
#[sqlx::test(migrations = "./migrations")]
async fn the_bid_history_shows_each_bids_date_and_time_in_beijing(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let buyer = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 800_000_000, 1_000_000, None, 3 * 86_400, 300).await;
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/bids"),
            Some(&buyer.token),
            json!({"amount_fen": 800_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // The bid came two days before: 06:03:05 UTC is 14:03:05 in Beijing.
    sqlx::query("update bids set created_at = '2026-12-05T06:03:05Z' where listing_id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let row = |page: &str| -> String {
        page.split("data-bids>")
            .nth(1)
            .expect("the bid history")
            .split("</tbody>")
            .next()
            .unwrap_or("")
            .to_string()
    };
    let zh = app.page(&format!("/listings/{id}"), "").await;
    assert_eq!(zh.status, StatusCode::OK);
    let history = row(&zh.text);
    assert!(history.contains(">12月5日 14:03:05<"), "{history}");
    assert!(
        history.contains("datetime=\"2026-12-05T06:03:05+00:00\""),
        "{history}"
    );
    let en = app.page(&format!("/listings/{id}?lang=en"), "").await;
    assert!(
        row(&en.text).contains(">Dec 5 14:03:05<"),
        "{}",
        row(&en.text)
    );
}
