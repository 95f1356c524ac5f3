//! SQL for: Technology achievements: drafting, review, search.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::copy::{copy_in, CopyRows};

/// A listing with its organisation and (for auctions) its auction terms.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub created_by: Uuid,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub field: String,
    pub ip_type: String,
    pub ip_numbers: Vec<String>,
    pub trl: i16,
    pub transaction_modes: Vec<String>,
    pub keywords: Vec<String>,
    pub pricing_mode: String,
    pub price_fen: Option<i64>,
    pub status: String,
    pub exchange: String,
    pub province: String,
    pub reject_reason: Option<String>,
    pub sort_price_fen: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub listed_at: Option<DateTime<Utc>>,
    pub org_name: String,
    pub org_kind: String,
    pub auction_status: Option<String>,
    pub start_price_fen: Option<i64>,
    pub increment_fen: Option<i64>,
    pub reserve_fen: Option<i64>,
    pub ends_at: Option<DateTime<Utc>>,
    pub extension_seconds: Option<i32>,
    pub leading_bid_fen: Option<i64>,
    pub bid_count: Option<i32>,
    pub deposit_fen: Option<i64>,
    /// The optional English title and summary (English pages fall back to the Chinese ones).
    pub title_en: Option<String>,
    pub summary_en: Option<String>,
    /// When the auction opens, if later than its approval (an extension of API.md).
    pub starts_at: Option<DateTime<Utc>>,
}

pub(super) const COLUMNS: &str = "l.id, l.organization_id, l.created_by, l.title, l.summary, l.description, l.field, \
    l.ip_type, l.ip_numbers, l.trl, l.transaction_modes, l.keywords, l.pricing_mode, l.price_fen, l.status, \
    l.exchange, l.province, l.reject_reason, l.sort_price_fen, l.created_at, l.updated_at, l.submitted_at, \
    l.listed_at, o.name as org_name, o.kind as org_kind, a.status as auction_status, a.start_price_fen, \
    a.increment_fen, a.reserve_fen, a.ends_at, a.extension_seconds, a.leading_bid_fen, a.bid_count, \
    nullif(a.deposit_fen, 0) as deposit_fen, l.title_en, l.summary_en, a.starts_at";
pub(super) const FROM: &str = "listings l join organizations o on o.id = l.organization_id \
    left join auctions a on a.listing_id = l.id";

/// The content of a listing as validated by the service (everything the owner may edit).
#[derive(Debug, Clone)]
pub struct ListingContent {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub field: String,
    pub ip_type: String,
    pub ip_numbers: Vec<String>,
    pub ip_canonical: Vec<String>,
    pub trl: i16,
    pub transaction_modes: Vec<String>,
    pub keywords: Vec<String>,
    pub pricing_mode: String,
    pub price_fen: Option<i64>,
    pub auction: Option<AuctionTerms>,
    /// tsvector literal (domain::text).
    pub search: String,
    pub sort_price_fen: Option<i64>,
    pub title_en: Option<String>,
    pub summary_en: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuctionTerms {
    pub start_price_fen: i64,
    pub increment_fen: i64,
    pub reserve_fen: Option<i64>,
    pub ends_at: DateTime<Utc>,
    pub extension_seconds: i32,
    pub deposit_fen: Option<i64>,
    /// When the auction opens (none: at the approval).
    pub starts_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    org: Uuid,
    user: Uuid,
    exchange: &str,
    province: &str,
    c: &ListingContent,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, summary, description, field, ip_type, \
         ip_numbers, ip_canonical, trl, transaction_modes, keywords, pricing_mode, price_fen, status, exchange, \
         province, search, sort_price_fen, title_en, summary_en) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, 'draft', $16, $17, $18::tsvector, $19, $20, $21)",
    )
    .bind(id)
    .bind(org)
    .bind(user)
    .bind(&c.title)
    .bind(&c.summary)
    .bind(&c.description)
    .bind(&c.field)
    .bind(&c.ip_type)
    .bind(&c.ip_numbers)
    .bind(&c.ip_canonical)
    .bind(c.trl)
    .bind(&c.transaction_modes)
    .bind(&c.keywords)
    .bind(&c.pricing_mode)
    .bind(c.price_fen)
    .bind(exchange)
    .bind(province)
    .bind(&c.search)
    .bind(c.sort_price_fen)
    .bind(&c.title_en)
    .bind(&c.summary_en)
    .execute(&mut *conn)
    .await?;
    set_auction(conn, id, c.auction.as_ref()).await
}

