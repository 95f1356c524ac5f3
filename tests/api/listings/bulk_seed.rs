//! The bulk seed into an empty market (`techmarket seed bulk`, issue 23): one transaction that drops the
//! secondary indexes and builds them again; the same indexes afterwards, one notification for the
//! matching indexes, and a load that dies leaves the market as it was.
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

/// The indexes and constraints of the tables the seed writes, with their definitions.
async fn indexes(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "select indexname::text, indexdef from pg_indexes where tablename in \
           ('listings', 'auctions', 'demands', 'listing_match_profiles', 'listing_match_concepts') \
         union all \
         select conname::text, pg_get_constraintdef(oid) from pg_constraint where conrelid = any(array[ \
           'listings', 'auctions', 'demands', 'listing_match_profiles', 'listing_match_concepts']::regclass[]) \
         order by 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_bulk_seed_into_an_empty_market_keeps_its_indexes_and_tells_matching_once(pool: PgPool) {
    let before = indexes(&pool).await;
    for name in [
        "listings_search",
        "listings_organization_id_fkey",
        "listing_match_concepts_pkey",
    ] {
        assert!(before.iter().any(|(n, _)| n == name), "{name}: {before:?}");
    }
    let mut listener = PgListener::connect_with(&pool).await.unwrap();
    listener.listen("listing_matches").await.unwrap();

    techmarket::service::listings::seed_bulk(&pool, 300, 20)
        .await
        .unwrap();

    assert_eq!(
        indexes(&pool).await,
        before,
        "every index and constraint made again"
    );
    assert_eq!(count(&pool, "listings").await, 300);
    assert_eq!(count(&pool, "demands").await, 20);
    let version = techmarket::service::listings::profiles::current_version();
    let profiled: i64 = sqlx::query_scalar(
        "select count(*) from listing_match_profiles p where p.version = $1 \
         and exists (select 1 from listing_match_concepts c where c.listing_id = p.listing_id)",
    )
    .bind(version)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        profiled, 300,
        "every listing profiled, with its concept rows"
    );
    // One notification for the whole load, which makes the matching indexes load again.
    let mut heard = Vec::new();
    while let Ok(n) = tokio::time::timeout(Duration::from_millis(500), listener.try_recv()).await {
        heard.push(n.unwrap().expect("connected").payload().to_string());
    }
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert!(heard[0].ends_with(" *"), "{heard:?}");
    // Searchable through the rebuilt full-text index.
    let (title,): (String,) = sqlx::query_as(
        "select title from listings where status = 'listed' and title !~ '（' order by id limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let app = TestApp::new(pool.clone());
    let r = app
        .get(
            &format!("/api/v1/listings?q={}&per_page=100", enc(&title)),
            None,
        )
        .await;
    assert!(titles(&r).contains(&title), "{title}: {}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_bulk_seed_that_dies_leaves_the_market_as_it_was(pool: PgPool) {
    let before = indexes(&pool).await;
    let seed = tokio::spawn({
        let pool = pool.clone();
        async move { techmarket::service::listings::seed_bulk(&pool, 20_000, 0).await }
    });
    // Once listings and their profiles are being written, the seed's connection dies.
    let writer = "select pid from pg_stat_activity where datname = current_database() \
                  and pid <> pg_backend_pid() and (query like 'insert into l%' or query like 'copy l%')";
    let mut killed = false;
    for _ in 0..3_000 {
        let profiles: bool = sqlx::query_scalar(&format!(
            "select exists ({writer} and query like '% listing_match%')"
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        if profiles {
            // Meanwhile the organisations and users stay readable (only the seed's own tables are locked).
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("set local lock_timeout = '2s'")
                .execute(&mut *tx)
                .await
                .unwrap();
            let users: i64 = sqlx::query_scalar(
                "select count(*) from organizations o join users u on u.organization_id = o.id \
                 join exchanges e on e.code = o.exchange",
            )
            .fetch_one(&mut *tx)
            .await
            .expect("organisations and users readable during the seed");
            assert!(users > 0);
            tx.rollback().await.unwrap();
            killed = sqlx::query_scalar(&format!(
                "select coalesce(bool_or(pg_terminate_backend(pid)), false) from ({writer}) w"
            ))
            .fetch_one(&pool)
            .await
            .unwrap();
        }
        if killed || seed.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(killed, "the seed was caught writing");
    assert!(
        seed.await.unwrap().is_err(),
        "the seed saw its connection die"
    );

    assert_eq!(count(&pool, "listings").await, 0, "nothing half loaded");
    assert_eq!(count(&pool, "listing_match_profiles").await, 0);
    assert_eq!(indexes(&pool).await, before, "no index or constraint lost");
    // The next seed starts again from the empty market.
    techmarket::service::listings::seed_bulk(&pool, 200, 10)
        .await
        .unwrap();
    assert_eq!(count(&pool, "listings").await, 200);
    assert_eq!(indexes(&pool).await, before);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_binary_copy_writes_the_values_their_text_forms_give(pool: PgPool) {
    use chrono::{TimeZone, Utc};
    use techmarket::db::copy::{copy_in, tsvector, CopyRows};
    use techmarket::domain::text::TsVectorBuilder;

    let long: String = "燃气轮机叶片涂层 turbine ".repeat(2_000);
    let texts = [
        "燃气轮机关键部件制造技术（Gas Turbine Blades）",
        "ＧＢ／Ｔ 50兆瓦 F级 芯片 芯片 芯片 a b c 芯",
        "It's a test: quotes ' and \\ backslashes, Ünïcödé and 𠀀𠀁 extension ideographs",
        "",
        long.as_str(),
    ];
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query(
        "create temporary table t (n int, v tsvector, a text[], b bigint[], c int[], at timestamptz, \
         p bigint, s smallint, u uuid)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 12, 8, 1, 2, 3).unwrap()
        + chrono::Duration::nanoseconds(123_456_789);
    let id = uuid::Uuid::now_v7();
    let mut rows = CopyRows::new(9, 0);
    let mut literals = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        let mut b = TsVectorBuilder::new();
        b.add(text, 'A');
        b.add_patent_numbers(&["ZL201710601862.3".to_string()]);
        b.add(text, 'D');
        literals.push(b.build());
        let strings: Vec<String> = text.split(' ').take(n).map(str::to_string).collect();
        let n = n as i32;
        rows.row()
            .int4(n)
            .binary(&tsvector(&b.sorted()))
            .text_array(&strings)
            .int8_array(&[i64::MIN, -1, 0, i64::MAX][..n as usize % 5])
            .int4_array(&[n, -n])
            .timestamptz(at)
            .opt_int8((n % 2 == 0).then_some(i64::from(n)))
            .int2(-7)
            .uuid(id);
    }
    assert_eq!(
        copy_in(&mut conn, "t", rows).await.unwrap(),
        texts.len() as u64
    );
    for (n, literal) in literals.iter().enumerate() {
        let same: (bool, bool, bool, bool, bool, bool, bool, bool) = sqlx::query_as(
            "select v = $2::tsvector and v::text = $2::tsvector::text, a = $3, b = $4, c = array[n, -n], \
             at = $5, p is not distinct from $6, s = -7, u = $7 from t where n = $1",
        )
        .bind(n as i32)
        .bind(literal)
        .bind(texts[n].split(' ').take(n).map(str::to_string).collect::<Vec<_>>())
        .bind(&[i64::MIN, -1, 0, i64::MAX][..n % 5])
        .bind(at)
        .bind((n % 2 == 0).then_some(n as i64))
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(
            same,
            (true, true, true, true, true, true, true, true),
            "row {n}"
        );
    }
}
