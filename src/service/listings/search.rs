//! Search: parameters parsed, full-text and filtered search, and the per-process cache of broad
//! searches (`cache`), invalidated across processes by a database-side generation.
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::listings::{ListingRow, SearchFilter, SearchSort};
use crate::domain::codes::{Exchange, Field, IpType, PricingMode, Province};
use crate::domain::error::FieldErrors;
use crate::domain::money::MAX_AMOUNT_FEN;
use crate::domain::relevance::expanded_tsquery;
use crate::domain::text::build_tsquery;
use crate::domain::vocabulary::vocabulary;
use crate::error::{Error, Result};
use crate::service::Page;

use super::{answers, cache, view, AuctionLive, ListingView, SearchHit, QUERY_MAX_CHARS};

/// Call after committing a change to what search can see: drops cached broad searches in every server
/// process at once. Not needed for correctness elsewhere (a trigger on `listings` bumps the database's
/// search generation on every change); it closes the short window before the changing transaction commits
/// (see [`cache`]).
pub async fn search_changed(pool: &PgPool) {
    cache::invalidate();
    let bumped = match pool.acquire().await {
        Ok(mut conn) => db::listings::bump_search_generation(&mut conn).await,
        Err(e) => Err(e),
    };
    if let Err(e) = bumped {
        tracing::warn!(error = %e, "could not bump the search generation");
    }
}

/// The search parameters as sent (API query or page form); empty strings mean "not given".
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Free text, Chinese or English, or a patent number.
    pub q: Option<String>,
    pub field: Option<String>,
    pub province: Option<String>,
    pub exchange: Option<String>,
    pub ip_type: Option<String>,
    /// `negotiable` | `fixed` | `auction`
    pub pricing: Option<String>,
    #[param(value_type = Option<i64>)]
    pub min_price_fen: Option<String>,
    #[param(value_type = Option<i64>)]
    pub max_price_fen: Option<String>,
    /// 1–9
    #[param(value_type = Option<i64>)]
    pub trl_min: Option<String>,
    /// `relevance` (default with `q`) | `newest` (default without) | `price_asc` | `price_desc`
    pub sort: Option<String>,
    #[param(value_type = Option<i64>)]
    pub page: Option<String>,
    #[param(value_type = Option<i64>)]
    pub per_page: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn bad_param(name: &str, value: &str) -> Error {
    let mut f = FieldErrors::new();
    f.push(
        name,
        "err.query.type",
        vec![("detail", value.chars().take(50).collect())],
    );
    Error::BadRequest {
        code: "invalid_query",
        fields: Some(f),
    }
}

fn code_param<T>(
    v: &Option<String>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    code: fn(&T) -> &'static str,
) -> Result<Option<String>> {
    match given(v) {
        None => Ok(None),
        Some(s) => parse(s)
            .map(|t| Some(code(&t).to_string()))
            .ok_or_else(|| bad_param(name, s)),
    }
}

fn int_param(v: &Option<String>, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
    match given(v) {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(bad_param(name, s)),
        },
    }
}

/// A checked search: the filter, sort and page.
#[derive(Debug, Clone)]
pub struct Search {
    pub filter: SearchFilter,
    pub sort: SearchSort,
    pub page: i64,
    pub per_page: i64,
}

