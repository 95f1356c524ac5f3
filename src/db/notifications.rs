use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A notice's words and link without its recipient: written by a statement that finds the
/// recipient itself (the bid that outbids someone).
#[derive(Debug, Clone)]
pub struct NoticeWords {
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
}

/// The notices a bid's own statement writes: the outbid notice (to whom the bid took the lead
/// from) and the seller's one notice per auction (`dedupe_key`), which each bid renews.
#[derive(Debug, Clone)]
pub struct BidNotices {
    pub outbid: NoticeWords,
    pub seller: Uuid,
    pub to_seller: NoticeWords,
    pub seller_key: String,
}

/// The notices of the statement that takes a bid (`a`, the auction row it returns), as two
/// common table expressions with the parameters from `$p` on (bound by [`bind_bid_notices`]):
/// - `n`, the outbid notice: to the organisation the bid took the lead from
///   (`a.outbid_org_id`), if any;
/// - `s`, the seller's notice: one row per auction (its dedupe key), renewed by every bid (new
///   words, a new id so that it comes first in the inbox, unread again). Bids on one auction are
///   serialised by its row lock, which the statement takes before this row's.
pub fn bid_notices_cte(p: u8) -> String {
    let q = |i: u8| format!("${}", p + i);
    format!(
        "n as (insert into notifications (organization_id, kind, title_zh, title_en, body_zh, body_en, link) \
               select a.outbid_org_id, 'outbid', {}, {}, {}, {}, {} from a where a.outbid_org_id is not null), \
         s as (insert into notifications (organization_id, kind, title_zh, title_en, body_zh, body_en, link, dedupe_key) \
               select {}, 'bid_received', {}, {}, {}, {}, {}, {} from a \
               on conflict (dedupe_key) where dedupe_key is not null do update set \
                 id = nextval('notifications_id_seq'), title_zh = excluded.title_zh, title_en = excluded.title_en, \
                 body_zh = excluded.body_zh, body_en = excluded.body_en, created_at = excluded.created_at, \
                 read_at = null)",
        q(0),
        q(1),
        q(2),
        q(3),
        q(4),
        q(5),
        q(6),
        q(7),
        q(8),
        q(9),
        q(10),
        q(11)
    )
}

type BidQuery<'q, O> = sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>;

/// Binds the twelve parameters of [`bid_notices_cte`], in its order.
pub fn bind_bid_notices<'q, O>(q: BidQuery<'q, O>, n: &'q BidNotices) -> BidQuery<'q, O> {
    let (o, s) = (&n.outbid, &n.to_seller);
    q.bind(&o.title_zh)
        .bind(&o.title_en)
        .bind(&o.body_zh)
        .bind(&o.body_en)
        .bind(&o.link)
        .bind(n.seller)
        .bind(&s.title_zh)
        .bind(&s.title_en)
        .bind(&s.body_zh)
        .bind(&s.body_en)
        .bind(&s.link)
        .bind(&n.seller_key)
}

const COLS: &str =
    "id, kind, title_zh, title_en, body_zh, body_en, link, dedupe_key, created_at, read_at";
/// A person's inbox: notices to them and to every member of their organisation.
const MINE: &str = "(user_id = $1 or (user_id is null and organization_id = $2))";

pub struct NewNotification<'a> {
    /// To one user, or (when `None`) to every member of `organization_id`.
    pub user_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub kind: &'a str,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: Option<String>,
    /// Sent at most once per key.
    pub dedupe_key: Option<String>,
}

impl NewNotification<'_> {
    /// Appends a sentence to the body, in both languages.
    pub fn add(&mut self, [zh, en]: [String; 2]) {
        self.body_zh.push_str(&zh);
        self.body_en.push_str(&en);
    }
}

/// Writes a change's notices (`on conflict` of a dedupe key: sent once) and its outbox event, if
/// any, in one statement: one round trip for everything `service::events::emit` records. With
/// `pending`, the change's ledger postings are stored as pending in that statement too
/// (`service::settlement::post_with_event`).
pub async fn insert_with_event(
    conn: &mut PgConnection,
    rows: &[NewNotification<'_>],
    event: Option<&super::interconnect::NewEvent>,
    pending: Option<&super::ledger::NewPending<'_>>,
) -> sqlx::Result<()> {
    if rows.is_empty() && event.is_none() {
        if let Some(p) = pending {
            super::ledger::insert_pending(conn, p).await?;
        }
        return Ok(());
    }
    let col = |f: fn(&NewNotification<'_>) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let postings = match pending {
        Some(_) => format!("postings as ({}), ", super::ledger::insert_pending_sql(15)),
        None => String::new(),
    };
    let sql = format!(
        "with {postings}notices as (insert into notifications (user_id, organization_id, kind, title_zh, title_en, body_zh, \
           body_en, link, dedupe_key) \
           select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                                $8::text[], $9::text[]) \
           on conflict (dedupe_key) where dedupe_key is not null do nothing) \
         insert into outbox_events (type, data, exchanges) \
         select $10, $11, case when $14 then array(select code from exchanges order by code) else array( \
             select exchange from listings where id = $12 \
             union select exchange from organizations where id = any($13)) end \
         where $10::text is not null"
    );
    let q = sqlx::query(&sql)
        .bind(rows.iter().map(|n| n.user_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|n| n.organization_id).collect::<Vec<_>>())
        .bind(col(|n| n.kind.to_string()))
        .bind(col(|n| n.title_zh.clone()))
        .bind(col(|n| n.title_en.clone()))
        .bind(col(|n| n.body_zh.clone()))
        .bind(col(|n| n.body_en.clone()))
        .bind(rows.iter().map(|n| n.link.clone()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|n| n.dedupe_key.clone())
                .collect::<Vec<_>>(),
        )
        .bind(event.map(|e| e.kind))
        .bind(event.map(|e| &e.data))
        .bind(event.and_then(|e| e.listing_id))
        .bind(event.map(|e| e.organizations.as_slice()).unwrap_or(&[]))
        .bind(event.is_some_and(|e| e.all));
    match pending {
        Some(p) => super::ledger::bind_pending(q, p).execute(conn).await?,
        None => q.execute(conn).await?,
    };
    Ok(())
}

pub async fn list_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<NotificationRow>> {
    sqlx::query_as(&format!(
        "select {COLS} from notifications where {MINE} order by id desc limit $3"
    ))
    .bind(user_id)
    .bind(org_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A page of a person's inbox, newest first (only unread ones when `unread`), and the total.
pub async fn page_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
    unread: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<NotificationRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select {COLS} from notifications where {MINE} and (not $3 or read_at is null) \
         order by id desc limit $4 offset $5"
    ))
    .bind(user_id)
    .bind(org_id)
    .bind(unread)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "select count(*) from notifications where {MINE} and (not $3 or read_at is null)"
    ))
    .bind(user_id)
    .bind(org_id)
    .bind(unread)
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// Marks one notice of the person's inbox read (once: a read notice keeps its time); false when
/// it is not in their inbox.
pub async fn mark_read(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
    id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(&format!(
        "update notifications set read_at = coalesce(read_at, $4) where id = $3 and {MINE} returning id"
    ))
    .bind(user_id)
    .bind(org_id)
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn mark_all_read(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update notifications set read_at = now() where read_at is null and \
         (user_id = $1 or (user_id is null and organization_id = $2))",
    )
    .bind(user_id)
    .bind(org_id)
    .execute(conn)
    .await?;
    Ok(())
}
