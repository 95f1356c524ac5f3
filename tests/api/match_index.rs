//! Matching's in-process index of the listed listings (`service::demands::index`): it answers as the
//! database does, follows every change of a listing (in any process: the database notifies), and is not
//! used while it has not applied a change that the request can see.
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::service::demands::MatchIndex;

use crate::demands::{aeb_demand, aeb_listing, insert_listing, post_demand};
use crate::helpers::*;

async fn generation(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select last_value from listing_matches_generation")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Waits until `index` has applied everything the database has given out (at most 10 s).
pub async fn caught_up(index: &MatchIndex, pool: &PgPool) {
    let started = Instant::now();
    loop {
        if index.covers(generation(pool).await) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the matching index did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn ids(m: &Resp) -> Vec<String> {
    m.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["listing"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_index_answers_as_the_database_and_follows_every_change_of_a_listing(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    // The same database without an index: matching reads it with SQL.
    let plain = TestApp::new(pool.clone());
    let seller = app.verified_member("auto@sichuan.example", "cdipex").await;
    let buyer = app.verified_member("car@chongqing.example", "cquaee").await;
    let aeb = insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    let d = post_demand(&app, &buyer.token, aeb_demand()).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let path = format!("/api/v1/demands/{}/matches", d.body["id"].as_str().unwrap());

    let index = app.state.matches.clone();
    assert_eq!(
        index.listings(),
        None,
        "nothing before its task has loaded it"
    );
    index.spawn(app.pool.clone());
    caught_up(&index, &app.pool).await;
    assert_eq!(index.listings(), Some(1));
    let same = |a: &Resp, b: &Resp| {
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body, b.body, "the index and the database answer alike");
    };
    let m = app.get(&path, Some(&buyer.token)).await;
    same(&m, &plain.get(&path, Some(&buyer.token)).await);
    assert_eq!(ids(&m), vec![aeb.to_string()]);
    let score = |m: &Resp| m.body["items"][0]["score"].as_u64().unwrap();
    let before = score(&m);

    // A second listing, listed by any writer, is heard of.
    let mut other = aeb_listing();
    other.title = "自动紧急制动（AEB）毫米波雷达感知模块";
    let second = insert_listing(&app.pool, &seller.org_id, &other).await;
    caught_up(&index, &app.pool).await;
    assert_eq!(index.listings(), Some(2));
    let m = app.get(&path, Some(&buyer.token)).await;
    same(&m, &plain.get(&path, Some(&buyer.token)).await);
    assert!(ids(&m).contains(&second.to_string()), "{}", m.text);

    // A change of what scoring reads (the TRL) moves the score the same way on both paths.
    sqlx::query("update listings set trl = 1 where id = $1")
        .bind(aeb)
        .execute(&app.pool)
        .await
        .unwrap();
    caught_up(&index, &app.pool).await;
    let m = app.get(&path, Some(&buyer.token)).await;
    same(&m, &plain.get(&path, Some(&buyer.token)).await);
    let first = m.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["listing"]["id"] == json!(aeb.to_string()))
        .cloned()
        .unwrap_or(Value::Null);
    assert!(
        first["score"].as_u64().unwrap() < before,
        "{first} after {before}"
    );

    // Withdrawn and sold listings leave the index.
    sqlx::query("update listings set status = 'withdrawn' where id = $1")
        .bind(aeb)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update listings set status = 'sold' where id = $1")
        .bind(second)
        .execute(&app.pool)
        .await
        .unwrap();
    caught_up(&index, &app.pool).await;
    assert_eq!(index.listings(), Some(0));
    let m = app.get(&path, Some(&buyer.token)).await;
    same(&m, &plain.get(&path, Some(&buyer.token)).await);
    assert_eq!(ids(&m), Vec::<String>::new());

    // Listed again: back.
    sqlx::query("update listings set status = 'listed' where id = $1")
        .bind(aeb)
        .execute(&app.pool)
        .await
        .unwrap();
    caught_up(&index, &app.pool).await;
    assert_eq!(index.listings(), Some(1));
    assert_eq!(
        ids(&app.get(&path, Some(&buyer.token)).await),
        vec![aeb.to_string()]
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_change_not_yet_heard_keeps_the_index_unused_and_a_rolled_back_one_does_not_block_it(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("auto@sichuan.example", "cdipex").await;
    insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    let index = app.state.matches.clone();
    index.spawn(app.pool.clone());
    caught_up(&index, &app.pool).await;
    let g = generation(&app.pool).await;
    assert!(index.covers(g));
    assert!(!index.covers(g + 1), "a generation not yet applied");

    // A change whose transaction rolls back takes a generation that no notification brings.
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("update listings set trl = 2")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let after = generation(&app.pool).await;
    assert!(after > g);
    assert!(!index.covers(after), "the request must read the database");
    // The index passes it with a mark of its own once nothing else is heard.
    caught_up(&index, &app.pool).await;
    assert!(index.covers(after));
    assert_eq!(index.listings(), Some(1));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_bulk_seed_makes_the_index_load_again_with_one_notification(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let index = app.state.matches.clone();
    index.spawn(app.pool.clone());
    caught_up(&index, &app.pool).await;
    assert_eq!(index.listings(), Some(0));
    let given = || async {
        sqlx::query_scalar::<_, i64>(
            "select case when is_called then last_value else 0 end from listing_matches_generation",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let before = given().await;

    techmarket::service::listings::seed_bulk(&pool, 200, 0)
        .await
        .unwrap();
    assert_eq!(
        given().await,
        before + 1,
        "one notification for the whole seed"
    );
    caught_up(&index, &app.pool).await;
    let listed: i64 = sqlx::query_scalar("select count(*) from listings where status = 'listed'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(listed > 150, "{listed}");
    assert_eq!(index.listings(), Some(listed as usize));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_word_the_vocabulary_does_not_know_scores_alike_through_the_index_and_the_database(
    pool: PgPool,
) {
    let app = TestApp::new(pool.clone());
    let plain = TestApp::new(pool);
    let seller = app.verified_member("auto@sichuan.example", "cdipex").await;
    let buyer = app.verified_member("car@chongqing.example", "cquaee").await;
    // Two listings alike but for a brand name no vocabulary knows (a token of the profile only).
    let mut named = aeb_listing();
    named.title = "Zorbatron 自动紧急制动（AEB）系统及控制算法";
    named.keywords = &["自动紧急制动", "AEB", "Zorbatron"];
    let named = insert_listing(&app.pool, &seller.org_id, &named).await;
    let other = insert_listing(&app.pool, &seller.org_id, &aeb_listing()).await;
    let mut body = aeb_demand();
    body["title"] = json!("寻求 Zorbatron 自动紧急制动算法");
    body["keywords"] = json!(["自动紧急制动", "Zorbatron"]);
    let d = post_demand(&app, &buyer.token, body).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let path = format!("/api/v1/demands/{}/matches", d.body["id"].as_str().unwrap());

    let index = app.state.matches.clone();
    index.spawn(app.pool.clone());
    caught_up(&index, &app.pool).await;
    let m = app.get(&path, Some(&buyer.token)).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert_eq!(
        m.body,
        plain.get(&path, Some(&buyer.token)).await.body,
        "the index and the database answer alike"
    );
    assert_eq!(ids(&m), vec![named.to_string(), other.to_string()]);
    let score = |i: usize| m.body["items"][i]["score"].as_u64().unwrap();
    assert!(
        score(0) > score(1),
        "the shared word counts through the index: {}",
        m.text
    );
}
