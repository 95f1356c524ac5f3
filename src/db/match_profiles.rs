//! SQL for listings' stored matching profiles (`listing_match_profiles`) and the retrieval of matching
//! candidates by concept overlap.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::demands::{ListingFactsRow, LISTING_COLUMNS};
use crate::domain::relevance::StoredProfile;

/// What a profile is computed from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileSource {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    /// The first 2,000 characters, as matching reads them.
    pub description: String,
    pub keywords: Vec<String>,
}

/// The first characters of a description that matching reads.
pub const DESCRIPTION_CHARS: usize = 2_000;

/// Up to `limit` listings (any status) without a profile of `version`.
pub async fn missing(
    conn: &mut PgConnection,
    version: i64,
    limit: i64,
) -> sqlx::Result<Vec<ProfileSource>> {
    sqlx::query_as(
        "select l.id, l.title, l.summary, left(l.description, 2000) as description, l.keywords from listings l \
         where not exists (select 1 from listing_match_profiles p where p.listing_id = l.id and p.version = $1) \
         limit $2",
    )
    .bind(version)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Stores profiles (replacing older ones).
pub async fn upsert(
    conn: &mut PgConnection,
    version: i64,
    profiles: &[(Uuid, StoredProfile)],
) -> sqlx::Result<()> {
    // Six parameters a row, well under the protocol's 65,535.
    for chunk in profiles.chunks(1_000) {
        let mut b: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "insert into listing_match_profiles (listing_id, version, concepts, surfaces, tokens, retrieval) ",
        );
        b.push_values(chunk, |mut row, (id, p)| {
            row.push_bind(*id)
                .push_bind(version)
                .push_bind(&p.concepts)
                .push_bind(&p.surfaces)
                .push_bind(&p.tokens)
                .push_bind(&p.retrieval);
        });
        // A listing deleted meanwhile has no profile to keep.
        b.push(
            " on conflict (listing_id) do update set version = excluded.version, concepts = excluded.concepts, \
             surfaces = excluded.surfaces, tokens = excluded.tokens, retrieval = excluded.retrieval",
        );
        b.build().persistent(false).execute(&mut *conn).await?;
        // The profiles' concepts for retrieval through the B-tree, replaced with them.
        let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
        sqlx::query("delete from listing_match_concepts where listing_id = any($1)")
            .bind(&ids)
            .execute(&mut *conn)
            .await?;
        let (concepts, listings): (Vec<i32>, Vec<Uuid>) = chunk
            .iter()
            .flat_map(|(id, p)| p.retrieval.iter().map(move |c| (*c, *id)))
            .unzip();
        sqlx::query(
            "insert into listing_match_concepts (concept, listing_id) \
             select distinct c, l from unnest($1::int[], $2::uuid[]) as t(c, l) on conflict do nothing",
        )
        .bind(&concepts)
        .bind(&listings)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A candidate: what scoring needs, and the entries of its profile that the demand looks up.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub field: String,
    pub province: String,
    pub trl: i16,
    pub price_fen: Option<i64>,
    pub sort_price_fen: Option<i64>,
    pub listed_at: Option<DateTime<Utc>>,
    pub concepts: Vec<i64>,
    pub tokens: Vec<i64>,
}

/// How many candidates each retrieval step may bring (they are scored in Rust).
pub const BOTH_LIMIT: i64 = 100;
pub const EACH_LIMIT: i64 = 20;
pub const NEAR_LIMIT: i64 = 30;
pub const TOKENS_LIMIT: i64 = 30;
pub const PER_FIELD_LIMIT: i64 = 8;

/// How a demand retrieves listings (concept ids as in `StoredProfile::retrieval`).
pub struct Retrieval<'a> {
    pub version: i64,
    /// The specific concepts of the two heaviest concept units: listings with one of each.
    pub first: &'a [i32],
    pub second: &'a [i32],
    /// The heaviest units' concepts (`each_ids`, tagged by unit in `each_units`): listings with any, a few
    /// per unit.
    pub each_ids: &'a [i32],
    pub each_units: &'a [i32],
    /// Broader and related concepts of the heaviest units.
    pub near: &'a [i32],
    /// Words the vocabulary does not know (a `tsquery` over the search vector).
    pub tokens: Option<&'a str>,
    /// Fields whose newest listings are candidates too, whatever they share.
    pub fields: &'a [String],
    /// The entries of profiles to send (see `Query::lookups`).
    pub lookup_concepts: &'a [i64],
    pub lookup_tokens: &'a [i64],
}

