//! Issue 23 item 5: `DATABASE_READ_URL` on a real streaming replica. The test makes its own
//! primary (initdb, as the database-restart test does) and a replica of it (`pg_basebackup -R`,
//! hot standby on another port), starts `techmarket serve` with the primary as `DATABASE_URL` and
//! the replica as `DATABASE_READ_URL`, and shows, by pausing the replica's replay, that search is
//! served by the replica while writes and the listing itself go to the primary; resuming the replay
//! brings search up to date. It never touches the tests' shared server.
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::db_restart::{as_postgres, run, OwnCluster};
use super::log_path;
use crate::server::{Server, ServerOptions};

/// A hot standby of `primary`, streaming; stopped and deleted when dropped.
struct Replica {
    data: PathBuf,
    port: u16,
}

impl Replica {
    fn of(primary: &OwnCluster) -> Replica {
        let port = (primary.port + 1..5480)
            .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .expect("a free port for the replica");
        let data = primary.dir.join("replica");
        let mut b = as_postgres("pg_basebackup");
        b.args([
            "-h",
            "127.0.0.1",
            "-p",
            &primary.port.to_string(),
            "-U",
            "postgres",
        ])
        .arg("-D")
        .arg(&data)
        .args(["-R", "-X", "stream", "--checkpoint=fast"]);
        run(b, "pg_basebackup");
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=200",
            primary.dir.display()
        );
        let mut c = as_postgres("pg_ctl");
        c.arg("-D")
            .arg(&data)
            .args(["-w", "-t", "60", "-o", &opts, "-l"])
            .arg(primary.dir.join("replica.log"))
            .arg("start");
        run(c, "pg_ctl start (replica)");
        Replica { data, port }
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = as_postgres("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

async fn pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn found(http: &reqwest::Client, server: &Server, q: &str, id: &str) -> bool {
    let r = http
        .get(server.url("/api/v1/listings"))
        .query(&[("q", q), ("per_page", "50")])
        .send()
        .await
        .expect("search answers");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("search JSON");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|l| l["id"] == json!(id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_reads_the_replica_while_writes_and_the_listing_go_to_the_primary() {
    let primary = OwnCluster::init();
    let replica = Replica::of(&primary);
    let db = "market";
    sqlx::query("create database market")
        .execute(&pool(&primary.url("postgres")).await)
        .await
        .expect("create database");
    let ru = replica.url(db);
    eventually("the new database reaches the replica", || {
        let ru = ru.clone();
        async move { PgPoolOptions::new().connect(&ru).await.is_ok() }
    })
    .await;

    let server = Server::start(ServerOptions {
        demo: true,
        jobs: false,
        env: vec![("DATABASE_READ_URL", replica.url(db))],
        log_file: Some(log_path("replica.log")),
        ..ServerOptions::new(&primary.url(db))
    })
    .await;
    let p = pool(&primary.url(db)).await;
    let r = pool(&replica.url(db)).await;
    let (id, title): (uuid::Uuid, String) = sqlx::query_as(
        "select id, title from listings where status = 'listed' and pricing_mode <> 'auction' \
         order by listed_at desc, id limit 1",
    )
    .fetch_one(&p)
    .await
    .expect("a demo listing");
    let id = id.to_string();
    let http = reqwest::Client::new();
    eventually("the replica has the demo listings", || {
        found(&http, &server, &title, &id)
    })
    .await;

    // The replica stops replaying: whatever the primary commits now, it does not see.
    sqlx::query("select pg_wal_replay_pause()")
        .execute(&r)
        .await
        .expect("pause replay");
    eventually("the replay pauses", || async {
        sqlx::query_scalar::<_, String>("select pg_get_wal_replay_pause_state()")
            .fetch_one(&r)
            .await
            .is_ok_and(|s| s == "paused")
    })
    .await;
    sqlx::query("update listings set status = 'withdrawn' where id = $1::uuid")
        .bind(&id)
        .execute(&p)
        .await
        .expect("withdraw on the primary");

    // Search answers from the replica: the withdrawn listing is still found ...
    assert!(
        found(&http, &server, &title, &id).await,
        "search did not read the replica"
    );
    // ... while the listing itself is read on the primary: withdrawn, so no longer public.
    let l = http
        .get(server.url(&format!("/api/v1/listings/{id}")))
        .send()
        .await
        .expect("listing answers");
    let status = l.status();
    let body: Value = l.json().await.unwrap_or(Value::Null);
    assert!(
        status == 404 || body["status"] == json!("withdrawn"),
        "the listing was not read on the primary: {status} {body}"
    );
    // Writes go to the primary (the replica refuses every write): a registration succeeds.
    let reg = http
        .post(server.url("/api/v1/auth/register"))
        .json(&json!({
            "email": "replica@test.cn", "password": "correct horse battery", "display_name": "测试",
            "organization": {"name": "副本测试公司", "kind": "enterprise", "province": "sichuan",
                             "exchange": "suaee", "credit_code": crate::helpers::credit_code_in("sichuan", 4242)}
        }))
        .send()
        .await
        .expect("register answers");
    let reg_status = reg.status();
    let reg_body = reg.text().await.unwrap_or_default();
    assert_eq!(
        reg_status, 201,
        "a write failed while the replica was paused: {reg_body}"
    );
    let users: i64 =
        sqlx::query_scalar("select count(*) from users where email = 'replica@test.cn'")
            .fetch_one(&p)
            .await
            .expect("users on the primary");
    assert_eq!(users, 1);
    let on_replica: i64 = sqlx::query_scalar(
        "select count(*) from pg_stat_activity where datname = current_database() \
         and backend_type = 'client backend' and pid <> pg_backend_pid()",
    )
    .fetch_one(&r)
    .await
    .expect("replica activity");
    assert!(
        on_replica > 0,
        "the server holds no connection to the replica"
    );

    // Replay resumes: once the replica has replayed the withdrawal, its search generation is the
    // primary's exactly (nextval alone reached the WAL only once per 32 values: the replica's
    // generation stood still and its server served the stale cached search for up to 30 s), so the
    // very next search no longer finds the listing.
    let written: String = sqlx::query_scalar("select pg_current_wal_lsn()::text")
        .fetch_one(&p)
        .await
        .expect("primary's WAL position");
    sqlx::query("select pg_wal_replay_resume()")
        .execute(&r)
        .await
        .expect("resume replay");
    eventually("the replica replays the withdrawal", || {
        let (r, written) = (r.clone(), written.clone());
        async move {
            sqlx::query_scalar::<_, bool>("select pg_last_wal_replay_lsn() >= $1::pg_lsn")
                .bind(written)
                .fetch_one(&r)
                .await
                .unwrap_or(false)
        }
    })
    .await;
    let generations = "select (select last_value from listings_search_generation), \
                              (select last_value from listing_pages_generation)";
    let on_primary: (i64, i64) = sqlx::query_as(generations)
        .fetch_one(&p)
        .await
        .expect("primary's generations");
    let on_replica: (i64, i64) = sqlx::query_as(generations)
        .fetch_one(&r)
        .await
        .expect("replica's generations");
    assert_eq!(on_replica, on_primary, "the replica's generations");
    assert!(
        !found(&http, &server, &title, &id).await,
        "the replica's server still finds the withdrawn listing"
    );
    drop(server);
}
