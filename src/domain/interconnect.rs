//! Interconnection with the exchanges' own systems: API key scopes, webhook event types, the
//! signature scheme, the retry schedule, and which webhook targets are allowed. Pure: the caller
//! resolves host names and passes the addresses and `now`.
use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;

use crate::domain::codes::code_enum;

code_enum! {
    /// What an API key may do. A key acts as its exchange within these only.
    Scope {
        /// Read what the exchange's admins may read (and the change feed).
        Read => "read", "读取", "Read";
        /// Review listings and verify organisations.
        Review => "review", "审核", "Review";
        /// Record payments received.
        Payments => "payments", "收款", "Payments";
        /// Manage webhooks and see their deliveries.
        Webhooks => "webhooks", "回调", "Webhooks";
    }
}

code_enum! {
    /// The events an exchange's systems hear of (API.md "Exchange systems").
    EventType {
        ListingSubmitted => "listing.submitted", "成果提交审核", "Listing submitted";
        ListingListed => "listing.listed", "成果挂牌", "Listing listed";
        TradeCreated => "trade.created", "成交", "Trade created";
        TradePaid => "trade.paid", "已付款", "Trade paid";
        TradeSettled => "trade.settled", "已结算", "Trade settled";
        TradeCancelled => "trade.cancelled", "交易取消", "Trade cancelled";
        AuctionClosed => "auction.closed", "拍卖结束", "Auction closed";
        OrganizationRestricted => "organization.restricted", "信用惩戒", "Organisation restricted";
    }
}

/// The longest name of a key.
pub const KEY_NAME_MAX: usize = 100;
/// The longest webhook URL.
pub const URL_MAX: usize = 2000;
/// How long a delivery is retried.
pub const RETRY_WINDOW: TimeDelta = TimeDelta::hours(24);
/// A receiver has this long to answer.
pub const TIMEOUT_SECS: u64 = 10;

/// `Techmarket-Signature` for `body` sent at unix time `t`: `t=<t>,v1=<hex HMAC-SHA256(secret,
/// "<t>.<body>")>`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &str, t: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this never fails.
    let mut m = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Whether `header` is a valid signature of `body` under `secret` (what a receiver does).
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let expected = mac(secret, t, body);
    v1.iter().any(|sig| {
        use subtle::ConstantTimeEq;
        sig.len() == expected.len() && bool::from(sig.ct_eq(&expected))
    })
}

/// When to try again after `attempts` failed attempts of a delivery whose retries began at
/// `since`, or `None` when 24 h have passed: 10 s, 20 s, 40 s … doubling, at most an hour apart.
pub fn next_attempt(
    since: DateTime<Utc>,
    attempts: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let exp = attempts.saturating_sub(1).min(20);
    let secs = (10i64 << exp).min(3600);
    let at = now + TimeDelta::seconds(secs);
    (at <= since + RETRY_WINDOW).then_some(at)
}

/// One entry of `TECHMARKET_WEBHOOK_ALLOW`: a host name (`hooks.example.cn`, or `*.example.cn`
/// for its subdomains) or an address range (`10.1.0.0/16`, `127.0.0.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    Host(String),
    Suffix(String),
    Net(IpNet),
}

/// Which webhook targets are allowed. A target must be named in the list, by its host or by a
/// range holding its addresses; and an address that is not public (loopback, private, link-local,
/// shared, unique-local, …) is allowed only by a range that holds it, whatever the host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList(pub Vec<AllowEntry>);

impl Default for AllowList {
    /// Loopback only.
    fn default() -> Self {
        AllowList::parse("127.0.0.0/8,::1/128").unwrap_or(AllowList(Vec::new()))
    }
}

