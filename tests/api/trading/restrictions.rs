//! A credit restriction reaches the market's deals (issue 14, item 4): bids of an organisation
//! restricted before the close are void from that moment, the highest remaining valid bid at or
//! above the reserve wins, and the bidder is told why; an accept or a purchase racing a
//! restriction either commits first or sees it.
use std::time::Duration;

use sqlx::PgPool;

use super::*;

async fn bid(app: &TestApp, listing: &str, m: &Member, amount: i64) -> Resp {
    let r = app
        .post(
            &format!("/api/v1/listings/{listing}/bids"),
            Some(&m.token),
            json!({"amount_fen": amount}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "bid {amount}: {}", r.text);
    r
}

async fn restrict_api(app: &TestApp, admin: &str, org: &str) {
    let r = app
        .post(
            &format!("/api/v1/admin/organizations/{org}/restrictions"),
            Some(admin),
            json!({"reason": "拖欠交易价款"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// A restriction written straight in the database, as if set while a bid was slipping in.
async fn restrict_db(app: &TestApp, org: &str) {
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason) values (gen_random_uuid(), $1::uuid, '拖欠交易价款')",
    )
    .bind(org)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// The (kind, title_zh, title_en, body_zh, body_en) of an organisation's notices of one kind.
async fn notices(app: &TestApp, org: &str, kind: &str) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "select title_zh, title_en, body_zh, body_en from notifications \
         where organization_id = $1::uuid and kind = $2 order by created_at",
    )
    .bind(org)
    .bind(kind)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn trade_of(app: &TestApp, listing: &str) -> Option<(String, i64)> {
    sqlx::query_as(
        "select buyer_organization_id::text, price_fen from trades where listing_id = $1::uuid",
    )
    .bind(listing)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_restricted_bidders_bids_are_void_and_the_highest_valid_bid_wins(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@void.cn", "suaee").await;
    let [a, b]: [Member; 2] = buyers(&app, 2, "void").await.try_into().ok().unwrap();
    let admin = app.admin("cquaee").await;
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3600, 300).await;
    bid(&app, &id, &a, 1_000_000).await;
    bid(&app, &id, &b, 1_100_000).await;
    bid(&app, &id, &a, 1_200_000).await;

    restrict_api(&app, &admin, &a.org_id).await;
    // From the moment of the restriction the auction stands at the best valid bid…
    let view = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(
        view.body["current_price_fen"],
        json!(1_100_000),
        "{}",
        view.text
    );
    assert_eq!(view.body["min_next_bid_fen"], json!(1_200_000));
    // …the restricted organisation may not bid, and is told why, in both languages.
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/bids"),
            Some(&a.token),
            json!({"amount_fen": 1_500_000}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], json!("organization_restricted"));
    let told = notices(&app, &a.org_id, "bids_void").await;
    assert_eq!(told.len(), 1, "one notice for the voided bids");
    let (title_zh, title_en, body_zh, body_en) = &told[0];
    assert!(
        title_zh.contains("出价已作废") && title_zh.contains("高速流水线ADC芯片"),
        "{title_zh}"
    );
    assert!(body_zh.contains("信用惩戒"), "{body_zh}");
    assert!(
        title_en.contains("void") && body_en.contains("credit restriction"),
        "{title_en} / {body_en}"
    );
    // The amount a void bid had is free again for a valid one.
    bid(&app, &id, &b, 1_200_000).await;
    let void: i64 = count(
        &app,
        "select count(*) from bids where listing_id = $1::uuid and void_at is not null",
        &id,
    )
    .await;
    assert_eq!(void, 2, "both of A's bids are void, kept on record");

    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(
        trade_of(&app, &id).await,
        Some((b.org_id.clone(), 1_200_000))
    );
    assert_eq!(notices(&app, &b.org_id, "auction_won").await.len(), 1);
    assert!(notices(&app, &a.org_id, "auction_won").await.is_empty());
    assert!(
        notices(&app, &a.org_id, "auction_lost").await.is_empty(),
        "the restricted bidder hears why (bids_void), not that it was outbid"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn without_a_valid_bid_at_the_reserve_the_auction_closes_unsold(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@reserve.cn", "suaee").await;
    let [a, b]: [Member; 2] = buyers(&app, 2, "reserve").await.try_into().ok().unwrap();
    let admin = app.admin("suaee").await;
    let id = auction(
        &app,
        &seller,
        1_000_000,
        100_000,
        Some(1_150_000),
        3600,
        300,
    )
    .await;
    bid(&app, &id, &b, 1_000_000).await;
    bid(&app, &id, &a, 1_200_000).await;
    restrict_api(&app, &admin, &a.org_id).await;

    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let view = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(view.body["status"], json!("closed"));
    assert_eq!(
        view.body["trade_id"],
        Value::Null,
        "B's 10,000 yuan is below the reserve"
    );
    assert_eq!(trade_of(&app, &id).await, None);
    assert_eq!(
        notices(&app, &seller.org_id, "auction_unsold").await.len(),
        1
    );
    assert_eq!(notices(&app, &a.org_id, "bids_void").await.len(), 1);
}

/// A restriction recorded without the auction being touched (a bid that slipped in while it was
/// being set, or a restriction written by another process): the close still voids the bids; one
/// lifted before a later bid leaves that bid valid.
#[sqlx::test(migrations = "./migrations")]
async fn the_close_voids_bids_of_an_organisation_restricted_after_them(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@slip.cn", "suaee").await;
    let [a, b, c]: [Member; 3] = buyers(&app, 3, "slip").await.try_into().ok().unwrap();
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3600, 300).await;
    bid(&app, &id, &b, 1_000_000).await;
    bid(&app, &id, &a, 1_100_000).await;
    bid(&app, &id, &c, 1_200_000).await;
    // C was restricted and lifted before its bid: its bid stands. A is restricted after its bid.
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason, created_at, lifted_at) \
         values (gen_random_uuid(), $1::uuid, '已整改', now() - interval '2 days', now() - interval '1 day')",
    )
    .bind(&c.org_id)
    .execute(&app.pool)
    .await
    .unwrap();
    restrict_db(&app, &a.org_id).await;
    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(
        trade_of(&app, &id).await,
        Some((c.org_id.clone(), 1_200_000))
    );
    assert!(notices(&app, &c.org_id, "bids_void").await.is_empty());

    // The same with A leading: B wins at its own bid.
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3600, 300).await;
    bid(&app, &id, &b, 1_000_000).await;
    bid(&app, &id, &c, 1_100_000).await;
    sqlx::query("update org_restrictions set lifted_at = now() where organization_id = $1::uuid")
        .bind(&a.org_id)
        .execute(&app.pool)
        .await
        .unwrap();
    bid(&app, &id, &a, 1_300_000).await;
    restrict_db(&app, &a.org_id).await;
    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(
        trade_of(&app, &id).await,
        Some((c.org_id.clone(), 1_100_000))
    );
    assert_eq!(
        notices(&app, &a.org_id, "bids_void").await.len(),
        2,
        "one per auction"
    );
}

