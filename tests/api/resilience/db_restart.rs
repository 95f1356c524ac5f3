//! Item 6: PostgreSQL stopped and started under a running, loaded server. The test makes its OWN
//! cluster (initdb in a temporary directory, a free port in 5460–5479, its own socket directory)
//! and never touches the tests' shared server. The server stays up; `/readyz` answers 503 during
//! the outage and 200 after; requests answer 503 `database_unavailable` (never 500) meanwhile and
//! succeed again within 5 s of the database being back, without restarting the server; no
//! connection is left `idle in transaction`, also after 1,000 clients hang up mid-request.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use rand::Rng;
use reqwest::Method;
use serde_json::json;

use super::*;
use crate::server::{Server, ServerOptions};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL cluster of this test's own; stopped (immediately) and deleted when dropped.
pub(super) struct OwnCluster {
    pub(super) dir: PathBuf,
    pub(super) port: u16,
}

pub(super) fn as_postgres(program: &str) -> Command {
    let path = Path::new(PG_BIN).join(program);
    // initdb and postgres refuse to run as root: run them as the `postgres` user then.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

pub(super) fn run(mut cmd: Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl OwnCluster {
    pub(super) fn init() -> OwnCluster {
        let port = (5460..5480)
            .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .expect("a free port in 5460-5479");
        let dir =
            std::env::temp_dir().join(format!("techmarket-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        let mut initdb = as_postgres("initdb");
        initdb.arg("-D").arg(dir.join("data")).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "-N",
        ]);
        run(initdb, "initdb");
        let cluster = OwnCluster { dir, port };
        cluster.start();
        cluster
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut c = as_postgres("pg_ctl");
        c.arg("-D").arg(self.dir.join("data")).args(args);
        c
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log");
        let mut c = self.pg_ctl(&["-w", "-t", "60", "-o", &opts, "-l"]);
        c.arg(log).arg("start");
        run(c, "pg_ctl start");
    }

    fn stop(&self) {
        run(
            self.pg_ctl(&["-w", "-t", "60", "-m", "fast", "stop"]),
            "pg_ctl stop",
        );
    }

    pub(super) fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self
            .pg_ctl(&["-w", "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Connections of the server's database, by state.
async fn states(url: &str) -> Vec<(String, i64)> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect for pg_stat_activity");
    sqlx::query_as(
        "select coalesce(state, ''), count(*) from pg_stat_activity \
         where datname = 'techmarket' and pid <> pg_backend_pid() group by 1 order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .expect("pg_stat_activity")
}

/// Waits up to 5 s for the server's connections to settle; none may stay `idle in transaction`.
async fn assert_no_idle_in_transaction(url: &str, when: &str) {
    let start = Instant::now();
    loop {
        let s = states(url).await;
        let stuck = s
            .iter()
            .any(|(state, n)| state.starts_with("idle in transaction") && *n > 0);
        if !stuck {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{when}: connections left idle in transaction: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[derive(Default)]
struct Seen {
    /// (when, status or 0 for no answer, error code)
    answers: Vec<(Instant, u16, String)>,
}

#[tokio::test]
async fn the_server_rides_out_a_database_restart_and_clients_hanging_up() {
    let cluster = OwnCluster::init();
    let url = cluster.url("techmarket");
    let mut opts = ServerOptions::new(&url);
    opts.log_file = Some(log_path("db-restart.log"));
    let mut server = Server::start(opts).await;
    // A small market, made in process on the server's database.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("fixture pool");
    let app = TestApp::new(pool.clone());
    let market = Market::new(&app, "dbr", 4, 2).await;
    pool.close().await;
    let market = Arc::new(market);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // Load: reads with a session (me), public searches, offers (a write in a transaction).
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (market, client, stop, seen) =
                (market.clone(), client.clone(), stop.clone(), seen.clone());
            let base = server.base.clone();
            tokio::spawn(async move {
                let mut i = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let buyer = (w + i) % market.parties.len();
                    let (method, path, body) = match i % 3 {
                        0 => (Method::GET, "/api/v1/me".to_string(), None),
                        1 => (Method::GET, "/api/v1/listings?q=ADC".to_string(), None),
                        _ => {
                            let (id, seller) = &market.negotiable[i % market.negotiable.len()];
                            if *seller == buyer {
                                continue;
                            }
                            (
                                Method::POST,
                                format!("/api/v1/listings/{id}/offers"),
                                Some(json!({"amount_fen": 2_000_000, "transaction_mode": "nonexclusive_license"})),
                            )
                        }
                    };
                    let (status, body) = send(
                        &client,
                        method,
                        &format!("{base}{path}"),
                        Some(&market.parties[buyer].m.token),
                        None,
                        body.as_ref(),
                    )
                    .await;
                    let code = body["error"]["code"].as_str().unwrap_or("").to_string();
                    seen.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .answers
                        .push((Instant::now(), status.unwrap_or(0), code));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    let readyz = |client: reqwest::Client, base: String| async move {
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(readyz(client.clone(), server.base.clone()).await, 200);

    // The outage.
    let down_at = Instant::now();
    cluster.stop();
    let stopped_at = Instant::now();
    let mut readyz_down = Vec::new();
    for _ in 0..3 {
        readyz_down.push(readyz(client.clone(), server.base.clone()).await);
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    // A request that needs the database gets a clear 503 (after the pool's acquire timeout).
    let (status, body) = send(
        &client,
        Method::GET,
        &server.url("/api/v1/me"),
        Some(&market.parties[0].m.token),
        None,
        None,
    )
    .await;
    assert_eq!(status, Some(503), "{body}");
    assert_eq!(
        body["error"]["code"],
        json!("database_unavailable"),
        "{body}"
    );
    let page = client
        .get(server.url("/listings?q=ADC"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 503);
    assert!(page.text().await.unwrap().contains("数据库暂时不可用"));
    assert!(
        readyz_down.iter().all(|s| *s == 503),
        "/readyz while the database is down: {readyz_down:?}"
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server stays up"
    );

    cluster.start();
    let back_at = Instant::now();
    // Requests succeed again within 5 s, without restarting the server.
    let mut first_ok = None;
    while back_at.elapsed() < Duration::from_secs(10) {
        let (status, _) = send(
            &client,
            Method::GET,
            &server.url("/api/v1/me"),
            Some(&market.parties[1].m.token),
            None,
            None,
        )
        .await;
        if status == Some(200) {
            first_ok = Some(back_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_ok = first_ok.expect("requests succeed again after the database is back");
    println!("database restart: first success {first_ok:?} after the database was back");
    assert!(first_ok < Duration::from_secs(5), "took {first_ok:?}");
    assert_eq!(readyz(client.clone(), server.base.clone()).await, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server stayed up"
    );
    // What the load saw: successes before and after, 503s in between, never a 500 or anything else.
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    let odd: Vec<_> = seen
        .answers
        .iter()
        .filter(|(_, s, code)| {
            !(matches!(*s, 200 | 201) || (*s == 503 && code == "database_unavailable"))
        })
        .collect();
    assert!(
        odd.is_empty(),
        "answers other than 2xx or 503 database_unavailable: {odd:?}"
    );
    let ok_before = seen
        .answers
        .iter()
        .filter(|(t, s, _)| *t < down_at && *s < 300)
        .count();
    let unavailable = seen.answers.iter().filter(|(_, s, _)| *s == 503).count();
    let ok_after = seen
        .answers
        .iter()
        .filter(|(t, s, _)| *t > back_at + first_ok && *s < 300)
        .count();
    println!(
        "database restart: {ok_before} ok before, {unavailable} × 503 around the outage \
         ({:?} to stop), {ok_after} ok after",
        stopped_at - down_at
    );
    assert!(ok_before > 0 && unavailable > 0 && ok_after > 0);
    assert_no_idle_in_transaction(&cluster.url("postgres"), "after the database restart").await;

    // 1,000 clients hang up mid-request: offers (transactions), accepts' reads, searches.
    let offers_before = {
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query_scalar::<_, i64>("select count(*) from offers")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    let hung_up = stream::iter(0..1000usize)
        .map(|i| {
            let market = market.clone();
            let base = server.base.clone();
            async move {
                let timeout = Duration::from_millis(rand::thread_rng().gen_range(1..30));
                let client = reqwest::Client::builder()
                    .timeout(timeout)
                    .pool_max_idle_per_host(0)
                    .build()
                    .unwrap();
                let buyer = i % market.parties.len();
                let (id, seller) = &market.negotiable[i % market.negotiable.len()];
                let buyer = if buyer == *seller { (buyer + 1) % market.parties.len() } else { buyer };
                let req = if i % 4 == 3 {
                    client.get(format!("{base}/api/v1/listings?q=芯片"))
                } else {
                    client
                        .post(format!("{base}/api/v1/listings/{id}/offers"))
                        .bearer_auth(&market.parties[buyer].m.token)
                        .json(&json!({"amount_fen": 3_000_000, "transaction_mode": "nonexclusive_license"}))
                };
                req.send().await.is_err()
            }
        })
        .buffer_unordered(100)
        .filter(|e| std::future::ready(*e))
        .count()
        .await;
    println!("hang-ups: {hung_up} of 1000 clients gave up before their answer");
    assert!(
        hung_up > 100,
        "most clients hung up mid-request ({hung_up})"
    );
    assert_no_idle_in_transaction(&cluster.url("postgres"), "after 1,000 hang-ups").await;
    // The server still answers, and every offer it stored is whole (one row per request at most).
    let (status, _) = send(
        &client,
        Method::GET,
        &server.url("/api/v1/me"),
        Some(&market.parties[2].m.token),
        None,
        None,
    )
    .await;
    assert_eq!(status, Some(200));
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let offers_after: i64 = sqlx::query_scalar("select count(*) from offers")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert!(
        offers_after - offers_before <= 750,
        "{offers_before} → {offers_after}"
    );
    server.stop(Duration::from_secs(20)).await;
}
