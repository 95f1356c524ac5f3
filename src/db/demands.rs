//! SQL for technology demands and the candidate searches behind matching.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DemandRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub org_name: String,
    pub org_kind: String,
    pub title: String,
    pub description: String,
    pub field: String,
    pub keywords: Vec<String>,
    pub budget_min_fen: Option<i64>,
    pub budget_max_fen: Option<i64>,
    pub deadline: Option<DateTime<Utc>>,
    pub status: String,
    pub province: String,
    pub exchange: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub title_en: Option<String>,
    pub summary_en: Option<String>,
}

const COLUMNS: &str = "d.id, d.organization_id, o.name as org_name, o.kind as org_kind, d.title, d.description, \
    d.field, d.keywords, d.budget_min_fen, d.budget_max_fen, d.deadline, d.status, d.province, d.exchange, \
    d.created_at, d.closed_at, d.title_en, d.summary_en";
const FROM: &str = "demands d join organizations o on o.id = d.organization_id";

pub struct NewDemand<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub created_by: Uuid,
    pub title: &'a str,
    pub description: &'a str,
    pub field: &'a str,
    pub keywords: &'a [String],
    pub budget_min_fen: Option<i64>,
    pub budget_max_fen: Option<i64>,
    pub deadline: Option<DateTime<Utc>>,
    pub province: &'a str,
    pub exchange: &'a str,
    pub search: &'a str,
    pub title_en: Option<&'a str>,
    pub summary_en: Option<&'a str>,
}

pub async fn insert(conn: &mut PgConnection, d: &NewDemand<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into demands (id, organization_id, created_by, title, description, field, keywords, budget_min_fen, \
         budget_max_fen, deadline, province, exchange, search, title_en, summary_en) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::tsvector, $14, $15)",
    )
    .bind(d.id)
    .bind(d.organization_id)
    .bind(d.created_by)
    .bind(d.title)
    .bind(d.description)
    .bind(d.field)
    .bind(d.keywords)
    .bind(d.budget_min_fen)
    .bind(d.budget_max_fen)
    .bind(d.deadline)
    .bind(d.province)
    .bind(d.exchange)
    .bind(d.search)
    .bind(d.title_en)
    .bind(d.summary_en)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<DemandRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from {FROM} where d.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A demand read for its matches, with the generation of matching's in-process index as the database
/// has it (`listing_matches_generation`, see `db::match_profiles::matches_generation`) in the same
/// statement: a round trip less per request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DemandForMatches {
    #[sqlx(flatten)]
    pub demand: DemandRow,
    pub matches_generation: i64,
}

pub async fn get_for_matches(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<DemandForMatches>> {
    sqlx::query_as(&format!(
        "select {COLUMNS}, (select last_value from listing_matches_generation) as matches_generation \
         from {FROM} where d.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn close(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "update demands set status = 'closed', closed_at = now() where id = $1 and status = 'open'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub struct DemandFilter<'a> {
    pub tsquery: Option<&'a str>,
    /// The query as written: its matches come first.
    pub literal: Option<&'a str>,
    pub field: Option<&'a str>,
    pub province: Option<&'a str>,
    pub organization_id: Option<Uuid>,
    /// Only open ones (the public list) or every status (an organisation's own).
    pub only_open: bool,
}

pub async fn list(
    conn: &mut PgConnection,
    f: &DemandFilter<'_>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<DemandRow>, i64)> {
    let cond =
        "($1::tsquery is null or d.search @@ $1::tsquery) and ($2::text is null or d.field = $2) \
        and ($3::text is null or d.province = $3) and ($4::uuid is null or d.organization_id = $4) \
        and ($5 = false or d.status = 'open')";
    let rows = sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where {cond} \
         order by ($8::tsquery is not null and d.search @@ $8::tsquery) desc, d.created_at desc, d.id desc \
         limit $6 offset $7"
    ))
    .persistent(false)
    .bind(f.tsquery)
    .bind(f.field)
    .bind(f.province)
    .bind(f.organization_id)
    .bind(f.only_open)
    .bind(limit)
    .bind(offset)
    .bind(f.literal)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!("select count(*) from {FROM} where {cond}"))
        .persistent(false)
        .bind(f.tsquery)
        .bind(f.field)
        .bind(f.province)
        .bind(f.organization_id)
        .bind(f.only_open)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

/// What matching needs of a listing, plus what a match shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingFactsRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub org_name: String,
    pub org_kind: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub field: String,
    pub ip_type: String,
    pub keywords: Vec<String>,
    pub trl: i16,
    /// `trl` is a published expert evaluation's, not the owner's claim.
    pub trl_evaluated: bool,
    pub pricing_mode: String,
    pub price_fen: Option<i64>,
    pub sort_price_fen: Option<i64>,
    pub status: String,
    pub province: String,
    pub exchange: String,
    pub listed_at: Option<DateTime<Utc>>,
}

