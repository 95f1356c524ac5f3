//! Where a webhook may post: the URL's host resolved now, every address checked against
//! `TECHMARKET_WEBHOOK_ALLOW` (domain::interconnect::AllowList). Checked when a webhook is
//! registered and again before every delivery, and the request then goes to exactly the addresses
//! that were checked (no second lookup that a DNS change could turn inward).
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::domain::interconnect::AllowList;

/// A parsed webhook URL.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: url::Url,
    pub host: String,
    pub port: u16,
}

/// `http` or `https`, a host, no user or password in it.
pub fn parse(s: &str) -> Option<Target> {
    let url = url::Url::parse(s).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let host = match url.host()? {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(a) => a.to_string(),
        url::Host::Ipv6(a) => a.to_string(),
    };
    let port = url.port_or_known_default()?;
    Some(Target { url, host, port })
}

/// Why a target cannot be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The name did not resolve (in 5 s).
    Unresolved,
    /// An address is not allowed.
    NotAllowed,
}

/// The target's addresses if every one of them is allowed.
pub async fn check(allow: &AllowList, t: &Target) -> Result<Vec<SocketAddr>, Refused> {
    let addrs: Vec<SocketAddr> = match t.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, t.port)],
        Err(_) => {
            let lookup = tokio::net::lookup_host((t.host.as_str(), t.port));
            match tokio::time::timeout(Duration::from_secs(5), lookup).await {
                Ok(Ok(it)) => it.collect(),
                _ => return Err(Refused::Unresolved),
            }
        }
    };
    let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
    if allow.allows(&t.host, &ips) {
        Ok(addrs)
    } else {
        Err(Refused::NotAllowed)
    }
}