/// Waits until another session of this database waits for a lock (or fails if `task` ends first).
async fn until_waiting<T>(app: &TestApp, task: &tokio::task::JoinHandle<T>) {
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            !task.is_finished(),
            "the deal did not wait for the restriction being set"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the deal never waited for the restriction being set");
}

/// Holds what `restrict` holds while it sets a restriction (the organisation's row, the new
/// restriction not yet committed), runs `deal` meanwhile, then commits: the deal must see it.
async fn race_restriction(
    app: &TestApp,
    org: &str,
    deal: tokio::task::JoinHandle<(StatusCode, Value)>,
) -> (StatusCode, Value) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("select id from organizations where id = $1::uuid for update")
        .bind(org)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason) values (gen_random_uuid(), $1::uuid, '拖欠交易价款')",
    )
    .bind(org)
    .execute(&mut *tx)
    .await
    .unwrap();
    until_waiting(app, &deal).await;
    tx.commit().await.unwrap();
    deal.await.unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_purchase_racing_a_restriction_of_the_buyer_sees_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@race.cn", "suaee").await;
    let buyer = app.verified_member("buyer@race.cn", "cquaee").await;
    let id = listing(&app, &seller, "fixed", &["transfer"], Some(5_000_000)).await;
    let buy = spawn_post(
        &app.app,
        format!("/api/v1/listings/{id}/buy"),
        &buyer.token,
        json!({"transaction_mode": "transfer"}),
        None,
    );
    let (status, body) = race_restriction(&app, &buyer.org_id, buy).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], json!("organization_restricted"));
    assert_eq!(trade_of(&app, &id).await, None);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_accept_racing_a_restriction_of_the_buyer_sees_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@accept.cn", "suaee").await;
    let buyer = app.verified_member("buyer@accept.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let o = offer(&app, &id, &buyer, 3_000_000).await;
    let accept = spawn_post(
        &app.app,
        format!("/api/v1/offers/{}/accept", o["id"].as_str().unwrap()),
        &seller.token,
        json!({}),
        None,
    );
    let (status, body) = race_restriction(&app, &buyer.org_id, accept).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], json!("counterparty_restricted"));
    assert_eq!(trade_of(&app, &id).await, None);
}

