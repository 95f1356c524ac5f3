//! API keys, the outbox of events, webhooks, their deliveries and attempts.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

// ------------------------------------------------------------------------------------ API keys

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub exchange: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const KEY_COLS: &str = "id, exchange, name, scopes, prefix, created_at, last_used_at, revoked_at";

pub struct NewApiKey<'a> {
    pub id: Uuid,
    pub exchange: &'a str,
    pub name: &'a str,
    pub scopes: &'a [String],
    pub key_hash: &'a [u8],
    pub prefix: &'a str,
    pub created_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

pub async fn insert_key(conn: &mut PgConnection, k: NewApiKey<'_>) -> sqlx::Result<ApiKeyRow> {
    sqlx::query_as(&format!(
        "insert into api_keys (id, exchange, name, scopes, key_hash, prefix, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {KEY_COLS}"
    ))
    .bind(k.id)
    .bind(k.exchange)
    .bind(k.name)
    .bind(k.scopes)
    .bind(k.key_hash)
    .bind(k.prefix)
    .bind(k.created_by)
    .bind(k.now)
    .fetch_one(conn)
    .await
}

/// The key with this hash, revoked or not.
pub async fn key_by_hash(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLS} from api_keys where key_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(conn)
    .await
}

pub async fn key_for_update(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLS} from api_keys where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn keys_of(conn: &mut PgConnection, exchange: &str) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLS} from api_keys where exchange = $1 \
         order by revoked_at is not null, created_at desc limit 500"
    ))
    .bind(exchange)
    .fetch_all(conn)
    .await
}

