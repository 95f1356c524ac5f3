//! SQL for: technology finance — financing products, pledge requests, and what a pledge locks.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

// ---------------------------------------------------------------- lenders and products

/// A verified financial institution (a lender one may apply to).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LenderRow {
    pub id: Uuid,
    pub name: String,
    pub province: String,
    pub exchange: String,
}

/// The verified financial institutions, by name.
pub async fn lenders(conn: &mut PgConnection) -> sqlx::Result<Vec<LenderRow>> {
    sqlx::query_as(
        "select id, name, province, exchange from organizations \
         where kind = 'financial_institution' and verified_at is not null order by name, id",
    )
    .fetch_all(conn)
    .await
}

/// The organisation if it is a verified financial institution.
pub async fn lender(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LenderRow>> {
    sqlx::query_as(
        "select id, name, province, exchange from organizations \
         where id = $1 and kind = 'financial_institution' and verified_at is not null",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub lender_name: String,
    pub name: String,
    pub rate_min_ppm: i64,
    pub rate_max_ppm: i64,
    pub max_amount_fen: i64,
    pub term_min_months: i32,
    pub term_max_months: i32,
    pub created_at: DateTime<Utc>,
}

pub struct NewProduct<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: &'a str,
    pub rate_min_ppm: i64,
    pub rate_max_ppm: i64,
    pub max_amount_fen: i64,
    pub term_min_months: i32,
    pub term_max_months: i32,
    pub created_by: Uuid,
    pub now: DateTime<Utc>,
}

pub async fn insert_product(conn: &mut PgConnection, p: &NewProduct<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into financing_products (id, organization_id, name, rate_min_ppm, rate_max_ppm, max_amount_fen, \
         term_min_months, term_max_months, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(p.id)
    .bind(p.organization_id)
    .bind(p.name)
    .bind(p.rate_min_ppm)
    .bind(p.rate_max_ppm)
    .bind(p.max_amount_fen)
    .bind(p.term_min_months)
    .bind(p.term_max_months)
    .bind(p.created_by)
    .bind(p.now)
    .execute(conn)
    .await?;
    Ok(())
}

const PRODUCT_COLS: &str =
    "p.id, p.organization_id, o.name as lender_name, p.name, p.rate_min_ppm, p.rate_max_ppm, \
    p.max_amount_fen, p.term_min_months, p.term_max_months, p.created_at";

/// The products of verified financial institutions (newest first), and how many there are.
pub async fn products(
    conn: &mut PgConnection,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<ProductRow>, i64)> {
    let from = "financing_products p join organizations o on o.id = p.organization_id \
                where o.kind = 'financial_institution' and o.verified_at is not null";
    let rows = sqlx::query_as(&format!(
        "select {PRODUCT_COLS} from {from} order by p.created_at desc, p.id limit $1 offset $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!("select count(*) from {from}"))
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

// ---------------------------------------------------------------- valuation sources

/// The prices of settled trades of listings in `field` and `ip_type` settled since `since`,
/// newest first, with their settlement moments.
pub async fn comparable_prices(
    conn: &mut PgConnection,
    field: &str,
    ip_type: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, DateTime<Utc>)>> {
    sqlx::query_as(
        "select t.price_fen, t.settled_at from trades t join listings l on l.id = t.listing_id \
         where t.status = 'settled' and l.field = $1 and l.ip_type = $2 \
           and t.settled_at >= $3 and t.settled_at <= $4 \
         order by t.settled_at desc, t.id",
    )
    .bind(field)
    .bind(ip_type)
    .bind(since)
    .bind(until)
    .fetch_all(conn)
    .await
}

/// How many trades the organisation has settled, as buyer or seller.
pub async fn trades_settled(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from trades where status = 'settled' \
         and (seller_organization_id = $1 or buyer_organization_id = $1)",
    )
    .bind(org)
    .fetch_one(conn)
    .await
}

// ---------------------------------------------------------------- pledge requests

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PledgeRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub owner_organization_id: Uuid,
    pub owner_name: String,
    pub lender_organization_id: Uuid,
    pub lender_name: String,
    pub amount_fen: i64,
    pub term_months: i32,
    pub status: String,
    pub valuation: serde_json::Value,
    pub registration_no: Option<String>,
    pub reject_reason: Option<String>,
    pub consented_modes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
}

const COLS: &str = "p.id, p.listing_id, l.title as listing_title, p.owner_organization_id, ow.name as owner_name, \
    p.lender_organization_id, le.name as lender_name, p.amount_fen, p.term_months, p.status, p.valuation, \
    p.registration_no, p.reject_reason, p.consented_modes, p.created_at, p.decided_at, p.released_at";
const FROM: &str = "pledge_requests p join listings l on l.id = p.listing_id \
    join organizations ow on ow.id = p.owner_organization_id \
    join organizations le on le.id = p.lender_organization_id";

pub struct NewPledge<'a> {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub owner_org: Uuid,
    pub lender_org: Uuid,
    pub amount_fen: i64,
    pub term_months: i32,
    pub valuation: &'a serde_json::Value,
    pub created_by: Uuid,
    pub now: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, p: &NewPledge<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into pledge_requests (id, listing_id, owner_organization_id, lender_organization_id, amount_fen, \
         term_months, status, valuation, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, 'submitted', $7, $8, $9)",
    )
    .bind(p.id)
    .bind(p.listing_id)
    .bind(p.owner_org)
    .bind(p.lender_org)
    .bind(p.amount_fen)
    .bind(p.term_months)
    .bind(p.valuation)
    .bind(p.created_by)
    .bind(p.now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PledgeRow>> {
    sqlx::query_as(&format!("select {COLS} from {FROM} where p.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the request's row until the end of the transaction (after its listing's row).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select 1 from pledge_requests where id = $1 for update")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The listing's active pledge, if any. Under the listing's row lock (every change of a pledge's
/// status takes it first), the answer holds until the caller commits.
pub async fn active_for_listing(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Option<PledgeRow>> {
    sqlx::query_as(&format!(
        "select {COLS} from {FROM} where p.listing_id = $1 and p.status = 'active'"
    ))
    .bind(listing_id)
    .fetch_optional(conn)
    .await
}

/// The requests where `org` is the lender (`lender`) or the owner, newest first, and their count.
pub async fn list(
    conn: &mut PgConnection,
    org: Uuid,
    as_lender: bool,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<PledgeRow>, i64)> {
    let who = if as_lender {
        "p.lender_organization_id"
    } else {
        "p.owner_organization_id"
    };
    let filter = format!("{who} = $1 and ($2::text is null or p.status = $2)");
    let rows = sqlx::query_as(&format!(
        "select {COLS} from {FROM} where {filter} order by p.created_at desc, p.id desc limit $3 offset $4"
    ))
    .bind(org)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!("select count(*) from {FROM} where {filter}"))
        .bind(org)
        .bind(status)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

pub async fn approve(
    conn: &mut PgConnection,
    id: Uuid,
    registration_no: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update pledge_requests set status = 'active', registration_no = $2, decided_by = $3, decided_at = $4 \
         where id = $1",
    )
    .bind(id)
    .bind(registration_no)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn reject(
    conn: &mut PgConnection,
    id: Uuid,
    reason: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update pledge_requests set status = 'rejected', reject_reason = $2, decided_by = $3, decided_at = $4 \
         where id = $1",
    )
    .bind(id)
    .bind(reason)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn release(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("update pledge_requests set status = 'released', released_at = $2 where id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds `mode` to the modes the lender consented to (once).
pub async fn consent(conn: &mut PgConnection, id: Uuid, mode: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update pledge_requests set consented_modes = array_append(consented_modes, $2) \
         where id = $1 and not ($2 = any (consented_modes))",
    )
    .bind(id)
    .bind(mode)
    .execute(conn)
    .await?;
    Ok(())
}