/// Two tasks at once, many times: a purchase and the buyer's restriction. Whichever commits first,
/// the other never answers 5xx, and a trade exists exactly when the purchase answered 201.
#[sqlx::test(migrations = "./migrations")]
async fn purchases_and_restrictions_at_once_never_both_win_halfway(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@both.cn", "suaee").await;
    let admin = app.admin("suaee").await;
    let buyers = buyers(&app, 8, "both").await;
    let mut bought = 0;
    for b in &buyers {
        let id = listing(&app, &seller, "fixed", &["transfer"], Some(5_000_000)).await;
        let buy = spawn_post(
            &app.app,
            format!("/api/v1/listings/{id}/buy"),
            &b.token,
            json!({"transaction_mode": "transfer"}),
            None,
        );
        let restrict = spawn_post(
            &app.app,
            format!("/api/v1/admin/organizations/{}/restrictions", b.org_id),
            &admin,
            json!({"reason": "拖欠交易价款"}),
            None,
        );
        let ((bs, bb), (rs, rb)) = (buy.await.unwrap(), restrict.await.unwrap());
        assert_eq!(rs, StatusCode::CREATED, "{rb}");
        let trade = trade_of(&app, &id).await;
        match bs {
            StatusCode::CREATED => {
                assert_eq!(trade.map(|t| t.0), Some(b.org_id.clone()));
                bought += 1;
            }
            StatusCode::FORBIDDEN => {
                assert_eq!(bb["error"]["code"], json!("organization_restricted"));
                assert_eq!(trade, None);
            }
            other => panic!("purchase answered {other}: {bb}"),
        }
    }
    println!(
        "{bought} of {} purchases committed before the restriction",
        buyers.len()
    );
}

/// The close and a restriction of the leading bidder at once: the auction is won by the bidder
/// whose bids stayed valid, and never by one that was told its bids are void.
#[sqlx::test(migrations = "./migrations")]
async fn a_close_racing_a_restriction_of_the_leader_is_consistent(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@closing.cn", "suaee").await;
    let admin = app.admin("suaee").await;
    let bidders = buyers(&app, 8, "closing").await;
    for pair in bidders.chunks(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let id = auction(&app, &seller, 1_000_000, 100_000, None, 3600, 300).await;
        bid(&app, &id, b, 1_000_000).await;
        bid(&app, &id, a, 1_100_000).await;
        end_now(&app, &id).await;
        let state = app.state.clone();
        let close = tokio::spawn(async move { techmarket::jobs::fast_tick(&state).await });
        let restrict = spawn_post(
            &app.app,
            format!("/api/v1/admin/organizations/{}/restrictions", a.org_id),
            &admin,
            json!({"reason": "拖欠交易价款"}),
            None,
        );
        close.await.unwrap().unwrap();
        let (rs, rb) = restrict.await.unwrap();
        assert_eq!(rs, StatusCode::CREATED, "{rb}");
        // A close that found the auction locked by the restriction skipped it: the next one closes it.
        techmarket::jobs::fast_tick(&app.state).await.unwrap();
        let winner = trade_of(&app, &id).await.map(|t| t.0);
        let voided = !notices(&app, &a.org_id, "bids_void").await.is_empty();
        if voided {
            assert_eq!(winner, Some(b.org_id.clone()), "A's bids are void: B wins");
        } else {
            assert_eq!(
                winner,
                Some(a.org_id.clone()),
                "closed before the restriction: A wins"
            );
        }
    }
}