/// Listed listings with a current profile that share a concept (or an unknown word) with a demand, first
/// found in each step (no ranking: the database stops early; the score decides). The steps that take a few
/// listings of any of some concepts read the B-tree of `listing_match_concepts`, which stops after those
/// few; the GIN index would first collect every listing with them (`bench/explain-matches.sql`).
pub async fn candidates(
    conn: &mut PgConnection,
    r: &Retrieval<'_>,
) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as(
        "with b as (select p.listing_id from listing_match_profiles p join listings l on l.id = p.listing_id \
                    where cardinality($2::int[]) > 0 and cardinality($3::int[]) > 0 and p.retrieval && $2::int[] \
                    and p.retrieval && $3::int[] and p.version = $1 and l.status = 'listed' limit $10), \
              e as (select x.listing_id from \
                    (select u, array_agg(c) as ids from unnest($4::int[], $5::int[]) as t(c, u) group by u) g \
                    cross join lateral (select m.listing_id from listing_match_concepts m \
                      join listings l on l.id = m.listing_id where m.concept = any(g.ids) \
                      and l.status = 'listed' order by m.concept, m.listing_id limit $11) x), \
              n as (select m.listing_id from listing_match_concepts m join listings l on l.id = m.listing_id \
                    where m.concept = any($6::int[]) and l.status = 'listed' \
                    order by m.concept, m.listing_id limit $12), \
              t as (select l.id as listing_id from listings l where $7::tsquery is not null \
                    and l.status = 'listed' and l.search @@ $7::tsquery limit $13), \
              f as (select x.id as listing_id from unnest($14::text[]) as fc(code) cross join lateral \
                    (select l.id from listings l where l.status = 'listed' and l.field = fc.code \
                     order by l.listed_at desc limit $15) x), \
              ids as (select listing_id from b union select listing_id from e union select listing_id from n \
                    union select listing_id from t union select listing_id from f) \
         select l.id, l.organization_id, l.field, l.province, \
           coalesce((select (v.report->'medians'->>'maturity_trl')::smallint from evaluations v \
             where v.listing_id = l.id and v.status = 'published' order by v.closed_at desc limit 1), l.trl) as trl, \
           l.price_fen, l.sort_price_fen, l.listed_at, \
           array(select c from unnest(p.concepts) c where (c >> 24) = any($8::int8[])) as concepts, \
           array(select k from unnest(p.tokens) k where (k >> 12) = any($9::int8[])) as tokens \
         from ids join listings l on l.id = ids.listing_id \
         join listing_match_profiles p on p.listing_id = l.id and p.version = $1 \
         where l.status = 'listed'",
    )
    // Prepared, unlike the text searches: planning this statement cost ~30 ms, and its plan does not
    // depend much on the values (overlaps of small arrays use the GIN index either way).
    .bind(r.version)
    .bind(r.first)
    .bind(r.second)
    .bind(r.each_ids)
    .bind(r.each_units)
    .bind(r.near)
    .bind(r.tokens)
    .bind(r.lookup_concepts)
    .bind(r.lookup_tokens)
    .bind(BOTH_LIMIT)
    .bind(EACH_LIMIT)
    .bind(NEAR_LIMIT)
    .bind(TOKENS_LIMIT)
    .bind(r.fields)
    .bind(PER_FIELD_LIMIT)
    .fetch_all(conn)
    .await
}

/// A listing to show: its facts, and its profile's entries that the demand looks up and words.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Shown {
    #[sqlx(flatten)]
    pub listing: ListingFactsRow,
    pub concepts: Vec<i64>,
    pub tokens: Vec<i64>,
    pub surfaces: Vec<String>,
}

/// The listed listings of `ids` with a current profile, as shown in a list of matches.
pub async fn shown(
    conn: &mut PgConnection,
    version: i64,
    ids: &[Uuid],
    lookup_concepts: &[i64],
    lookup_tokens: &[i64],
) -> sqlx::Result<Vec<Shown>> {
    sqlx::query_as(&format!(
        "select {LISTING_COLUMNS}, \
           array(select c from unnest(p.concepts) c where (c >> 24) = any($3::int8[])) as concepts, \
           array(select k from unnest(p.tokens) k where (k >> 12) = any($4::int8[])) as tokens, p.surfaces \
         from listings l join organizations o on o.id = l.organization_id \
         join listing_match_profiles p on p.listing_id = l.id and p.version = $1 \
         where l.id = any($2::uuid[]) and l.status = 'listed'"
    ))
    .bind(version)
    .bind(ids)
    .bind(lookup_concepts)
    .bind(lookup_tokens)
    .fetch_all(conn)
    .await
}

/// Whether this transaction may refresh profiles (one process at a time; released at commit).
pub async fn try_lock_refresh(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_try_advisory_xact_lock(7261208)")
        .fetch_one(conn)
        .await
}
