//! Item 7: two server processes on one database under load. Sessions and bearer tokens made on
//! one work on the other (and a logout on one ends them on both); each auction closes exactly
//! once although both processes' jobs race for it; each background job's work happens once
//! (unpaid trades cancelled, restrictions expired with one audit row each, offers expired); failed
//! logins counted on one process throttle the other.
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::server::{Server, ServerOptions};

async fn counted(pool: &PgPool, sql: &str, id: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The CSRF token of a form on a page.
fn csrf_of(html: &str) -> String {
    input_value(html, "_csrf").expect("a CSRF field on the page")
}

#[sqlx::test(migrations = "./migrations")]
async fn two_servers_share_sessions_close_each_auction_once_run_each_job_once_and_share_throttling(
    pool: PgPool,
) {
    let app = TestApp::new(pool.clone());
    let url = url_of(&pool);
    let market = Market::new(&app, "two", 8, 2).await;
    let n = market.parties.len();

    // Work for the jobs, due before either process starts (their first slow tick races at start):
    // six unpaid trades past the payment deadline, six restrictions past their end date, open
    // offers past their expiry.
    let mut unpaid = Vec::new();
    for i in 0..6 {
        let buyer = (i + 1) % n;
        let (listing, _) = market
            .fixed
            .iter()
            .find(|(_, s)| *s != buyer)
            .expect("a fixed listing of another party");
        let r = app
            .post(
                &format!("/api/v1/listings/{listing}/buy"),
                Some(&market.parties[buyer].m.token),
                json!({"transaction_mode": "nonexclusive_license"}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
        unpaid.push(r.body["trade"]["id"].as_str().unwrap().to_string());
    }
    sqlx::query("update trades set created_at = now() - interval '90 days'")
        .execute(&pool)
        .await
        .unwrap();
    let restricted: Vec<String> = market.parties[..6]
        .iter()
        .map(|p| p.m.org_id.clone())
        .collect();
    for org in &restricted {
        sqlx::query(
            "insert into org_restrictions (id, organization_id, reason, until) \
             values (gen_random_uuid(), $1::uuid, '逾期未付款', now() - interval '1 minute')",
        )
        .bind(org)
        .execute(&pool)
        .await
        .unwrap();
    }
    let mut offers = Vec::new();
    for (i, (listing, seller)) in market.negotiable.iter().enumerate() {
        let buyer = (seller + 1 + i) % n;
        let r = app
            .post(
                &format!("/api/v1/listings/{listing}/offers"),
                Some(&market.parties[buyer].m.token),
                json!({"amount_fen": 2_000_000, "transaction_mode": "nonexclusive_license"}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
        offers.push(r.body["id"].as_str().unwrap().to_string());
    }
    sqlx::query("update offers set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    // Six auctions ending a few seconds after both processes are up.
    let mut auctions = Vec::new();
    for i in 0..6 {
        auctions.push(auction(&app, &market.parties[i % n].m, 1_000_000, 10_000, 15).await);
    }

    let servers = {
        let (mut a, mut b) = (ServerOptions::new(&url), ServerOptions::new(&url));
        a.log_file = Some(log_path("two-servers-a.log"));
        b.log_file = Some(log_path("two-servers-b.log"));
        tokio::join!(Server::start(a), Server::start(b))
    };
    let servers = [servers.0, servers.1];
    let base = |i: usize| servers[i % 2].base.clone();
    let client = reqwest::Client::new();

    // Tokens: made on A, valid on B; a logout on B ends it on A.
    let login = |i: usize, email: String, password: &'static str| {
        let client = client.clone();
        let base = base(i);
        async move {
            send(
                &client,
                Method::POST,
                &format!("{base}/api/v1/auth/login"),
                None,
                None,
                Some(&json!({"email": email, "password": password})),
            )
            .await
        }
    };
    let (status, body) = login(0, market.parties[0].m.email.clone(), PASSWORD).await;
    assert_eq!(status, Some(200), "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let me = |i: usize, token: String| {
        let client = client.clone();
        let base = base(i);
        async move {
            send(
                &client,
                Method::GET,
                &format!("{base}/api/v1/me"),
                Some(&token),
                None,
                None,
            )
            .await
            .0
        }
    };
    assert_eq!(me(1, token.clone()).await, Some(200));
    let (status, _) = send(
        &client,
        Method::POST,
        &format!("{}/api/v1/auth/logout", base(1)),
        Some(&token),
        None,
        None,
    )
    .await;
    assert_eq!(status, Some(204));
    assert_eq!(
        me(0, token.clone()).await,
        Some(401),
        "logged out on B, so on A too"
    );

    // Browser sessions: signed in on A (CSRF from A's form), the account page on B.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let form = browser
        .get(format!("{}/login", base(0)))
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&form.text().await.unwrap());
    let signed = browser
        .post(format!("{}/login", base(0)))
        .form(&[
            ("email", market.parties[1].m.email.as_str()),
            ("password", PASSWORD),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(signed.status().is_success(), "{}", signed.status());
    let account = browser
        .get(format!("{}/account", base(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(account.status().as_u16(), 200);
    assert!(account
        .text()
        .await
        .unwrap()
        .contains(&market.parties[1].m.email));

    // Load: bids on the six auctions through both processes, alternately, until they close.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bidding: Vec<_> = (0..8)
        .map(|w| {
            let (client, auctions, stop) = (client.clone(), auctions.clone(), stop.clone());
            let tokens: Vec<(String, usize)> = market
                .parties
                .iter()
                .enumerate()
                .map(|(i, p)| (p.m.token.clone(), i))
                .collect();
            let bases = [base(0), base(1)];
            tokio::spawn(async move {
                let mut k = w;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    k += 1;
                    let a = k % auctions.len();
                    let (token, bidder) = &tokens[(w + k) % tokens.len()];
                    if *bidder == a % tokens.len() {
                        continue; // the seller's own auction
                    }
                    let url = format!("{}/api/v1/listings/{}/bids", bases[k % 2], auctions[a]);
                    let amount = 1_000_000 + (k as i64) * 10_000 + (w as i64) * 1_000_000;
                    let (status, body) = send(
                        &client,
                        Method::POST,
                        &url,
                        Some(token),
                        None,
                        Some(&json!({"amount_fen": amount, "confirm_outlier": true})),
                    )
                    .await;
                    // Accepted, too low (another bid came first) or closed: nothing else.
                    assert!(
                        matches!(status, Some(201) | Some(409)),
                        "bid answered {status:?}: {body}"
                    );
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();

    // Each auction closes, exactly once: one trade, the auction pointing at it, one winner notice.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let open: i64 = sqlx::query_scalar(
            "select count(*) from auctions where status <> 'closed' and listing_id::text = any($1)",
        )
        .bind(&auctions)
        .fetch_one(&pool)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} auctions still open after their end"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for b in bidding {
        b.await.unwrap();
    }
    for a in &auctions {
        let trades = counted(
            &pool,
            "select count(*) from trades where listing_id = $1::uuid",
            a,
        )
        .await;
        let bids = counted(
            &pool,
            "select count(*) from bids where listing_id = $1::uuid",
            a,
        )
        .await;
        assert!(bids > 0, "auction {a} got bids through both processes");
        assert_eq!(trades, 1, "auction {a}: one trade");
        let pointing = counted(
            &pool,
            "select count(*) from auctions u join trades t on t.id = u.trade_id \
             where u.listing_id = $1::uuid and u.status = 'closed' and t.price_fen = u.leading_bid_fen",
            a,
        )
        .await;
        assert_eq!(pointing, 1, "auction {a}: closed on its leading bid");
        let won = counted(
            &pool,
            "select count(*) from notifications where kind = 'auction_won' and link like '%' || \
             (select trade_id::text from auctions where listing_id = $1::uuid)",
            a,
        )
        .await;
        assert_eq!(won, 1, "auction {a}: one winner notice");
    }
    let bidders_by_server: i64 = scalar(&pool, "select count(*) from bids").await;
    assert!(bidders_by_server >= 12);

    // Each job's work once.
    for t in &unpaid {
        let status: String = sqlx::query_scalar("select status from trades where id = $1::uuid")
            .bind(t)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(status, "cancelled", "unpaid trade {t}");
        let notices = counted(
            &pool,
            "select count(*) from notifications where link = '/trades/' || $1 \
             and dedupe_key like 'trade:' || $1 || ':expired:%'",
            t,
        )
        .await;
        assert_eq!(
            notices, 2,
            "trade {t}: the buyer and the seller told once each"
        );
    }
    for org in &restricted {
        let audits = counted(
            &pool,
            "select count(*) from audit_log where action = 'organization.restriction_expired' \
             and target_id = $1",
            org,
        )
        .await;
        assert_eq!(
            audits, 1,
            "restriction of {org}: expired once, audited once"
        );
    }
    for o in &offers {
        let status: String = sqlx::query_scalar("select status from offers where id = $1::uuid")
            .bind(o)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(status, "expired", "offer {o}");
    }

    // Throttling shared: ten failures, alternately on A and B (five each, under the limit on
    // either alone), then the eleventh is refused on both.
    let victim = market.parties[3].m.email.clone();
    for i in 0..10 {
        let (status, body) = login(i, victim.clone(), "wrong password!!").await;
        assert_eq!(status, Some(401), "failure {i}: {body}");
    }
    for i in 0..2 {
        let (status, body) = login(i, victim.clone(), "wrong password!!").await;
        assert_eq!(status, Some(429), "on server {}: {body}", i % 2);
    }
    let throttled_everywhere: i64 = scalar(&pool, "select count(*) from login_failures").await;
    assert!(throttled_everywhere >= 10);
    drop(servers);
}
