//! The due-date close with two server processes running the job on one database: each panel
//! past its due date closes exactly once (one status change, one notice to the owner).
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::*;
use crate::authz::world::listing;
use crate::resilience::{log_path, url_of};
use crate::server::{Server, ServerOptions};

#[sqlx::test(migrations = "./migrations")]
async fn two_server_processes_close_each_due_panel_once(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let owner = app.verified_member("owner@two.example", "suaee").await;
    let mut panels = Vec::new();
    for i in 0..4 {
        let l = listing(&app, &owner, "listed", "negotiable").await;
        let mut experts = Vec::new();
        for j in 0..3 {
            experts.push(
                fresh_expert(
                    &app,
                    if j % 2 == 0 { "suaee" } else { "cquaee" },
                    &format!("专家{i}{j}"),
                    &["ic"],
                )
                .await,
            );
        }
        let e = evaluation_of(&app, &l, &experts, chrono::Duration::days(1)).await;
        // Panels 0 and 1 have three scores (→ published), 2 and 3 one (→ failed).
        let scored = if i < 2 { 3 } else { 1 };
        sqlx::query(
            "update evaluation_members set status = 'scored', maturity_trl = 6, innovation = 4, advancement = 3, \
             market = 4, comment = '可行', answered_at = now() where evaluation_id = $1::uuid and position <= $2",
        )
        .bind(&e)
        .bind(scored)
        .execute(&pool)
        .await
        .unwrap();
        panels.push(e);
    }
    // Due a moment ago: both processes' jobs race for them from their first tick.
    sqlx::query("update evaluations set due_at = now() - interval '1 minute'")
        .execute(&pool)
        .await
        .unwrap();
    let url = url_of(&pool);
    let (mut a, mut b) = (ServerOptions::new(&url), ServerOptions::new(&url));
    a.log_file = Some(log_path("experts-due-a.log"));
    b.log_file = Some(log_path("experts-due-b.log"));
    let (_sa, _sb) = tokio::join!(Server::start(a), Server::start(b));
    let start = Instant::now();
    loop {
        let open: i64 =
            sqlx::query_scalar("select count(*) from evaluations where status = 'in_progress'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{open} panels still open after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Both processes keep ticking a while longer: nothing closes twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (i, e) in panels.iter().enumerate() {
        let status: String =
            sqlx::query_scalar("select status from evaluations where id = $1::uuid")
                .bind(e)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(
            status,
            if i < 2 { "published" } else { "failed" },
            "panel {i}"
        );
        let kind = if i < 2 {
            "evaluation_published"
        } else {
            "evaluation_failed"
        };
        let told: i64 = sqlx::query_scalar(
            "select count(*) from notifications where organization_id = $1::uuid and user_id is null and kind = $2 \
             and link = '/listings/' || (select listing_id from evaluations where id = $3::uuid)::text",
        )
        .bind(&owner.org_id)
        .bind(kind)
        .bind(e)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(told, 1, "panel {i}: the owner told once");
    }
}