/// Checks the parameters; any bad one → 400 `invalid_query` naming it.
pub fn parse_search(p: &SearchParams) -> Result<Search> {
    let q: Option<String> = given(&p.q).map(|s| s.chars().take(QUERY_MAX_CHARS).collect());
    let literal = q.as_deref().and_then(build_tsquery);
    // Across languages and synonyms: `thermal spray coating` also finds 热喷涂涂层; what matches the
    // query as written ranks first.
    let expanded = q.as_deref().and_then(|q| expanded_tsquery(vocabulary(), q));
    let tsquery = match (&literal, expanded) {
        (Some(l), Some(e)) if *l != e => Some(format!("({l}) | ({e})")),
        (Some(l), _) => Some(l.clone()),
        (None, e) => e,
    };
    let min_price_fen = int_param(&p.min_price_fen, "min_price_fen", 0, MAX_AMOUNT_FEN)?;
    let max_price_fen = int_param(&p.max_price_fen, "max_price_fen", 0, MAX_AMOUNT_FEN)?;
    if let (Some(lo), Some(hi)) = (min_price_fen, max_price_fen) {
        if lo > hi {
            let mut f = FieldErrors::new();
            f.push("max_price_fen", "err.query.max_below_min", Vec::new());
            return Err(Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            });
        }
    }
    let filter = SearchFilter {
        field: code_param(&p.field, "field", Field::parse, Field::code)?,
        province: code_param(&p.province, "province", Province::parse, Province::code)?,
        exchange: code_param(&p.exchange, "exchange", Exchange::parse, Exchange::code)?,
        ip_type: code_param(&p.ip_type, "ip_type", IpType::parse, IpType::code)?,
        pricing: code_param(&p.pricing, "pricing", PricingMode::parse, PricingMode::code)?,
        min_price_fen,
        max_price_fen,
        trl_min: int_param(&p.trl_min, "trl_min", 1, 9)?.map(|v| v as i16),
        tsquery,
        literal,
    };
    let sort = match given(&p.sort) {
        None if filter.tsquery.is_some() => SearchSort::Relevance,
        None => SearchSort::Newest,
        Some("relevance") => SearchSort::Relevance,
        Some("newest") => SearchSort::Newest,
        Some("price_asc") => SearchSort::PriceAsc,
        Some("price_desc") => SearchSort::PriceDesc,
        Some(other) => return Err(bad_param("sort", other)),
    };
    let page = int_param(&p.page, "page", 1, 1_000_000)?.unwrap_or(1);
    let per_page = int_param(&p.per_page, "per_page", 1, 100)?.unwrap_or(20);
    Ok(Search {
        filter,
        sort,
        page,
        per_page,
    })
}

/// The public search: listed listings only, exact total.
/// A query with no searchable characters (only punctuation) matches nothing.
#[tracing::instrument(skip(pool, viewer))]
pub async fn search(
    pool: &PgPool,
    viewer: Option<&CurrentUser>,
    p: &SearchParams,
) -> Result<Page<ListingView>> {
    Ok(search_rows(pool, p).await?.map(|r| view(&r, viewer)))
}

/// An anonymous API search's answer as `render` serialises it: from [`answers`] when nothing it shows
/// can have changed since it was rendered (one statement per request: the generations), else searched,
/// rendered and kept. Only for a viewer who sees no owner-only parts, i.e. nobody signed in.
pub async fn search_answer<F>(pool: &PgPool, p: &SearchParams, render: F) -> Result<Arc<[u8]>>
where
    F: FnOnce(&Page<ListingView>) -> Result<Vec<u8>>,
{
    let key = format!("{}|answer|{p:?}", db::database_key(pool));
    // Read before rendering: a change committed meanwhile makes the next request render again.
    let generations = {
        let mut conn = pool.acquire().await?;
        let (search, pages) = db::listing_search::answer_generations(&mut conn).await?;
        answers::generations(search, pages)
    };
    if let Some(bytes) = answers::get(&key, generations) {
        return Ok(bytes);
    }
    let page = search(pool, None, p).await?;
    let bytes: Arc<[u8]> = render(&page)?.into();
    answers::put(&key, generations, bytes.clone());
    Ok(bytes)
}

/// The search as the search page shows it: each listing with its auction's live state (current
/// bid, bids, end), read by the search's own query (`db::listings::listed_by_ids`), never per card.
#[tracing::instrument(skip(pool, viewer))]
pub async fn search_hits(
    pool: &PgPool,
    viewer: Option<&CurrentUser>,
    p: &SearchParams,
) -> Result<Page<SearchHit>> {
    Ok(search_rows(pool, p).await?.map(|r| SearchHit {
        listing: view(&r, viewer),
        auction: AuctionLive::of(&r),
    }))
}