/// Replaces the editable content (the listing must be a draft or rejected: no bids exist).
pub async fn update_content(
    conn: &mut PgConnection,
    id: Uuid,
    c: &ListingContent,
) -> sqlx::Result<()> {
    sqlx::query(
        "update listings set title = $2, summary = $3, description = $4, field = $5, ip_type = $6, \
         ip_numbers = $7, ip_canonical = $8, trl = $9, transaction_modes = $10, keywords = $11, \
         pricing_mode = $12, price_fen = $13, search = $14::tsvector, sort_price_fen = $15, updated_at = now(), \
         title_en = $16, summary_en = $17 where id = $1",
    )
    .bind(id)
    .bind(&c.title)
    .bind(&c.summary)
    .bind(&c.description)
    .bind(&c.field)
    .bind(&c.ip_type)
    .bind(&c.ip_numbers)
    .bind(&c.ip_canonical)
    .bind(c.trl)
    .bind(&c.transaction_modes)
    .bind(&c.keywords)
    .bind(&c.pricing_mode)
    .bind(c.price_fen)
    .bind(&c.search)
    .bind(c.sort_price_fen)
    .bind(&c.title_en)
    .bind(&c.summary_en)
    .execute(&mut *conn)
    .await?;
    set_auction(conn, id, c.auction.as_ref()).await
}

