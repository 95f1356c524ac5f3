//! Real `techmarket serve` processes for tests that need a socket, a crash or a second instance:
//! each on a fresh database of the tests' PostgreSQL server and a free port. Dropping a `Server`
//! kills its process; dropping a `Database` drops the database.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// The tests' PostgreSQL server without a database name (`DATABASE_URL`, else `.env`).
pub fn server_url() -> String {
    let from_file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env"))
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("DATABASE_URL=")
                    .map(|v| v.trim().to_string())
            })
        });
    let url = std::env::var("DATABASE_URL")
        .ok()
        .or(from_file)
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match url.rsplit_once('/') {
        Some((server, _)) => server.to_string(),
        None => url,
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// A fresh database name on the tests' server; dropped (with its connections) when this is dropped.
pub struct Database {
    pub name: String,
    pub url: String,
}

impl Database {
    pub fn fresh(prefix: &str) -> Self {
        let name = format!("techmarket_{prefix}_{}", Uuid::new_v4().simple());
        let url = format!("{}/{name}", server_url());
        Database { name, url }
    }

    pub async fn connect(&self) -> sqlx::PgConnection {
        <sqlx::PgConnection as sqlx::Connection>::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // Synchronous on purpose: Drop may run outside a runtime. psql is on every machine of this kind.
        let _ = Command::new("psql")
            .arg(format!("{}/postgres", server_url()))
            .args([
                "-qAtc",
                &format!("drop database if exists \"{}\" with (force)", self.name),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// One `techmarket serve` process.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub base: String,
}

pub struct ServerOptions<'a> {
    pub database_url: &'a str,
    pub demo: bool,
    pub jobs: bool,
    pub env: Vec<(&'a str, String)>,
    /// Keep the server's stderr (logs) in this file instead of discarding it.
    pub log_file: Option<std::path::PathBuf>,
}

impl<'a> ServerOptions<'a> {
    pub fn new(database_url: &'a str) -> Self {
        ServerOptions {
            database_url,
            demo: false,
            jobs: true,
            env: Vec::new(),
            log_file: None,
        }
    }
}

impl Server {
    /// Starts a server and waits until `/readyz` answers 200 (panics after 90 s).
    pub async fn start(opts: ServerOptions<'_>) -> Server {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_techmarket"));
        cmd.arg("serve");
        if opts.demo {
            cmd.arg("--demo");
        }
        cmd.env("DATABASE_URL", opts.database_url)
            .env("TECHMARKET_ADDR", format!("127.0.0.1:{port}"))
            .env("TECHMARKET_JOBS", if opts.jobs { "1" } else { "0" })
            .stdout(Stdio::null());
        match &opts.log_file {
            Some(path) => {
                let f = std::fs::File::create(path).expect("log file");
                cmd.stderr(f);
            }
            None => {
                cmd.stderr(Stdio::null());
            }
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start techmarket serve");
        let server = Server {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
        };
        assert!(
            server.wait_ready(Duration::from_secs(90)).await,
            "server on port {port} became ready"
        );
        server
    }

    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let client = reqwest::Client::new();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == 200 {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown, no flush; what a crash does.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait up to `limit` for a clean exit; true if it exited successfully in time.
    pub async fn stop(&mut self, limit: Duration) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s.success();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.kill();
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