pub async fn revoke_key(
    conn: &mut PgConnection,
    id: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update api_keys set revoked_at = $3, revoked_by = $2 where id = $1 and revoked_at is null",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a use, at most once a minute per key (a write per request would make every call of a
/// polling system a row update).
pub async fn touch_key(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query(
        "update api_keys set last_used_at = $2 where id = $1 \
         and (last_used_at is null or last_used_at < $2 - interval '1 minute')",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------ outbox

/// An event for the exchanges' systems, as [`super::notifications::insert_with_event`] writes it:
/// its `exchanges` are all four (`all`), or those of the listing and the organisations named.
pub struct NewEvent {
    pub kind: &'static str,
    pub data: serde_json::Value,
    pub listing_id: Option<Uuid>,
    pub organizations: Vec<Uuid>,
    pub all: bool,
}

/// Gives the next committed events their place (`seq`) and queues them for the webhooks that want
/// them, if no other process is doing it now (a transaction-scoped advisory lock). Returns how
/// many events were sequenced.
pub async fn sequence_events(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    batch: i64,
) -> sqlx::Result<u64> {
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock(1700170001)")
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Ok(0);
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "with base as (select coalesce(max(seq), 0) as b from outbox_events), \
         next as (select n, row_number() over (order by n) as r from outbox_events \
                  where seq is null order by n limit $1) \
         update outbox_events e set seq = base.b + next.r from next, base \
         where e.n = next.n returning e.n, e.seq",
    )
    .bind(batch)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let ns: Vec<i64> = rows.iter().map(|r| r.0).collect();
    sqlx::query(
        "insert into webhook_deliveries (webhook_id, event_n, seq, status, since, next_attempt_at) \
         select w.id, e.n, e.seq, 'pending', $2, $2 from outbox_events e \
         join webhooks w on w.disabled_at is null and w.exchange = any(e.exchanges) \
                         and e.type = any(w.events) \
         where e.n = any($1) on conflict do nothing",
    )
    .bind(&ns)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(rows.len() as u64)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// The change feed of an exchange: events after `after`, oldest first.
pub async fn feed(
    conn: &mut PgConnection,
    exchange: &str,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "select seq, type, data, created_at from outbox_events \
         where seq > $2 and $1 = any(exchanges) order by seq limit $3",
    )
    .bind(exchange)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

// ------------------------------------------------------------------------------------ webhooks

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: Uuid,
    pub exchange: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub disabled_at: Option<DateTime<Utc>>,
}

const HOOK_COLS: &str = "id, exchange, url, events, created_at, created_by, disabled_at";

pub struct NewWebhook<'a> {
    pub id: Uuid,
    pub exchange: &'a str,
    pub url: &'a str,
    pub events: &'a [String],
    pub secret: &'a str,
    pub created_by: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert_webhook(
    conn: &mut PgConnection,
    w: NewWebhook<'_>,
) -> sqlx::Result<WebhookRow> {
    sqlx::query_as(&format!(
        "insert into webhooks (id, exchange, url, events, secret, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7) returning {HOOK_COLS}"
    ))
    .bind(w.id)
    .bind(w.exchange)
    .bind(w.url)
    .bind(w.events)
    .bind(w.secret)
    .bind(w.created_by)
    .bind(w.now)
    .fetch_one(conn)
    .await
}

pub async fn webhook(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<WebhookRow>> {
    sqlx::query_as(&format!("select {HOOK_COLS} from webhooks where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn webhooks_of(conn: &mut PgConnection, exchange: &str) -> sqlx::Result<Vec<WebhookRow>> {
    sqlx::query_as(&format!(
        "select {HOOK_COLS} from webhooks where exchange = $1 \
         order by disabled_at is not null, created_at desc limit 200"
    ))
    .bind(exchange)
    .fetch_all(conn)
    .await
}

pub async fn disable_webhook(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update webhooks set disabled_at = $2 where id = $1 and disabled_at is null")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    // What was still waiting will not be sent.
    sqlx::query(
        "update webhook_deliveries set status = 'failed' where webhook_id = $1 and status = 'pending'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A webhook this process now delivers for, until `lease_until`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedWebhook {
    pub id: Uuid,
    pub url: String,
    pub secret: String,
    pub lease_token: Uuid,
}

/// Claims up to `limit` webhooks whose first waiting delivery is due and that no live lease holds,
/// for `lease` seconds (`FOR UPDATE SKIP LOCKED`: two processes never claim the same one).
pub async fn claim_webhooks(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease_secs: i64,
    limit: i64,
) -> sqlx::Result<Vec<ClaimedWebhook>> {
    sqlx::query_as(
        "update webhooks w set lease_token = gen_random_uuid(), \
                lease_until = $1 + make_interval(secs => $2) \
         where w.id in ( \
           select h.id from webhooks h \
           where h.disabled_at is null and (h.lease_until is null or h.lease_until < $1) \
             and (select d.next_attempt_at from webhook_deliveries d \
                  where d.webhook_id = h.id and d.status = 'pending' order by d.seq limit 1) <= $1 \
           for update skip locked limit $3) \
         returning w.id, w.url, w.secret, w.lease_token",
    )
    .bind(now)
    .bind(lease_secs as f64)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Extends a lease; false when it is no longer ours (it expired and another process took it).
pub async fn renew_lease(
    conn: &mut PgConnection,
    id: Uuid,
    token: Uuid,
    now: DateTime<Utc>,
    lease_secs: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "update webhooks set lease_until = $3 + make_interval(secs => $4) \
         where id = $1 and lease_token = $2",
    )
    .bind(id)
    .bind(token)
    .bind(now)
    .bind(lease_secs as f64)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn release_lease(conn: &mut PgConnection, id: Uuid, token: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "update webhooks set lease_token = null, lease_until = null \
         where id = $1 and lease_token = $2",
    )
    .bind(id)
    .bind(token)
    .execute(conn)
    .await?;
    Ok(())
}

/// The first waiting delivery of a webhook, with its event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub seq: i64,
    pub attempts: i32,
    pub since: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn head_delivery(
    conn: &mut PgConnection,
    webhook: Uuid,
) -> sqlx::Result<Option<DueDelivery>> {
    sqlx::query_as(
        "select d.id, d.seq, d.attempts, d.since, d.next_attempt_at, e.type, e.data, e.created_at \
         from webhook_deliveries d join outbox_events e on e.n = d.event_n \
         where d.webhook_id = $1 and d.status = 'pending' order by d.seq limit 1",
    )
    .bind(webhook)
    .fetch_optional(conn)
    .await
}

pub struct Attempt<'a> {
    pub delivery_id: i64,
    pub at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status_code: Option<i32>,
    pub error: Option<&'a str>,
    pub body_excerpt: &'a str,
}

/// Records an attempt and its outcome: `status` `delivered`, `failed`, or `pending` again at
/// `next_attempt_at`.
pub async fn record_attempt(
    conn: &mut PgConnection,
    a: Attempt<'_>,
    status: &str,
    next_attempt_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into webhook_attempts (delivery_id, at, duration_ms, status_code, error, body_excerpt) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.delivery_id)
    .bind(a.at)
    .bind(a.duration_ms)
    .bind(a.status_code)
    .bind(a.error)
    .bind(a.body_excerpt)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update webhook_deliveries set attempts = attempts + 1, status = $2, \
           next_attempt_at = coalesce($3, next_attempt_at), \
           delivered_at = case when $2 = 'delivered' then $4 else delivered_at end \
         where id = $1",
    )
    .bind(a.delivery_id)
    .bind(status)
    .bind(next_attempt_at)
    .bind(a.at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub seq: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

pub async fn deliveries(
    conn: &mut PgConnection,
    webhook: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<DeliveryRow>, i64)> {
    let rows = sqlx::query_as(
        "select d.id, d.seq, e.type, d.status, d.attempts, d.next_attempt_at, d.delivered_at \
         from webhook_deliveries d join outbox_events e on e.n = d.event_n \
         where d.webhook_id = $1 order by d.seq desc limit $2 offset $3",
    )
    .bind(webhook)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar("select count(*) from webhook_deliveries where webhook_id = $1")
        .bind(webhook)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: i64,
    pub at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub body_excerpt: String,
}

pub async fn attempts_of(
    conn: &mut PgConnection,
    deliveries: &[i64],
) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(
        "select delivery_id, at, duration_ms, status_code, error, body_excerpt from webhook_attempts \
         where delivery_id = any($1) order by id",
    )
    .bind(deliveries)
    .fetch_all(conn)
    .await
}

/// Puts a delivery back in the queue, due now, with a fresh 24 h of retries. Returns false when
/// the delivery is not this webhook's.
pub async fn redeliver(
    conn: &mut PgConnection,
    webhook: Uuid,
    delivery: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "update webhook_deliveries set status = 'pending', since = $3, next_attempt_at = $3 \
         where id = $2 and webhook_id = $1",
    )
    .bind(webhook)
    .bind(delivery)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