impl AllowList {
    /// Parses a comma- or space-separated list; `Err` names the first entry that is neither.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for e in s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            let lower = e.to_ascii_lowercase();
            if let Ok(net) = lower.parse::<IpNet>() {
                out.push(AllowEntry::Net(net));
            } else if let Ok(ip) = lower.parse::<IpAddr>() {
                out.push(AllowEntry::Net(IpNet::from(ip)));
            } else if let Some(rest) = lower.strip_prefix("*.") {
                if !valid_host(rest) {
                    return Err(e.to_string());
                }
                out.push(AllowEntry::Suffix(rest.to_string()));
            } else if valid_host(&lower) {
                out.push(AllowEntry::Host(lower));
            } else {
                return Err(e.to_string());
            }
        }
        Ok(AllowList(out))
    }

    fn host_named(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0.iter().any(|e| match e {
            AllowEntry::Host(h) => *h == host,
            AllowEntry::Suffix(s) => host
                .strip_suffix(s.as_str())
                .is_some_and(|p| p.ends_with('.') && p.len() > 1),
            AllowEntry::Net(_) => false,
        })
    }

    fn in_range(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|e| matches!(e, AllowEntry::Net(n) if n.contains(&ip)))
    }

    /// Whether a target with host name `host` that resolved to `addrs` may be called: every
    /// address must pass (and there must be one).
    pub fn allows(&self, host: &str, addrs: &[IpAddr]) -> bool {
        let named = self.host_named(host);
        !addrs.is_empty()
            && addrs
                .iter()
                .all(|&ip| self.in_range(ip) || (named && is_public(canonical(ip))))
    }
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast, …).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 shared
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x64 && s[1] == 0xff9b)) // NAT64, may reach IPv4 inside
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn a_signature_verifies_with_an_independent_hmac_and_fails_when_anything_changes() {
        let body = br#"{"id":"1","type":"trade.paid"}"#;
        let sig = signature("whsec_x", 1_700_000_000, body);
        // Independently: HMAC-SHA256("whsec_x", "1700000000.<body>").
        let mut m = Hmac::<Sha256>::new_from_slice(b"whsec_x").unwrap();
        m.update(b"1700000000.");
        m.update(body);
        let want = hex::encode(m.finalize().into_bytes());
        assert_eq!(sig, format!("t=1700000000,v1={want}"));
        assert!(verify("whsec_x", &sig, body));
        assert!(!verify("whsec_y", &sig, body));
        assert!(!verify(
            "whsec_x",
            &sig,
            br#"{"id":"2","type":"trade.paid"}"#
        ));
        let other_t = sig.replace("t=1700000000", "t=1700000001");
        assert!(!verify("whsec_x", &other_t, body));
        assert!(!verify("whsec_x", "garbage", body));
        assert!(!verify("whsec_x", "t=1,v1=zz", body));
    }

    #[test]
    fn retries_double_from_ten_seconds_and_stop_after_a_day() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(next_attempt(t0, 1, t0), Some(t0 + TimeDelta::seconds(10)));
        assert_eq!(next_attempt(t0, 2, t0), Some(t0 + TimeDelta::seconds(20)));
        assert_eq!(next_attempt(t0, 3, t0), Some(t0 + TimeDelta::seconds(40)));
        assert_eq!(
            next_attempt(t0, 30, t0),
            Some(t0 + TimeDelta::seconds(3600))
        );
        let late = t0 + TimeDelta::hours(23) + TimeDelta::minutes(30);
        assert_eq!(next_attempt(t0, 12, late), None);
        assert!(next_attempt(t0, 12, t0 + TimeDelta::hours(20)).is_some());
    }

    #[test]
    fn by_default_only_loopback_is_allowed() {
        let a = AllowList::default();
        assert!(a.allows("127.0.0.1", &ips(&["127.0.0.1"])));
        assert!(a.allows("localhost", &ips(&["127.0.0.1", "::1"])));
        assert!(!a.allows("example.com", &ips(&["93.184.216.34"])));
        assert!(!a.allows("10.0.0.1", &ips(&["10.0.0.1"])));
        assert!(!a.allows("localhost", &[]));
        assert!(!a.allows("x", &ips(&["127.0.0.1", "10.0.0.1"])));
    }

    #[test]
    fn a_named_host_is_allowed_only_on_public_addresses() {
        let a = AllowList::parse("hooks.suaee.cn, *.cquaee.cn").unwrap();
        assert!(a.allows("hooks.suaee.cn", &ips(&["58.20.1.9"])));
        assert!(a.allows("HOOKS.suaee.cn.", &ips(&["58.20.1.9"])));
        assert!(a.allows("erp.cquaee.cn", &ips(&["58.20.1.10"])));
        assert!(!a.allows("cquaee.cn", &ips(&["58.20.1.10"])));
        assert!(!a.allows("evilcquaee.cn", &ips(&["58.20.1.10"])));
        assert!(!a.allows("other.cn", &ips(&["58.20.1.10"])));
        // The name is allowed, the address it resolves to today is internal: refused.
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!a.allows("hooks.suaee.cn", &ips(&[internal])), "{internal}");
        }
    }

    #[test]
    fn ranges_allow_their_addresses_even_internal_ones() {
        let a = AllowList::parse("10.8.0.0/16 192.168.5.7").unwrap();
        assert!(a.allows("erp.internal", &ips(&["10.8.3.4"])));
        assert!(a.allows("erp.internal", &ips(&["::ffff:10.8.3.4"])));
        assert!(a.allows("192.168.5.7", &ips(&["192.168.5.7"])));
        assert!(!a.allows("192.168.5.8", &ips(&["192.168.5.8"])));
        assert!(!a.allows("localhost", &ips(&["127.0.0.1"])));
        assert!(AllowList::parse("bad_host!").is_err());
        assert!(AllowList::parse("*.").is_err());
        assert_eq!(AllowList::parse("").unwrap().0.len(), 0);
    }

    #[test]
    fn codes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.code()), Some(*s));
        }
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.code()), Some(*e));
        }
        assert_eq!(EventType::ALL.len(), 8);
    }
}