/// `trl` is the latest published expert evaluation's (its median, `trl_evaluated`) where there is
/// one, else the owner's own claim (issue 21).
pub(super) const LISTING_COLUMNS: &str = "l.id, l.organization_id, o.name as org_name, o.kind as org_kind, l.title, l.summary, \
    left(l.description, 2000) as description, l.field, l.ip_type, l.keywords, \
    coalesce((select (v.report->'medians'->>'maturity_trl')::smallint from evaluations v \
              where v.listing_id = l.id and v.status = 'published' order by v.closed_at desc limit 1), l.trl) as trl, \
    exists (select 1 from evaluations v where v.listing_id = l.id and v.status = 'published') as trl_evaluated, \
    l.pricing_mode, l.price_fen, l.sort_price_fen, l.status, l.province, l.exchange, l.listed_at";

/// How many candidates each retrieval step may bring (they are scored in Rust).
pub const STRICT_LIMIT: i64 = 60;
pub const CONCEPTS_LIMIT: i64 = 60;
pub const ANY_LIMIT: i64 = 100;
pub const PER_FIELD_LIMIT: i64 = 8;

/// The text queries (`tsquery` literals) and fields that bring matching candidates.
pub struct Retrieval<'a> {
    pub strict: Option<&'a str>,
    pub concepts: Option<&'a str>,
    pub any: Option<&'a str>,
    pub fields: &'a [String],
}

/// Listed listings matching `strict`, `concepts` or `any` (first found, no ranking: the database stops
/// early) and the newest few of each of `fields`: the candidates to score.
pub async fn listing_candidates(
    conn: &mut PgConnection,
    r: &Retrieval<'_>,
) -> sqlx::Result<Vec<ListingFactsRow>> {
    sqlx::query_as(&format!(
        "with s as (select l.id from listings l where $1::tsquery is not null and l.status = 'listed' \
                    and l.search @@ $1::tsquery limit $5), \
              c as (select l.id from listings l where $2::tsquery is not null and l.status = 'listed' \
                    and l.search @@ $2::tsquery limit $6), \
              a as (select l.id from listings l where $3::tsquery is not null and l.status = 'listed' \
                    and l.search @@ $3::tsquery limit $7), \
              f as (select x.id from unnest($4::text[]) as fc(code) cross join lateral \
                    (select l.id from listings l where l.status = 'listed' and l.field = fc.code \
                     order by l.listed_at desc limit $8) x) \
         select {LISTING_COLUMNS} from listings l join organizations o on o.id = l.organization_id \
         where l.id in (select id from s union select id from c union select id from a union select id from f) \
         and l.status = 'listed'"
    ))
    .persistent(false)
    .bind(r.strict)
    .bind(r.concepts)
    .bind(r.any)
    .bind(r.fields)
    .bind(STRICT_LIMIT)
    .bind(CONCEPTS_LIMIT)
    .bind(ANY_LIMIT)
    .bind(PER_FIELD_LIMIT)
    .fetch_all(conn)
    .await
}

pub async fn listing_facts(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ListingFactsRow>> {
    sqlx::query_as(&format!(
        "select {LISTING_COLUMNS} from listings l join organizations o on o.id = l.organization_id where l.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Open demands matching `strict`, `concepts` or `any`, and the newest few of each of `fields`.
pub async fn demand_candidates(
    conn: &mut PgConnection,
    r: &Retrieval<'_>,
) -> sqlx::Result<Vec<DemandRow>> {
    sqlx::query_as(&format!(
        "with s as (select d.id from demands d where $1::tsquery is not null and d.status = 'open' \
                    and d.search @@ $1::tsquery limit $5), \
              c as (select d.id from demands d where $2::tsquery is not null and d.status = 'open' \
                    and d.search @@ $2::tsquery limit $6), \
              a as (select d.id from demands d where $3::tsquery is not null and d.status = 'open' \
                    and d.search @@ $3::tsquery limit $7), \
              f as (select x.id from unnest($4::text[]) as fc(code) cross join lateral \
                    (select d.id from demands d where d.status = 'open' and d.field = fc.code \
                     order by d.created_at desc limit $8) x) \
         select {COLUMNS} from {FROM} where d.id in (select id from s union select id from c union select id from a \
         union select id from f) and d.status = 'open'"
    ))
    .persistent(false)
    .bind(r.strict)
    .bind(r.concepts)
    .bind(r.any)
    .bind(r.fields)
    .bind(STRICT_LIMIT)
    .bind(CONCEPTS_LIMIT)
    .bind(ANY_LIMIT)
    .bind(PER_FIELD_LIMIT)
    .fetch_all(conn)
    .await
}

/// Serialises the scoring of new demands and newly listed listings until commit (see
/// `service::demands::on_listing_listed`). Both are rare next to reads.
pub async fn lock_matching(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(7261127)")
        .execute(conn)
        .await?;
    Ok(())
}