async fn search_rows(pool: &PgPool, p: &SearchParams) -> Result<Page<ListingRow>> {
    let s = parse_search(p)?;
    let has_text = given(&p.q).is_some();
    if has_text && s.filter.tsquery.is_none() {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            page: s.page,
            per_page: s.per_page,
        });
    }
    let limit = s.per_page;
    let offset = (s.page - 1) * s.per_page;
    let (rows, total) = if s.filter.tsquery.is_some() {
        text_page(pool, &s, limit, offset).await?
    } else {
        plain_page(pool, &s, limit, offset).await?
    };
    Ok(Page {
        items: rows,
        total,
        page: s.page,
        per_page: s.per_page,
    })
}

/// A text search's page and total. A broad search whose ids this process holds is one statement:
/// the page's rows and the database's search generation, read together; the ids serve only if that
/// generation is still the one they were computed under. Otherwise (or with nothing cached) the
/// generation is read first and the ids computed or taken from the cache under it.
async fn text_page(
    pool: &PgPool,
    s: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListingRow>, i64)> {
    let page_of = |ids: &[Uuid]| {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(ids.len());
        let end = start
            .saturating_add(usize::try_from(limit).unwrap_or(0))
            .min(ids.len());
        ids[start..end].to_vec()
    };
    let key = cache_key(pool, "ids", &s.filter, Some(s.sort));
    if let Some(guess) = cache::db_generation_of(&key) {
        let ids = text_search_ids(pool, guess, s).await?;
        let mut conn = pool.acquire().await?;
        let (rows, current) = db::listing_search::listed_by_ids(&mut conn, &page_of(&ids)).await?;
        let current = match current {
            Some(g) => g,
            None => db::listings::search_generation(&mut conn).await?,
        };
        if current == guess {
            return Ok((in_range(&s.filter, rows), ids.len() as i64));
        }
    }
    let mut conn = pool.acquire().await?;
    let db_generation = db::listings::search_generation(&mut conn).await?;
    drop(conn);
    let ids = text_search_ids(pool, db_generation, s).await?;
    let mut conn = pool.acquire().await?;
    let rows = db::listings::listed_by_ids(&mut conn, &page_of(&ids)).await?;
    Ok((in_range(&s.filter, rows), ids.len() as i64))
}

/// A bid moves an auction's price without bumping the search generation (that would empty the cache
/// at every bid), so cached ids may hold an auction that has since left the price range: the fresh
/// rows are checked again. (Order and total may lag up to `cache::FRESH`.)
fn in_range(f: &SearchFilter, mut rows: Vec<ListingRow>) -> Vec<ListingRow> {
    rows.retain(|r| in_price_range(f, r.sort_price_fen));
    rows
}

/// A filter-only search's page (its ids, then its rows with the search generation) and its total: counted
/// only when the page does not tell it, and then from the cache for broad filters.
async fn plain_page(
    pool: &PgPool,
    s: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListingRow>, i64)> {
    let mut conn = pool.acquire().await?;
    let ids = db::listings::search_plain_ids(&mut conn, &s.filter, s.sort, limit, offset).await?;
    let (rows, generation) = db::listing_search::listed_by_ids(&mut conn, &ids).await?;
    if offset == 0 && (rows.len() as i64) < limit {
        let total = rows.len() as i64;
        return Ok((rows, total));
    }
    let generation = match generation {
        Some(g) => g,
        None => db::listings::search_generation(&mut conn).await?,
    };
    drop(conn);
    let total = plain_total(pool, generation, &s.filter).await?;
    Ok((rows, total))
}

fn in_price_range(f: &SearchFilter, price: Option<i64>) -> bool {
    match (f.min_price_fen, f.max_price_fen, price) {
        (None, None, _) => true,
        (_, _, None) => false,
        (min, max, Some(p)) => min.is_none_or(|m| p >= m) && max.is_none_or(|m| p <= m),
    }
}

