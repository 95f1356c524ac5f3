//! Evaluations: conflicts of interest (own organisation, an earlier counterparty), suggestions,
//! sealed scores (the owner, another expert and an admin get nothing before the close), closing
//! by the last score, by declines, and by the due date (the job), fewer than three → failed.
use chrono::Utc;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::codes::TransactionMode;
use techmarket::service::trades::NewTrade;
use uuid::Uuid;

use super::*;
use crate::authz::world::listing;

/// A trade (awaiting payment) in which `buyer_org` bought a listing of `seller`'s organisation.
async fn traded(app: &TestApp, seller: &Member, buyer_org: &str) {
    let l = listing(app, seller, "sold", "fixed").await;
    let mut tx = app.pool.begin().await.unwrap();
    techmarket::service::trades::create(
        &mut tx,
        NewTrade {
            listing_id: l.parse().unwrap(),
            seller_org: seller.org_id.parse().unwrap(),
            buyer_org: buyer_org.parse().unwrap(),
            price_fen: 350_000_000,
            mode: TransactionMode::Transfer,
            seller_exchange: "suaee".into(),
            buyer_exchange: "suaee".into(),
            source: "purchase",
            offer_id: None,
            now: Utc::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// A colleague of `m` (same organisation) registered as an expert, straight in the database.
async fn colleague_expert(app: &TestApp, m: &Member) -> String {
    let user = Uuid::now_v7();
    sqlx::query(
        "insert into users (id, email, password_hash, display_name, role, organization_id, org_role) \
         values ($1, $2, 'x', '同事专家', 'member', $3::uuid, 'member')",
    )
    .bind(user)
    .bind(format!("colleague-{user}@experts.example"))
    .bind(&m.org_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    expert_of(&mut conn, &user.to_string(), &["ic"]).await
}

fn open_body(ids: &[&String]) -> Value {
    json!({"expert_ids": ids, "due_at": in_a_week()})
}

#[sqlx::test(migrations = "./migrations")]
async fn conflicts_of_interest_are_refused_and_suggestions_leave_them_out(pool: PgPool) {
    let app = TestApp::new(pool);
    let su_admin = app.admin("suaee").await;
    let cq_admin = app.admin("cquaee").await;
    let owner = app.verified_member("owner@chip.example", "suaee").await;
    let l = listing(&app, &owner, "listed", "negotiable").await;
    let colleague = colleague_expert(&app, &owner).await;
    let (counterparty_user, counterparty_org) = {
        let mut conn = app.pool.acquire().await.unwrap();
        bare_member(&mut conn, "cquaee", "交易过的专家").await
    };
    traded(&app, &owner, &counterparty_org).await;
    let earlier = {
        let mut conn = app.pool.acquire().await.unwrap();
        expert_of(&mut conn, &counterparty_user, &["ic"]).await
    };
    let free_ic = fresh_expert(&app, "suaee", "王芯", &["ic"]).await;
    let busy_ic = fresh_expert(&app, "cquaee", "陈忙", &["ic", "eit"]).await;
    let tcm = fresh_expert(&app, "cquaee", "赵药", &["tcm"]).await;
    let tcm2 = fresh_expert(&app, "suaee", "钱药", &["tcm"]).await;
    // The busy one waits on another listing's panel.
    let other_owner = app.verified_member("other@chip.example", "suaee").await;
    let other = listing(&app, &other_owner, "listed", "negotiable").await;
    evaluation_of(
        &app,
        &other,
        &[busy_ic.clone(), tcm2.clone(), tcm.clone()],
        chrono::Duration::days(3),
    )
    .await;

    // Suggestions: no conflicted expert; field fit first, then the least busy.
    let r = app
        .get(
            &format!("/api/v1/admin/experts/suggest?listing_id={l}"),
            Some(&su_admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let ids: Vec<String> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["expert"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !ids.contains(&colleague) && !ids.contains(&earlier),
        "{ids:?}"
    );
    assert_eq!(ids[..2], [free_ic.clone(), busy_ic.clone()], "{}", r.text);
    assert_eq!(r.body[1]["workload"], json!(1));
    assert_eq!(r.body[0]["field_fit"], json!(true));
    assert_eq!(r.body[2]["field_fit"], json!(false));
    let r = app
        .get(
            &format!("/api/v1/admin/experts/suggest?listing_id={l}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403);

    let uri = format!("/api/v1/admin/listings/{l}/evaluations");
    // The owner's own organisation.
    let r = app
        .post(
            &uri,
            Some(&su_admin),
            open_body(&[&free_ic, &colleague, &tcm]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("expert_conflict"));
    assert!(
        r.body["error"]["fields"]["expert_ids[1]"].is_string(),
        "{}",
        r.text
    );
    // An organisation that has traded with the owner.
    let r = app
        .post(
            &uri,
            Some(&su_admin),
            open_body(&[&free_ic, &tcm, &earlier]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("expert_conflict"));
    assert!(
        r.body["error"]["fields"]["expert_ids[2]"].is_string(),
        "{}",
        r.text
    );
    assert!(r.body["error"]["fields"]["expert_ids[0]"].is_null());
    // Another exchange's admin; too few experts; a due date in the past.
    let r = app
        .post(
            &uri,
            Some(&cq_admin),
            open_body(&[&free_ic, &tcm, &busy_ic]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    let r = app
        .post(&uri, Some(&su_admin), open_body(&[&free_ic, &tcm]))
        .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(r.body["error"]["fields"]["expert_ids"].is_string());
    let r = app
        .post(
            &uri,
            Some(&su_admin),
            json!({"expert_ids": [free_ic, tcm, busy_ic], "due_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(r.body["error"]["fields"]["due_at"].is_string());
    let none: i64 =
        sqlx::query_scalar("select count(*) from evaluations where listing_id = $1::uuid")
            .bind(&l)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(none, 0, "refusals change nothing");

    // A clean panel from both provinces.
    let r = app
        .post(
            &uri,
            Some(&su_admin),
            open_body(&[&free_ic, &busy_ic, &tcm]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.body["status"], json!("in_progress"));
    assert_eq!(r.body["panel"].as_array().unwrap().len(), 3);
    assert_eq!(
        r.body["panel"][0],
        json!({"expert_id": free_ic, "name": "王芯", "title": "研究员", "status": "invited"})
    );
    let r = app
        .post(
            &uri,
            Some(&su_admin),
            open_body(&[&free_ic, &busy_ic, &tcm2]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 409);
    assert_eq!(r.body["error"]["code"], json!("evaluation_in_progress"));
}

async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/api/v1/notifications", Some(token)).await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn scores_stay_sealed_until_the_last_score_publishes_the_report(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let owner = app.verified_member("owner@seal.example", "suaee").await;
    let outsider = app.verified_member("outsider@seal.example", "cquaee").await;
    let l = listing(&app, &owner, "listed", "negotiable").await;
    let (a, a_id) = expert_member(&app, &admin, "a@seal.example", "suaee").await;
    let (b, b_id) = expert_member(&app, &admin, "b@seal.example", "cquaee").await;
    let (c, c_id) = expert_member(&app, &admin, "c@seal.example", "suaee").await;
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{l}/evaluations"),
            Some(&admin),
            open_body(&[&a_id, &b_id, &c_id]),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(kinds(&app, &b.token)
        .await
        .contains(&"evaluation_invited".to_string()));

    let scores_uri = format!("/api/v1/evaluations/{id}/scores");
    let secret = "模数转换精度处于领先水平";
    let r = app
        .post(&scores_uri, Some(&a.token), scores(6, 4, 3, 5, secret))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.body["status"], json!("in_progress"));
    assert_eq!(r.body["my_scores"]["maturity_trl"], json!(6));
    assert!(r.body.get("report").is_none());

    // Sealed: the owner, another expert and an admin see no score and no comment.
    for (who, token) in [
        ("owner", &owner.token),
        ("expert b", &b.token),
        ("admin", &admin),
    ] {
        let r = app
            .get(&format!("/api/v1/evaluations/{id}"), Some(token))
            .await;
        assert_eq!(r.status.as_u16(), 200, "{who}: {}", r.text);
        assert!(
            !r.text.contains(secret),
            "{who} saw the comment: {}",
            r.text
        );
        assert!(
            r.body.get("report").is_none() && r.body.get("comments").is_none(),
            "{who}"
        );
        assert!(r.body.get("my_scores").is_none(), "{who}: {}", r.text);
        assert!(!r.text.contains("\"maturity_trl\""), "{who}: {}", r.text);
    }
    let r = app
        .get(&format!("/api/v1/evaluations/{id}"), Some(&outsider.token))
        .await;
    assert_eq!(r.status.as_u16(), 404);
    let r = app
        .get(&format!("/api/v1/listings/{l}/evaluation"), None)
        .await;
    assert_eq!(r.status.as_u16(), 404);
    let page = app.page(&format!("/listings/{l}"), "").await;
    assert!(!page.text.contains(secret));

    // Once each; the panel only; 422 before anything else.
    let r = app
        .post(&scores_uri, Some(&a.token), scores(7, 4, 3, 5, "改主意"))
        .await;
    assert_eq!(r.status.as_u16(), 409);
    assert_eq!(r.body["error"]["code"], json!("already_answered"));
    let r = app
        .post(
            &scores_uri,
            Some(&outsider.token),
            scores(7, 4, 3, 5, "外人"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403);
    assert_eq!(r.body["error"]["code"], json!("not_on_panel"));
    let r = app
        .post(&scores_uri, Some(&b.token), scores(10, 0, 3, 5, ""))
        .await;
    assert_eq!(r.status.as_u16(), 422);
    let f = &r.body["error"]["fields"];
    assert!(
        f["maturity_trl"].is_string() && f["innovation"].is_string() && f["comment"].is_string()
    );

    let r = app
        .post(
            &scores_uri,
            Some(&b.token),
            scores(7, 3, 4, 4, "中试数据充分"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.body["status"], json!("in_progress"));
    // The last score closes the panel.
    let r = app
        .post(
            &scores_uri,
            Some(&c.token),
            scores(8, 5, 4, 2, "市场尚需培育"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.body["status"], json!("published"));
    assert_eq!(
        r.body["report"],
        json!({"maturity_trl": 7, "innovation": 4, "advancement": 4, "market": 4, "scores": 3,
               "spread": {"maturity_trl": {"min": 6, "max": 8}, "innovation": {"min": 3, "max": 5},
                          "advancement": {"min": 3, "max": 4}, "market": {"min": 2, "max": 5}}})
    );
    let comments = r.body["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 3);
    assert_eq!(comments[0]["expert_id"], json!(a_id));
    assert_eq!(comments[0]["comment"], json!(secret));
    assert!(comments[0]["name"].is_string());

    // Public now: the report, the listing's summary, its page; the owner is told.
    let r = app
        .get(&format!("/api/v1/listings/{l}/evaluation"), None)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["id"], json!(id));
    assert!(r.text.contains(secret));
    assert!(r.body.get("my_scores").is_none());
    let r = app.get(&format!("/api/v1/listings/{l}"), None).await;
    assert_eq!(r.body["evaluation"]["status"], json!("published"));
    assert_eq!(r.body["evaluation"]["report"]["maturity_trl"], json!(7));
    assert!(kinds(&app, &owner.token)
        .await
        .contains(&"evaluation_published".to_string()));
    let page = app.page(&format!("/listings/{l}"), "").await;
    assert!(
        page.text.contains("专家评价 · TRL 7") && page.text.contains(secret),
        "{}",
        page.text
    );
    let page = app.page(&format!("/listings/{l}?lang=en"), "").await;
    assert!(
        page.text.contains("Expert evaluation · TRL 7")
            && page.text.contains("Expert evaluation report")
    );
    // Closed: no more answers.
    let r = app
        .post(&scores_uri, Some(&a.token), scores(7, 4, 3, 5, "迟到"))
        .await;
    assert_eq!(r.status.as_u16(), 409);
    assert_eq!(r.body["error"]["code"], json!("evaluation_closed"));
}

#[sqlx::test(migrations = "./migrations")]
async fn fewer_than_three_scores_fail_and_the_due_date_closes_the_panel(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let admin = app.admin("suaee").await;
    let owner = app.verified_member("owner@due.example", "suaee").await;
    let mut experts = Vec::new();
    for (i, ex) in ["suaee", "cquaee", "suaee", "cquaee"].iter().enumerate() {
        experts.push(expert_member(&app, &admin, &format!("e{i}@due.example"), ex).await);
    }
    let open = |l: String, n: usize| {
        let ids: Vec<String> = experts[..n].iter().map(|(_, id)| id.clone()).collect();
        let admin = admin.clone();
        let app = &app;
        async move {
            let r = app
                .post(
                    &format!("/api/v1/admin/listings/{l}/evaluations"),
                    Some(&admin),
                    json!({"expert_ids": ids, "due_at": in_a_week()}),
                )
                .await;
            assert_eq!(r.status.as_u16(), 201, "{}", r.text);
            r.body["id"].as_str().unwrap().to_string()
        }
    };
    let score = |id: String, who: usize| {
        let token = experts[who].0.token.clone();
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/evaluations/{id}/scores"),
                Some(&token),
                scores(5, 3, 3, 3, "尚可"),
            )
            .await
        }
    };

    // Two scores and two declines: nobody is left to answer, fewer than three → failed now.
    let l1 = listing(&app, &owner, "listed", "negotiable").await;
    let e1 = open(l1.clone(), 4).await;
    assert_eq!(score(e1.clone(), 0).await.status.as_u16(), 201);
    assert_eq!(score(e1.clone(), 1).await.status.as_u16(), 201);
    let r = app
        .post(
            &format!("/api/v1/evaluations/{e1}/decline"),
            Some(&experts[2].0.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["status"], json!("in_progress"));
    let r = app
        .post(
            &format!("/api/v1/evaluations/{e1}/decline"),
            Some(&experts[3].0.token),
            json!({}),
        )
        .await;
    assert_eq!(r.body["status"], json!("failed"), "{}", r.text);
    assert!(r.body.get("report").is_none());
    assert_eq!(
        app.get(&format!("/api/v1/listings/{l1}/evaluation"), None)
            .await
            .status
            .as_u16(),
        404
    );

    // At the due date: two of three scored → failed; three of four → published (the job).
    let l2 = listing(&app, &owner, "listed", "negotiable").await;
    let e2 = open(l2.clone(), 3).await;
    let l3 = listing(&app, &owner, "listed", "negotiable").await;
    let e3 = open(l3.clone(), 4).await;
    for who in 0..2 {
        assert_eq!(score(e2.clone(), who).await.status.as_u16(), 201);
    }
    for who in 0..3 {
        assert_eq!(score(e3.clone(), who).await.status.as_u16(), 201);
    }
    assert_eq!(
        techmarket::service::experts::run_jobs(&app.state)
            .await
            .unwrap(),
        0,
        "nothing is due yet"
    );
    clock.advance(chrono::Duration::days(7) + chrono::Duration::minutes(1));
    let r = score(e2.clone(), 2).await;
    assert_eq!(r.status.as_u16(), 409, "past the due date: {}", r.text);
    assert_eq!(r.body["error"]["code"], json!("evaluation_closed"));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(
        techmarket::service::experts::run_jobs(&app.state)
            .await
            .unwrap(),
        0,
        "closed once"
    );
    let status = |id: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("select status from evaluations where id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(status(e2.clone()).await, "failed");
    assert_eq!(status(e3.clone()).await, "published");
    let r = app
        .get(&format!("/api/v1/listings/{l3}/evaluation"), None)
        .await;
    assert_eq!(r.body["report"]["scores"], json!(3));
    assert_eq!(r.body["panel"][3]["status"], json!("invited"));
}
