//! The delivery worker: posts the outbox's events to the webhooks that want them.
//!
//! Safe with several server processes. Every round, one process (an advisory lock) gives the
//! newly committed events their place and queues a delivery per interested webhook. A process then
//! claims a webhook whose first waiting delivery is due with a *lease* (`FOR UPDATE SKIP LOCKED`,
//! then `lease_until`, committed): while the lease holds no other process touches that webhook,
//! so its deliveries go out one at a time and in order, and none is sent twice at once. The HTTP
//! call is made with no transaction open and no pooled connection held; a crashed process's lease
//! runs out and another process carries on (at least once). Each webhook is served by its own task,
//! at most [`CONCURRENCY`] per process, every call bounded by a 10 s timeout: a receiver that
//! hangs holds one slot, never a request or another webhook.
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use super::{target, EventView};
use crate::db;
use crate::db::interconnect::{Attempt, ClaimedWebhook, DueDelivery};
use crate::domain::interconnect::{next_attempt, signature, TIMEOUT_SECS};
use crate::error::Result;
use crate::service::AppState;

/// Webhooks served at once by one process.
pub const CONCURRENCY: usize = 8;
/// A lease outlives the longest attempt (5 s to resolve, 10 s to answer) with room to record it.
const LEASE_SECS: i64 = 60;
/// Deliveries sent under one claim before the webhook is let go (others get their turn).
const PER_CLAIM: usize = 100;
/// How much of a receiver's answer is kept.
const EXCERPT_BYTES: usize = 500;

/// Runs until `stop`: a round every half second.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut every = tokio::time::interval(Duration::from_millis(500));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = round(&state, &slots).await {
            tracing::warn!(error = %format!("{e:#}"), "webhook deliveries failed");
        }
    }
}

/// Sequences what committed since the last round and starts a task for each due webhook, as many
/// as there are free slots.
async fn round(state: &AppState, slots: &Arc<Semaphore>) -> Result<Vec<JoinHandle<()>>> {
    sequence(state).await?;
    let free = slots.available_permits();
    if free == 0 {
        return Ok(Vec::new());
    }
    let claimed = {
        let mut conn = state.pool.acquire().await?;
        db::interconnect::claim_webhooks(&mut conn, state.clock.now(), LEASE_SECS, free as i64)
            .await?
    };
    let mut tasks = Vec::new();
    for w in claimed {
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            release(state, &w).await?;
            continue;
        };
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = serve(&state, &w).await {
                tracing::warn!(webhook = %w.id, error = %format!("{e:#}"), "webhook delivery failed");
            }
        }));
    }
    Ok(tasks)
}

/// One round, waited for: what is due now is attempted before this returns (tests drive it).
pub async fn deliver_due(state: &AppState) -> Result<()> {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    for t in round(state, &slots).await? {
        let _ = t.await;
    }
    Ok(())
}

/// Gives committed events their place and queues their deliveries (one process at a time).
pub async fn sequence(state: &AppState) -> Result<u64> {
    let mut total = 0;
    loop {
        let mut tx = state.pool.begin().await?;
        let n = db::interconnect::sequence_events(&mut tx, state.clock.now(), 1000).await?;
        tx.commit().await?;
        total += n;
        if n < 1000 {
            return Ok(total);
        }
    }
}

async fn release(state: &AppState, w: &ClaimedWebhook) -> Result<()> {
    let mut conn = state.pool.acquire().await?;
    db::interconnect::release_lease(&mut conn, w.id, w.lease_token).await?;
    Ok(())
}

/// Delivers a claimed webhook's due deliveries in order, until one must wait for its retry.
async fn serve(state: &AppState, w: &ClaimedWebhook) -> Result<()> {
    let done = serve_inner(state, w).await;
    release(state, w).await?;
    done
}

async fn serve_inner(state: &AppState, w: &ClaimedWebhook) -> Result<()> {
    for _ in 0..PER_CLAIM {
        let head = {
            let mut conn = state.pool.acquire().await?;
            db::interconnect::head_delivery(&mut conn, w.id).await?
        };
        let Some(d) = head else { return Ok(()) };
        let at = state.clock.now();
        if d.next_attempt_at > at {
            return Ok(());
        }
        let out = send(state, w, &d).await;
        let now = state.clock.now();
        let attempts = u32::try_from(d.attempts).unwrap_or(0).saturating_add(1);
        let (status, next) = if out.ok {
            ("delivered", None)
        } else {
            match next_attempt(d.since, attempts, now) {
                Some(t) => ("pending", Some(t)),
                None => ("failed", None),
            }
        };
        let mut tx = state.pool.begin().await?;
        let ours =
            db::interconnect::renew_lease(&mut tx, w.id, w.lease_token, now, LEASE_SECS).await?;
        db::interconnect::record_attempt(
            &mut tx,
            Attempt {
                delivery_id: d.id,
                at,
                duration_ms: out.duration_ms,
                status_code: out.status,
                error: out.error,
                body_excerpt: &out.excerpt,
            },
            status,
            next,
        )
        .await?;
        tx.commit().await?;
        if !ours || status == "pending" {
            // Another process holds it now, or the head waits for its retry (later ones wait too).
            return Ok(());
        }
    }
    Ok(())
}

struct Outcome {
    ok: bool,
    status: Option<i32>,
    error: Option<&'static str>,
    excerpt: String,
    duration_ms: i32,
}

/// The body of a delivery: the event as the change feed shows it.
pub fn body(d: &DueDelivery) -> Vec<u8> {
    let v = EventView {
        id: d.seq.to_string(),
        kind: d.kind.clone(),
        created_at: d.created_at,
        data: d.data.clone(),
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

async fn send(state: &AppState, w: &ClaimedWebhook, d: &DueDelivery) -> Outcome {
    let started = Instant::now();
    let (ok, status, error, excerpt) = match post(state, w, d).await {
        Ok((status, excerpt)) => (
            (200..300).contains(&status),
            Some(i32::from(status)),
            None,
            excerpt,
        ),
        Err(e) => (false, None, Some(e), String::new()),
    };
    Outcome {
        ok,
        status,
        error,
        excerpt,
        duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
    }
}

async fn post(
    state: &AppState,
    w: &ClaimedWebhook,
    d: &DueDelivery,
) -> std::result::Result<(u16, String), &'static str> {
    let t = target::parse(&w.url).ok_or("bad_url")?;
    let addrs = target::check(&state.config.webhook_allow, &t)
        .await
        .map_err(|r| match r {
            target::Refused::Unresolved => "unresolved",
            target::Refused::NotAllowed => "target_refused",
        })?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(TIMEOUT_SECS))
        .connect_timeout(Duration::from_secs(5))
        .resolve_to_addrs(&t.host, &addrs)
        .user_agent("techmarket-webhooks/1")
        .build()
        .map_err(|_| "client_failed")?;
    let body = body(d);
    let sig = signature(&w.secret, state.clock.now().timestamp(), &body);
    let mut resp = client
        .post(t.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Techmarket-Signature", sig)
        .header("Techmarket-Event", d.kind.as_str())
        .header("Techmarket-Delivery", d.id.to_string())
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connect_failed"
            } else {
                "request_failed"
            }
        })?;
    let status = resp.status().as_u16();
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match resp.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            // A receiver that answered and then stalls or breaks the body still answered.
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    let excerpt = String::from_utf8_lossy(&bytes).replace('\0', "");
    Ok((status, excerpt))
}