/// The cache key of a search: the database, the kind of result, the filters and the sort.
fn cache_key(pool: &PgPool, kind: &str, f: &SearchFilter, sort: Option<SearchSort>) -> String {
    format!("{}|{kind}|{f:?}|{sort:?}", db::database_key(pool))
}

/// `compute`'s value, from the cache for broad searches (see [`cache`]): fresh entries as they are,
/// stale ones while a background task recomputes them, misses computed once per key at a time.
async fn cached<F, Fut>(key: String, db_generation: i64, compute: F) -> Result<cache::Cached>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<cache::Cached>> + Send + 'static,
{
    let generation = cache::generation(db_generation);
    match cache::lookup(&key, generation) {
        cache::Lookup::Fresh(v) | cache::Lookup::StaleRefreshing(v) => return Ok(v),
        cache::Lookup::Stale(v) => {
            let fut = compute();
            tokio::spawn(async move {
                match fut.await {
                    Ok(v) => cache::store(&key, generation, v),
                    Err(e) => {
                        tracing::warn!(error = %e, "refreshing a cached search failed");
                        cache::refresh_failed(&key);
                    }
                }
            });
            return Ok(v);
        }
        cache::Lookup::Miss => {}
    }
    let flight = cache::flight(&key);
    let _guard = flight.lock().await;
    if let cache::Lookup::Fresh(v) = cache::lookup(&key, generation) {
        return Ok(v);
    }
    let v = compute().await?;
    cache::store(&key, generation, v.clone());
    Ok(v)
}

/// All matching ids of a text search, in order.
async fn text_search_ids(
    pool: &PgPool,
    db_generation: i64,
    s: &Search,
) -> Result<std::sync::Arc<Vec<Uuid>>> {
    let key = cache_key(pool, "ids", &s.filter, Some(s.sort));
    let (pool, filter, sort) = (pool.clone(), s.filter.clone(), s.sort);
    let v = cached(key, db_generation, move || {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            let mut conn = pool.acquire().await?;
            let ids = db::listings::search_text_ids(&mut conn, &filter, sort).await?;
            Ok(cache::Cached::Ids(std::sync::Arc::new(ids)))
        }
    })
    .await?;
    match v {
        cache::Cached::Ids(ids) => Ok(ids),
        cache::Cached::Count(_) => Err(Error::Internal(anyhow::anyhow!("search cache mix-up"))),
    }
}

/// The exact number of listed listings matching a filter-only search.
async fn plain_total(pool: &PgPool, db_generation: i64, f: &SearchFilter) -> Result<i64> {
    let key = cache_key(pool, "count", f, None);
    let (pool, filter) = (pool.clone(), f.clone());
    let v = cached(key, db_generation, move || {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            let mut conn = pool.acquire().await?;
            Ok(cache::Cached::Count(
                db::listings::count(&mut conn, &filter).await?,
            ))
        }
    })
    .await?;
    match v {
        cache::Cached::Count(n) => Ok(n),
        cache::Cached::Ids(_) => Err(Error::Internal(anyhow::anyhow!("search cache mix-up"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_rows_are_checked_against_the_price_range_again() {
        let f = |min, max| SearchFilter {
            min_price_fen: min,
            max_price_fen: max,
            ..Default::default()
        };
        assert!(in_price_range(&f(None, None), None));
        assert!(in_price_range(&f(None, None), Some(5)));
        assert!(in_price_range(&f(Some(100), Some(200)), Some(200)));
        assert!(in_price_range(&f(Some(100), Some(200)), Some(100)));
        // An auction bid up past the maximum since the ids were cached.
        assert!(!in_price_range(&f(Some(100), Some(200)), Some(201)));
        assert!(!in_price_range(&f(Some(100), None), Some(99)));
        // Unpriced listings never fall in a price range.
        assert!(!in_price_range(&f(None, Some(200)), None));
    }
}
