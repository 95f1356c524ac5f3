//! The `techmarket` binary as an operator runs it: database created if missing, migrations applied,
//! admins made from the command line, a clean stop on SIGTERM.
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::server::{free_port, server_url as base_url};

async fn drop_db(name: &str) {
    if let Ok(mut conn) =
        <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{}/postgres", base_url())).await
    {
        let _ = sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
            .execute(&mut conn)
            .await;
    }
}

#[tokio::test]
async fn serve_creates_the_database_answers_and_stops_cleanly_on_sigterm() {
    let db = format!("techmarket_proc_{}", Uuid::new_v4().simple());
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_techmarket"))
        .arg("serve")
        .env("DATABASE_URL", format!("{}/{db}", base_url()))
        .env("TECHMARKET_ADDR", format!("127.0.0.1:{port}"))
        .env("TECHMARKET_JOBS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut ready = false;
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            if r.status() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "the server became ready");
    let quote = client
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(quote.status(), 200);
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(20) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let exit = match exit {
        Some(s) => s,
        None => {
            let _ = child.kill();
            panic!("the server did not stop within 20 s of SIGTERM");
        }
    };
    assert!(exit.success(), "clean exit, got {exit:?}");
    drop_db(&db).await;
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_refuses_bad_input() {
    let db = format!("techmarket_proc_{}", Uuid::new_v4().simple());
    let url = format!("{}/{db}", base_url());
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_techmarket"))
            .args(args)
            .env("DATABASE_URL", &url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = run(
        &[
            "admin",
            "create",
            "--email",
            "Admin@Exchange.cn",
            "--exchange",
            "cquaee",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let dup = run(
        &[
            "admin",
            "create",
            "--email",
            "admin@exchange.cn",
            "--exchange",
            "suaee",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(!dup.status.success(), "duplicate e-mail refused");
    let short = run(
        &[
            "admin",
            "create",
            "--email",
            "x@exchange.cn",
            "--exchange",
            "suaee",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!short.status.success());
    let bad = run(
        &[
            "admin",
            "create",
            "--email",
            "y@exchange.cn",
            "--exchange",
            "nyse",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(!bad.status.success());
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let (role, exchange): (String, String) = sqlx::query_as(
        "select role, admin_exchange from users where lower(email) = 'admin@exchange.cn'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((role.as_str(), exchange.as_str()), ("admin", "cquaee"));
    // The new admin's authenticator URI and recovery codes are printed once; the URI carries the
    // stored secret (SHA-1, 6 digits, 30 s are the defaults it leaves out).
    let out = String::from_utf8_lossy(&ok.stdout).to_string();
    let uri = out
        .lines()
        .find(|l| l.starts_with("otpauth://totp/"))
        .unwrap_or_else(|| panic!("no otpauth URI printed: {out}"));
    assert!(uri.contains("issuer=techmarket"), "{uri}");
    let stored: Vec<u8> = sqlx::query_scalar(
        "select f.secret from user_two_factor f join users u on u.id = f.user_id \
         where lower(u.email) = 'admin@exchange.cn' and f.enabled_at is not null",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(
        uri.contains(&format!(
            "secret={}",
            techmarket::domain::otp::secret_base32(&stored)
        )),
        "{uri}"
    );
    let recovery: i64 = sqlx::query_scalar(
        "select count(*) from user_recovery_codes r join users u on u.id = r.user_id \
         where lower(u.email) = 'admin@exchange.cn'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(recovery, 10);
    assert_eq!(
        out.lines()
            .filter(|l| l.trim().len() == 11 && l.trim().chars().nth(5) == Some('-'))
            .count(),
        10,
        "ten recovery codes printed: {out}"
    );
    let n: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    drop_db(&db).await;
}

async fn wait_ready(client: &reqwest::Client, port: u16) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(90) {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            if r.status() == 200 {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
async fn two_instances_started_together_on_a_fresh_database_migrate_and_load_the_demo_once() {
    let db = format!("techmarket_proc_{}", Uuid::new_v4().simple());
    let url = format!("{}/{db}", base_url());
    let ports = [free_port(), free_port()];
    let mut children: Vec<_> = ports
        .iter()
        .map(|port| {
            Command::new(env!("CARGO_BIN_EXE_techmarket"))
                .args(["serve", "--demo"])
                .env("DATABASE_URL", &url)
                .env("TECHMARKET_ADDR", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let client = reqwest::Client::new();
    for port in ports {
        assert!(wait_ready(&client, port).await, "instance on {port} ready");
    }
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let admins: i64 = sqlx::query_scalar("select count(*) from users where role = 'admin'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(admins, 4, "one demo admin per exchange, not two");
    for (table, column) in [
        ("fee_schedules", "name"),
        ("listings", "title"),
        ("demands", "title"),
        ("organizations", "name"),
    ] {
        let dup: i64 = sqlx::query_scalar(&format!(
            "select count(*) - count(distinct {column}) from {table}"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(dup, 0, "demo {table} loaded twice");
    }
    // A session made on one instance works on the other (sessions live in Postgres).
    let login = client
        .post(format!("http://127.0.0.1:{}/api/v1/auth/login", ports[0]))
        .json(&serde_json::json!({"email": "admin-suaee@demo.techmarket.cn", "password": techmarket::demo::DEMO_PASSWORD,
            "otp": demo_admin_code("admin-suaee@demo.techmarket.cn")}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = client
        .get(format!("http://127.0.0.1:{}/api/v1/me", ports[1]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    for c in children.iter_mut() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
    }
    for c in children.iter_mut() {
        let _ = c.wait();
    }
    drop(conn);
    drop_db(&db).await;
}

/// The current code of a demo administrator's authenticator (the demo's secrets are published).
fn demo_admin_code(email: &str) -> String {
    let step = techmarket::domain::otp::step_of(chrono::Utc::now().timestamp());
    techmarket::domain::otp::code_at_step(&techmarket::demo::demo_otp_secret(email), step)
        .unwrap_or_default()
}