/// The auction row of a not-yet-listed listing: inserted, replaced or removed (status `scheduled`).
async fn set_auction(
    conn: &mut PgConnection,
    id: Uuid,
    a: Option<&AuctionTerms>,
) -> sqlx::Result<()> {
    match a {
        None => {
            sqlx::query("delete from auctions where listing_id = $1 and bid_count = 0")
                .bind(id)
                .execute(conn)
                .await?;
        }
        Some(a) => {
            sqlx::query(
                "insert into auctions (listing_id, status, start_price_fen, increment_fen, reserve_fen, ends_at, \
                 extension_seconds, deposit_fen, starts_at) values ($1, 'scheduled', $2, $3, $4, $5, $6, $7, $8) \
                 on conflict (listing_id) do update set start_price_fen = excluded.start_price_fen, \
                 increment_fen = excluded.increment_fen, reserve_fen = excluded.reserve_fen, \
                 ends_at = excluded.ends_at, extension_seconds = excluded.extension_seconds, \
                 deposit_fen = excluded.deposit_fen, starts_at = excluded.starts_at",
            )
            .bind(id)
            .bind(a.start_price_fen)
            .bind(a.increment_fen)
            .bind(a.reserve_fen)
            .bind(a.ends_at)
            .bind(a.extension_seconds)
            .bind(a.deposit_fen)
            .bind(a.starts_at)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ListingRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from {FROM} where l.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the listing row, then reads it.
pub async fn get_for_update(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ListingRow>> {
    let found = sqlx::query("select 1 from listings where id = $1 for update")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_none() {
        return Ok(None);
    }
    get(conn, id).await
}

pub async fn set_submitted(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "update listings set status = 'pending_review', submitted_at = now(), reject_reason = null, \
         updated_at = now() where id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_withdrawn(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update listings set status = 'withdrawn', updated_at = now() where id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    // An auction that never opened or is still open ends without a trade.
    sqlx::query(
        "update auctions set status = 'closed', closed_at = now() where listing_id = $1 and status <> 'closed'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_listed(
    conn: &mut PgConnection,
    id: Uuid,
    admin: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update listings set status = 'listed', listed_at = now(), reviewed_by = $2, reject_reason = null, \
         updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(admin)
    .execute(&mut *conn)
    .await?;
    // An auction with a later start stays `scheduled`: the jobs open it then.
    sqlx::query(
        "update auctions set status = 'open', opened_at = now() where listing_id = $1 and status = 'scheduled' \
         and (starts_at is null or starts_at <= now())",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_rejected(
    conn: &mut PgConnection,
    id: Uuid,
    admin: Option<Uuid>,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update listings set status = 'rejected', reject_reason = $3, reviewed_by = $2, updated_at = now() \
         where id = $1",
    )
    .bind(id)
    .bind(admin)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Another active listing (pending review or listed) naming one of these canonical IP numbers.
pub async fn find_active_with_ip(
    conn: &mut PgConnection,
    id: Uuid,
    canonical: &[String],
) -> sqlx::Result<Option<Uuid>> {
    if canonical.is_empty() {
        return Ok(None);
    }
    sqlx::query_scalar(
        "select id from listings where ip_canonical && $1 and status in ('pending_review', 'listed') \
         and id <> $2 order by created_at limit 1",
    )
    .bind(canonical)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Serialises concurrent submissions and approvals naming the same IP numbers (transaction-scoped).
pub async fn lock_ip_numbers(conn: &mut PgConnection, canonical: &[String]) -> sqlx::Result<()> {
    let mut sorted: Vec<&String> = canonical.iter().collect();
    sorted.sort();
    sorted.dedup();
    for c in sorted {
        sqlx::query("select pg_advisory_xact_lock(7261004, hashtext($1))")
            .bind(c)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The listings of one organisation, all statuses, newest first.
pub async fn list_for_org(
    conn: &mut PgConnection,
    org: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<ListingRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where l.organization_id = $1 order by l.created_at desc, l.id desc \
         limit $2 offset $3"
    ))
    .bind(org)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar("select count(*) from listings where organization_id = $1")
        .bind(org)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

/// The listings of an exchange in one status (the review queue: `pending_review`, oldest first).
pub async fn list_for_exchange(
    conn: &mut PgConnection,
    exchange: &str,
    status: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<ListingRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where l.exchange = $1 and l.status = $2 \
         order by l.submitted_at nulls last, l.created_at, l.id limit $3 offset $4"
    ))
    .bind(exchange)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total =
        sqlx::query_scalar("select count(*) from listings where exchange = $1 and status = $2")
            .bind(exchange)
            .bind(status)
            .fetch_one(conn)
            .await?;
    Ok((rows, total))
}

/// Search sort orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchSort {
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
}

/// Filters of the public search, already checked.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// tsquery literal that selects (domain::text::build_tsquery, widened across languages by
    /// domain::relevance::expanded_tsquery).
    pub tsquery: Option<String>,
    /// The query as written (exact Chinese substrings, patent numbers): its matches rank first.
    pub literal: Option<String>,
    pub field: Option<String>,
    pub province: Option<String>,
    pub exchange: Option<String>,
    pub ip_type: Option<String>,
    pub pricing: Option<String>,
    pub min_price_fen: Option<i64>,
    pub max_price_fen: Option<i64>,
    pub trl_min: Option<i16>,
}

fn push_filters(b: &mut QueryBuilder<'_, Postgres>, f: &SearchFilter) {
    b.push(" where l.status = 'listed'");
    if let Some(q) = &f.tsquery {
        b.push(" and l.search @@ ")
            .push_bind(q.clone())
            .push("::tsquery");
    }
    if let Some(v) = &f.field {
        b.push(" and l.field = ").push_bind(v.clone());
    }
    if let Some(v) = &f.province {
        b.push(" and l.province = ").push_bind(v.clone());
    }
    if let Some(v) = &f.exchange {
        b.push(" and l.exchange = ").push_bind(v.clone());
    }
    if let Some(v) = &f.ip_type {
        b.push(" and l.ip_type = ").push_bind(v.clone());
    }
    if let Some(v) = &f.pricing {
        b.push(" and l.pricing_mode = ").push_bind(v.clone());
    }
    if let Some(v) = f.min_price_fen {
        b.push(" and l.sort_price_fen >= ").push_bind(v);
    }
    if let Some(v) = f.max_price_fen {
        b.push(" and l.sort_price_fen <= ").push_bind(v);
    }
    if let Some(v) = f.trl_min {
        b.push(" and l.trl >= ").push_bind(v);
    }
}

fn order_by(sort: SearchSort, alias: &str) -> String {
    match sort {
        SearchSort::Relevance => format!(
            "{alias}.exact desc, {alias}.rank desc, {alias}.listed_at desc, {alias}.id desc"
        ),
        SearchSort::Newest => format!("{alias}.listed_at desc, {alias}.id desc"),
        SearchSort::PriceAsc => format!("{alias}.sort_price_fen asc nulls last, {alias}.id asc"),
        SearchSort::PriceDesc => {
            format!("{alias}.sort_price_fen desc nulls last, {alias}.id desc")
        }
    }
}

/// Relevance weights `{D, C, B, A}`: a title hit (A) counts ten times a description hit (D).
pub const RANK_WEIGHTS: &str = "{0.1, 0.2, 0.4, 1.0}";

/// Every listed listing matching the text query of `f` (which must have one), in `sort` order.
///
/// The matches are collected once through the GIN index (`listings_search`) in a materialized CTE and
/// ranked there, so the planner never walks a sort index with the text match as a filter.
pub async fn search_text_ids(
    conn: &mut PgConnection,
    f: &SearchFilter,
    sort: SearchSort,
) -> sqlx::Result<Vec<Uuid>> {
    let q = f.tsquery.clone().unwrap_or_default();
    let mut b = QueryBuilder::<Postgres>::new(
        "with m as materialized (select l.id, l.listed_at, l.sort_price_fen, ",
    );
    if sort == SearchSort::Relevance {
        b.push(format!("ts_rank('{RANK_WEIGHTS}', l.search, "))
            .push_bind(q)
            .push("::tsquery) as rank, ");
        match &f.literal {
            Some(lit) => b
                .push("l.search @@ ")
                .push_bind(lit.clone())
                .push("::tsquery as exact"),
            None => b.push("true as exact"),
        };
    } else {
        b.push("0::real as rank, true as exact");
    }
    b.push(" from listings l");
    push_filters(&mut b, f);
    b.push(") select m.id from m order by ")
        .push(order_by(sort, "m"));
    b.build_query_scalar()
        .persistent(false)
        .fetch_all(conn)
        .await
}

/// One page of listed listings matching the filters of `f` (no text query), from the sort's index.
pub async fn search_plain_ids(
    conn: &mut PgConnection,
    f: &SearchFilter,
    sort: SearchSort,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<Uuid>> {
    let sort = if sort == SearchSort::Relevance {
        SearchSort::Newest
    } else {
        sort
    };
    let mut b = QueryBuilder::<Postgres>::new("select l.id from listings l");
    push_filters(&mut b, f);
    b.push(" order by ")
        .push(order_by(sort, "l"))
        .push(" limit ")
        .push_bind(limit)
        .push(" offset ")
        .push_bind(offset);
    b.build_query_scalar()
        .persistent(false)
        .fetch_all(conn)
        .await
}

/// The listed listings among `ids`, in the order of `ids`.
pub async fn listed_by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<ListingRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<ListingRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where l.id = any($1) and l.status = 'listed'"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id).unwrap_or(usize::MAX));
    Ok(rows)
}

/// The search generation: bumped by a trigger on every change to what search can see.
pub async fn search_generation(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("select last_value from listings_search_generation")
        .fetch_one(conn)
        .await
}

/// Bumps the search generation (after a commit that changed what search can see; see service::listings::cache).
pub async fn bump_search_generation(conn: &mut PgConnection) -> sqlx::Result<()> {
    // A new value, never set before, written to the WAL exactly (replicas see it: migration
    // 20261216000002_generations_exact_on_replicas).
    sqlx::query("select setval('listings_search_generation', nextval('listings_search_counter'))")
        .execute(conn)
        .await?;
    Ok(())
}

/// The number of listed listings matching `f`.
pub async fn count(conn: &mut PgConnection, f: &SearchFilter) -> sqlx::Result<i64> {
    let mut b = QueryBuilder::<Postgres>::new("select count(*) from listings l");
    push_filters(&mut b, f);
    b.build_query_scalar()
        .persistent(false)
        .fetch_one(conn)
        .await
}

/// Bulk insertion for `seed bulk`: one binary `COPY` per batch.
#[derive(Debug, Default)]
pub struct BulkListings {
    pub id: Vec<Uuid>,
    pub organization_id: Vec<Uuid>,
    pub created_by: Vec<Uuid>,
    pub title: Vec<String>,
    pub summary: Vec<String>,
    pub description: Vec<String>,
    pub field: Vec<String>,
    pub ip_type: Vec<String>,
    pub ip_numbers: Vec<Vec<String>>,
    pub ip_canonical: Vec<Vec<String>>,
    pub trl: Vec<i16>,
    pub transaction_modes: Vec<Vec<String>>,
    pub keywords: Vec<Vec<String>>,
    pub pricing_mode: Vec<String>,
    pub price_fen: Vec<Option<i64>>,
    pub status: Vec<String>,
    pub exchange: Vec<String>,
    pub province: Vec<String>,
    /// The search vectors in binary form (`db::copy::tsvector`).
    pub search: Vec<Vec<u8>>,
    pub sort_price_fen: Vec<Option<i64>>,
    pub created_at: Vec<DateTime<Utc>>,
    pub listed_at: Vec<Option<DateTime<Utc>>>,
}

/// The batch's rows for [`bulk_insert`] (`updated_at` and `submitted_at` are its `created_at`):
/// encoded by the generator's thread while the writer writes the batch before.
pub fn bulk_rows(b: &BulkListings) -> CopyRows {
    let bytes: usize = b.description.iter().map(|d| 3 * d.len() + 600).sum();
    let mut rows = CopyRows::new(24, bytes);
    for (i, id) in b.id.iter().enumerate() {
        rows.row()
            .uuid(*id)
            .uuid(b.organization_id[i])
            .uuid(b.created_by[i])
            .text(&b.title[i])
            .text(&b.summary[i])
            .text(&b.description[i])
            .text(&b.field[i])
            .text(&b.ip_type[i])
            .text_array(&b.ip_numbers[i])
            .text_array(&b.ip_canonical[i])
            .int2(b.trl[i])
            .text_array(&b.transaction_modes[i])
            .text_array(&b.keywords[i])
            .text(&b.pricing_mode[i])
            .opt_int8(b.price_fen[i])
            .text(&b.status[i])
            .text(&b.exchange[i])
            .text(&b.province[i])
            .binary(&b.search[i])
            .opt_int8(b.sort_price_fen[i])
            .timestamptz(b.created_at[i])
            .timestamptz(b.created_at[i])
            .timestamptz(b.created_at[i])
            .opt_timestamptz(b.listed_at[i]);
    }
    rows
}

/// Writes a batch of bulk listings ([`bulk_rows`]).
pub async fn bulk_insert(conn: &mut PgConnection, rows: CopyRows) -> sqlx::Result<()> {
    copy_in(
        conn,
        "listings (id, organization_id, created_by, title, summary, description, field, ip_type, \
         ip_numbers, ip_canonical, trl, transaction_modes, keywords, pricing_mode, price_fen, status, exchange, \
         province, search, sort_price_fen, created_at, updated_at, submitted_at, listed_at)",
        rows,
    )
    .await?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct BulkAuctions {
    pub listing_id: Vec<Uuid>,
    pub start_price_fen: Vec<i64>,
    pub increment_fen: Vec<i64>,
    pub reserve_fen: Vec<Option<i64>>,
    pub ends_at: Vec<DateTime<Utc>>,
}

pub async fn bulk_insert_auctions(conn: &mut PgConnection, b: &BulkAuctions) -> sqlx::Result<()> {
    sqlx::query(
        "insert into auctions (listing_id, status, start_price_fen, increment_fen, reserve_fen, ends_at, opened_at) \
         select id, 'open', sp, inc, res, ends, now() from unnest($1::uuid[], $2::int8[], $3::int8[], $4::int8[], \
         $5::timestamptz[]) as t(id, sp, inc, res, ends)",
    )
    .bind(&b.listing_id)
    .bind(&b.start_price_fen)
    .bind(&b.increment_fen)
    .bind(&b.reserve_fen)
    .bind(&b.ends_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Open demands for `seed bulk`: one binary `COPY` per batch.
#[derive(Debug, Default)]
pub struct BulkDemands {
    pub id: Vec<Uuid>,
    pub organization_id: Vec<Uuid>,
    pub created_by: Vec<Uuid>,
    pub title: Vec<String>,
    pub description: Vec<String>,
    pub field: Vec<String>,
    pub keywords: Vec<Vec<String>>,
    pub budget_min_fen: Vec<Option<i64>>,
    pub budget_max_fen: Vec<Option<i64>>,
    pub province: Vec<String>,
    pub exchange: Vec<String>,
    /// The search vectors in binary form (`db::copy::tsvector`).
    pub search: Vec<Vec<u8>>,
}

/// The batch's rows for [`bulk_insert_demands`].
pub fn bulk_demand_rows(b: &BulkDemands) -> CopyRows {
    let mut rows = CopyRows::new(13, b.id.len() * 1_000);
    for (i, id) in b.id.iter().enumerate() {
        rows.row()
            .uuid(*id)
            .uuid(b.organization_id[i])
            .uuid(b.created_by[i])
            .text(&b.title[i])
            .text(&b.description[i])
            .text(&b.field[i])
            .text_array(&b.keywords[i])
            .opt_int8(b.budget_min_fen[i])
            .opt_int8(b.budget_max_fen[i])
            .text("open")
            .text(&b.province[i])
            .text(&b.exchange[i])
            .binary(&b.search[i]);
    }
    rows
}

/// Writes a batch of bulk demands ([`bulk_demand_rows`]).
pub async fn bulk_insert_demands(conn: &mut PgConnection, rows: CopyRows) -> sqlx::Result<()> {
    copy_in(
        conn,
        "demands (id, organization_id, created_by, title, description, field, keywords, budget_min_fen, \
         budget_max_fen, status, province, exchange, search)",
        rows,
    )
    .await?;
    Ok(())
}

/// Whether the listing has an unfinished trade (awaiting payment or paid), or an open auction with
/// bids: either keeps its owner from withdrawing it. (Settled sales of a non-exclusive licence do
/// not: the owner may stop licensing.)
pub async fn has_live_trade_or_bids(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from trades where listing_id = $1 and status in ('awaiting_payment', 'paid')) \
             or exists(select 1 from auctions where listing_id = $1 and status = 'open' and bid_count > 0)",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Locks the listing row (no read): for callers that must take it before a trade's lock.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select 1 from listings where id = $1 for update")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the listing sold (its exclusive trade was made).
pub async fn set_sold(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update listings set status = 'sold', updated_at = now() where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the listing's auction row, if it has one. The market's lock order is auction before
/// listing (bids take them so), so take this before `get_for_update` when both are needed.
pub async fn lock_auction(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select 1 from auctions where listing_id = $1 for update")
        .bind(listing_id)
        .fetch_optional(conn)
        .await?;
    Ok(())
}

/// (id, organisation, title, status) of every listing of these organisations but withdrawn ones:
/// what likely duplicates are looked for among.
pub async fn titles_of_orgs(
    conn: &mut PgConnection,
    orgs: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, Uuid, String, String)>> {
    sqlx::query_as(
        "select id, organization_id, title, status from listings \
         where organization_id = any($1) and status <> 'withdrawn' order by created_at limit 5000",
    )
    .bind(orgs)
    .fetch_all(conn)
    .await
}
