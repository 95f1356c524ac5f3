//! Configuration read from the environment (see the README's table).
use std::net::SocketAddr;

use anyhow::Context;

use crate::domain::interconnect::AllowList;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/techmarket";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    /// A read replica (`DATABASE_READ_URL`) for search, browse, matches and the statistics CSV;
    /// everything else, and whatever a user just changed, reads the primary.
    pub database_read_url: Option<String>,
    pub addr: SocketAddr,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub cookie_secure: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    pub pool_size: u32,
    pub static_dir: String,
    /// Run background jobs (auction closing, expiries, purges) in this process.
    pub run_jobs: bool,
    /// The market's public address (`https://market.example.cn`), for links that leave the site,
    /// such as a certificate's QR code.
    pub public_url: String,
    /// Keep listing documents in this directory instead of PostgreSQL.
    pub documents_dir: Option<String>,
    /// Where webhooks may post (`TECHMARKET_WEBHOOK_ALLOW`: hosts, `*.domain`, addresses or
    /// ranges; loopback only by default).
    pub webhook_allow: AllowList,
}

fn env_flag(name: &str) -> bool {
    matches!(
        std::env::var(name).ok().as_deref(),
        Some("1") | Some("true") | Some("yes")
    )
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let database_url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_string());
        let addr = std::env::var("TECHMARKET_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_string());
        let addr = addr
            .parse()
            .with_context(|| format!("TECHMARKET_ADDR {addr:?} is not a socket address"))?;
        let pool_size = match std::env::var("TECHMARKET_POOL_SIZE") {
            Ok(v) => v.parse().context("TECHMARKET_POOL_SIZE must be a number")?,
            Err(_) => 16,
        };
        let static_dir = std::env::var("TECHMARKET_STATIC_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/static").to_string());
        let webhook_allow = match std::env::var("TECHMARKET_WEBHOOK_ALLOW") {
            Ok(v) => AllowList::parse(&v).map_err(|e| {
                anyhow::anyhow!(
                    "TECHMARKET_WEBHOOK_ALLOW: {e:?} is neither a host name nor an address range"
                )
            })?,
            Err(_) => AllowList::default(),
        };
        Ok(Self {
            database_url,
            database_read_url: std::env::var("DATABASE_READ_URL")
                .ok()
                .filter(|u| !u.trim().is_empty()),
            addr,
            cookie_secure: env_flag("TECHMARKET_COOKIE_SECURE"),
            trust_proxy: env_flag("TECHMARKET_TRUST_PROXY"),
            pool_size,
            static_dir,
            run_jobs: std::env::var("TECHMARKET_JOBS")
                .map(|v| v != "0")
                .unwrap_or(true),
            public_url: std::env::var("TECHMARKET_PUBLIC_URL")
                .unwrap_or_else(|_| format!("http://{addr}")),
            documents_dir: std::env::var("TECHMARKET_DOCUMENTS_DIR")
                .ok()
                .filter(|d| !d.trim().is_empty()),
            webhook_allow,
        })
    }

    /// A configuration for tests: nothing read from the environment but the static folder.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_string(),
            database_read_url: None,
            addr: ([127, 0, 0, 1], 0).into(),
            cookie_secure: false,
            trust_proxy: true,
            pool_size: 8,
            static_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/static").to_string(),
            run_jobs: false,
            public_url: "http://127.0.0.1:8080".to_string(),
            documents_dir: None,
            webhook_allow: AllowList::default(),
        }
    }
}
