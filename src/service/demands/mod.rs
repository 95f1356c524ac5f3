//! Technology demands (技术需求) and two-way matching with explained scores.
//!
//! Matching (`matches`) retrieves candidates (for a demand, by overlap with the listings' stored concept
//! profiles; for a listing, through the search index), scores each with `domain::matching::score` (formula
//! documented there) and keeps the best; a candidate that shares no concept with the other side is not a
//! match and is not listed (the demand's page can show the ones considered, with the reason). The region part is the same within a province and
//! across the provincial line, so joining Sichuan and Chongqing never costs a match points.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::demands::{DemandRow, ListingFactsRow};
use crate::domain::codes::{Field, Province};
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::matching::Match;
use crate::domain::money::MAX_AMOUNT_FEN;
use crate::domain::relevance::expanded_tsquery;
use crate::domain::text::{self, TsVectorBuilder};
use crate::domain::vocabulary::vocabulary;
use crate::error::{Error, Result};
use crate::i18n::{self, Lang};
use crate::service::events::{self, Event, MatchSide};
use crate::service::listings::QUERY_MAX_CHARS;
use crate::service::{guards, Page, PageQuery};

/// The listed listings' matching data in this process's memory, kept by the database's notifications.
mod index;
/// Candidates and their scores, both ways.
mod matches;
/// The demo demands (data and loading).
mod seed;
pub use index::{load_again_everywhere, MatchIndex};
use matches::{score_demands, score_listings};
pub use seed::seed_demo;

/// A match worth telling both sides about.
pub const NOTIFY_SCORE: u8 = 70;
/// How many matches a list shows.
pub const MATCH_LIMIT: usize = 20;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DemandInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// A field code (DOMAIN.md).
    pub field: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub budget_min_fen: Option<i64>,
    pub budget_max_fen: Option<i64>,
    pub deadline: Option<DateTime<Utc>>,
    /// Optional English title (4–200 characters), shown on English pages.
    #[serde(default)]
    pub title_en: Option<String>,
    /// Optional English summary of the description (up to 500 characters), shown on English pages.
    #[serde(default)]
    pub summary_en: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DemandView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub field: String,
    pub keywords: Vec<String>,
    pub budget_min_fen: Option<i64>,
    pub budget_max_fen: Option<i64>,
    pub deadline: Option<DateTime<Utc>>,
    /// `open` | `closed`
    pub status: String,
    pub province: String,
    pub exchange: String,
    pub organization: OrgRef,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The English title and summary, if given (English pages show them, else the Chinese ones).
    pub title_en: Option<String>,
    pub summary_en: Option<String>,
}

impl From<&DemandRow> for DemandView {
    fn from(d: &DemandRow) -> Self {
        DemandView {
            id: d.id,
            title: d.title.clone(),
            description: d.description.clone(),
            field: d.field.clone(),
            keywords: d.keywords.clone(),
            budget_min_fen: d.budget_min_fen,
            budget_max_fen: d.budget_max_fen,
            deadline: d.deadline,
            status: d.status.clone(),
            province: d.province.clone(),
            exchange: d.exchange.clone(),
            organization: OrgRef {
                id: d.organization_id,
                name: d.org_name.clone(),
                kind: d.org_kind.clone(),
            },
            created_at: d.created_at,
            closed_at: d.closed_at,
            title_en: d.title_en.clone(),
            summary_en: d.summary_en.clone(),
        }
    }
}

/// The listing as a match shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListingSummary {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub field: String,
    pub ip_type: String,
    pub trl: i16,
    pub keywords: Vec<String>,
    pub pricing: PricingSummary,
    pub status: String,
    pub exchange: String,
    pub province: String,
    pub organization: OrgRef,
    pub listed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PricingSummary {
    pub mode: String,
    pub price_fen: Option<i64>,
}

impl From<&ListingFactsRow> for ListingSummary {
    fn from(l: &ListingFactsRow) -> Self {
        ListingSummary {
            id: l.id,
            title: l.title.clone(),
            summary: l.summary.clone(),
            field: l.field.clone(),
            ip_type: l.ip_type.clone(),
            trl: l.trl,
            keywords: l.keywords.clone(),
            pricing: PricingSummary {
                mode: l.pricing_mode.clone(),
                price_fen: l.price_fen.or(if l.pricing_mode == "auction" {
                    l.sort_price_fen
                } else {
                    None
                }),
            },
            status: l.status.clone(),
            exchange: l.exchange.clone(),
            province: l.province.clone(),
            organization: OrgRef {
                id: l.organization_id,
                name: l.org_name.clone(),
                kind: l.org_kind.clone(),
            },
            listed_at: l.listed_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonView {
    /// `field` | `keywords` | `budget` | `maturity` | `region`
    pub code: String,
    pub points: u8,
    /// The reason in words, in the caller's language.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListingMatch {
    pub listing: ListingSummary,
    pub score: u8,
    pub reasons: Vec<ReasonView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DemandMatch {
    pub demand: DemandView,
    pub score: u8,
    pub reasons: Vec<ReasonView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Matches<T> {
    pub items: Vec<T>,
}

fn reasons(lang: Lang, m: &Match) -> Vec<ReasonView> {
    m.reasons
        .iter()
        .map(|r| ReasonView {
            code: r.code.code().to_string(),
            points: r.points,
            detail: i18n::tf(lang, r.detail_key, &r.args),
        })
        .collect()
}

struct Valid {
    field: Field,
    keywords: Vec<String>,
    title_en: Option<String>,
    summary_en: Option<String>,
}

/// The field errors of `input` (none when it is valid): for forms that found errors of their own
/// (an unreadable amount) and want to show every problem at once.
pub fn field_errors(input: &DemandInput, now: DateTime<Utc>) -> FieldErrors {
    validate(input, now).err().unwrap_or_default()
}

fn validate(input: &DemandInput, now: DateTime<Utc>) -> std::result::Result<Valid, FieldErrors> {
    let mut errs = FieldErrors::default();
    check_text(&input.title, "title", 4, 200, &mut errs);
    // The English title and summary are optional: blank is none.
    let english = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (title_en, summary_en) = (english(&input.title_en), english(&input.summary_en));
    if let Some(t) = &title_en {
        check_text(t, "title_en", 4, 200, &mut errs);
    }
    if let Some(s) = &summary_en {
        check_text(s, "summary_en", 0, 500, &mut errs);
    }
    if input.description.chars().count() > 20_000 {
        errs.push(
            "description",
            "err.text.too_long",
            vec![("max", "20000".into())],
        );
    }
    let field = Field::parse(&input.field);
    if field.is_none() {
        errs.push(
            "field",
            "err.code.unknown",
            vec![("value", input.field.clone())],
        );
    }
    let keywords: Vec<String> = input
        .keywords
        .iter()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    if keywords.len() > 20 {
        errs.push(
            "keywords",
            "err.demands.too_many_keywords",
            vec![("max", "20".into())],
        );
    }
    for (i, k) in keywords.iter().enumerate() {
        if k.chars().count() > 30 {
            errs.push(
                format!("keywords[{i}]"),
                "err.text.too_long",
                vec![("max", "30".into())],
            );
        }
    }
    for (path, v) in [
        ("budget_min_fen", input.budget_min_fen),
        ("budget_max_fen", input.budget_max_fen),
    ] {
        if let Some(v) = v {
            if !(1..=MAX_AMOUNT_FEN).contains(&v) {
                errs.push(path, "err.demands.budget_range", vec![]);
            }
        }
    }
    if let (Some(min), Some(max)) = (input.budget_min_fen, input.budget_max_fen) {
        if min > max {
            errs.push("budget_max_fen", "err.demands.budget_order", vec![]);
        }
    }
    if let Some(d) = input.deadline {
        if d <= now {
            errs.push("deadline", "err.demands.deadline_past", vec![]);
        }
    }
    errs.into_result()?;
    match field {
        Some(field) => Ok(Valid {
            field,
            keywords,
            title_en,
            summary_en,
        }),
        None => Err(FieldErrors::default()),
    }
}

/// Title (both languages) A, keywords and the English summary B, description D.
fn demand_vector(
    title: &str,
    keywords: &[String],
    description: &str,
    english: [Option<&str>; 2],
) -> String {
    let mut b = TsVectorBuilder::new();
    b.add(title, 'A');
    if let Some(t) = english[0] {
        b.add(t, 'A');
    }
    for k in keywords {
        b.add(k, 'B');
    }
    if let Some(s) = english[1] {
        b.add(s, 'B');
    }
    b.add(description, 'D');
    b.build()
}

/// Posts a demand for the caller's organisation (verified and not restricted).
#[tracing::instrument(skip(pool, user, input))]
pub async fn create(
    pool: &PgPool,
    user: &CurrentUser,
    input: DemandInput,
    lang: Lang,
) -> Result<DemandView> {
    let org_id = user.require_org()?;
    let v = validate(&input, Utc::now())?;
    let mut tx = pool.begin().await?;
    guards::require_active_org(&mut tx, org_id).await?;
    let org = db::organizations::get(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let id = Uuid::now_v7();
    let title = input.title.clone();
    let search = demand_vector(
        &title,
        &v.keywords,
        &input.description,
        [v.title_en.as_deref(), v.summary_en.as_deref()],
    );
    db::demands::insert(
        &mut tx,
        &db::demands::NewDemand {
            id,
            organization_id: org_id,
            created_by: user.id,
            title: &title,
            description: &input.description,
            field: v.field.code(),
            keywords: &v.keywords,
            budget_min_fen: input.budget_min_fen,
            budget_max_fen: input.budget_max_fen,
            deadline: input.deadline,
            province: &org.province,
            exchange: &org.exchange,
            search: &search,
            title_en: v.title_en.as_deref(),
            summary_en: v.summary_en.as_deref(),
        },
    )
    .await?;
    let row = db::demands::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    // Tell the owners of listings that fit well (once per pair). After the matching lock: see
    // `on_listing_listed`.
    db::demands::lock_matching(&mut tx).await?;
    let found = score_listings(&mut tx, None, &row, false).await?;
    for (l, m) in found.iter().filter(|(_, m)| m.score >= NOTIFY_SCORE) {
        tell_match(&mut tx, &row, l, m.score, MatchSide::Demand).await?;
    }
    tx.commit().await?;
    let _ = lang;
    Ok(DemandView::from(&row))
}

/// An open demand (public), or a closed one to its organisation and admins.
pub async fn get(pool: &PgPool, viewer: Option<&CurrentUser>, id: Uuid) -> Result<DemandView> {
    let mut conn = pool.acquire().await?;
    let row = db::demands::get(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    if row.status != "open" && !is_owner_or_admin(viewer, row.organization_id) {
        return Err(Error::NotFound);
    }
    Ok(DemandView::from(&row))
}

/// Matches are the owner's (API.md "(owner only)") and, for oversight, its exchange's admins'. An
/// admin of another exchange gets 403 (API.md: acting outside their exchange); anyone else 404.
fn may_see_matches(user: &CurrentUser, org: Uuid, exchange: &str) -> Result<()> {
    if user.organization_id == Some(org) {
        return Ok(());
    }
    match user.admin_exchange {
        Some(ex) if user.is_admin() && ex.code() == exchange => Ok(()),
        Some(_) if user.is_admin() => Err(Error::Forbidden("other_exchange")),
        _ => Err(Error::NotFound),
    }
}

fn is_owner_or_admin(viewer: Option<&CurrentUser>, org: Uuid) -> bool {
    viewer.is_some_and(|u| u.is_admin() || u.organization_id == Some(org))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemandQuery {
    pub q: Option<String>,
    pub field: Option<String>,
    pub province: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Open demands, newest first, searchable like listings.
pub async fn list(pool: &PgPool, q: &DemandQuery) -> Result<Page<DemandView>> {
    let (page, per_page) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve_or_400()?;
    let mut errs = FieldErrors::default();
    let field = q.field.as_deref().filter(|s| !s.is_empty());
    if field.is_some_and(|f| Field::parse(f).is_none()) {
        errs.push(
            "field",
            "err.code.unknown",
            vec![("value", field.unwrap_or_default().to_string())],
        );
    }
    let province = q.province.as_deref().filter(|s| !s.is_empty());
    if province.is_some_and(|p| Province::parse(p).is_none()) {
        errs.push(
            "province",
            "err.code.unknown",
            vec![("value", province.unwrap_or_default().to_string())],
        );
    }
    if !errs.is_empty() {
        return Err(Error::BadRequest {
            code: "invalid_query",
            fields: Some(errs),
        });
    }
    // Like the listing search: across languages and synonyms (`thermal spray coating` also finds
    // 热喷涂涂层), what matches the query as written first.
    let text_q: Option<String> =
        q.q.as_deref()
            .map(|s| s.chars().take(QUERY_MAX_CHARS).collect());
    let literal = text_q.as_deref().and_then(text::build_tsquery);
    let expanded = text_q
        .as_deref()
        .and_then(|s| expanded_tsquery(vocabulary(), s));
    let tsq = match (&literal, expanded) {
        (Some(l), Some(e)) if *l != e => Some(format!("({l}) | ({e})")),
        (Some(l), _) => Some(l.clone()),
        (None, e) => e,
    };
    if q.q.as_deref().is_some_and(|s| !s.trim().is_empty()) && tsq.is_none() {
        return Ok(Page {
            items: vec![],
            total: 0,
            page,
            per_page,
        });
    }
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::demands::list(
        &mut conn,
        &db::demands::DemandFilter {
            tsquery: tsq.as_deref(),
            literal: literal.as_deref(),
            field,
            province,
            organization_id: None,
            only_open: true,
        },
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Page {
        items: rows.iter().map(DemandView::from).collect(),
        total,
        page,
        per_page,
    })
}

/// The caller's organisation's demands, all statuses.
pub async fn mine(pool: &PgPool, user: &CurrentUser) -> Result<Vec<DemandView>> {
    let org = user.require_org()?;
    let mut conn = pool.acquire().await?;
    let (rows, _) = db::demands::list(
        &mut conn,
        &db::demands::DemandFilter {
            tsquery: None,
            literal: None,
            field: None,
            province: None,
            organization_id: Some(org),
            only_open: false,
        },
        200,
        0,
    )
    .await?;
    Ok(rows.iter().map(DemandView::from).collect())
}

/// Closes the demand (its organisation only); a closed demand stops matching.
pub async fn close(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<DemandView> {
    let mut tx = pool.begin().await?;
    let row = db::demands::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if user.organization_id != Some(row.organization_id) {
        return Err(if row.status == "open" {
            Error::Forbidden("not_owner")
        } else {
            Error::NotFound
        });
    }
    if !db::demands::close(&mut tx, id).await? {
        return Err(Error::conflict("demand_closed"));
    }
    let row = db::demands::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(DemandView::from(&row))
}

/// Listings that fit a demand, best first (the demand's organisation and admins; 404 to others). With
/// `all` (the demand's page only; the API lists matches), after them the listings considered that are not
/// a match (score 0, the `keywords` reason says that they share no concept with the demand).
pub async fn matches_for_demand(
    pool: &PgPool,
    index: Option<&MatchIndex>,
    user: &CurrentUser,
    id: Uuid,
    lang: Lang,
    all: bool,
) -> Result<Matches<ListingMatch>> {
    let mut conn = pool.acquire().await?;
    let found = db::demands::get_for_matches(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    let d = found.demand;
    may_see_matches(user, d.organization_id, &d.exchange)?;
    let index = index.map(|ix| (ix, found.matches_generation));
    let found = score_listings(&mut conn, index, &d, all).await?;
    Ok(Matches {
        items: found
            .iter()
            .map(|(l, m)| ListingMatch {
                listing: ListingSummary::from(l),
                score: m.score,
                reasons: reasons(lang, m),
            })
            .collect(),
    })
}

/// [`matches_for_demand`] read on the replica (`DATABASE_READ_URL`); a demand the replica does not
/// have yet (created a moment ago: replication lag) is read on the primary, so its author sees its
/// matches at once.
pub async fn matches_for_demand_read(
    state: &crate::service::AppState,
    user: &CurrentUser,
    id: Uuid,
    lang: Lang,
    all: bool,
) -> Result<Matches<ListingMatch>> {
    let index = Some(&state.matches);
    match matches_for_demand(&state.read_pool, index, user, id, lang, all).await {
        Err(Error::NotFound) if state.config.database_read_url.is_some() => {
            matches_for_demand(&state.pool, index, user, id, lang, all).await
        }
        r => r,
    }
}

/// [`matches_for_listing`] read on the replica, or on the primary for a listing the replica does
/// not have yet.
pub async fn matches_for_listing_read(
    state: &crate::service::AppState,
    user: &CurrentUser,
    listing_id: Uuid,
    lang: Lang,
) -> Result<Matches<DemandMatch>> {
    match matches_for_listing(&state.read_pool, user, listing_id, lang).await {
        Err(Error::NotFound) if state.config.database_read_url.is_some() => {
            matches_for_listing(&state.pool, user, listing_id, lang).await
        }
        r => r,
    }
}

/// Open demands that fit a listing, best first (the listing's organisation and admins; 404 to others).
pub async fn matches_for_listing(
    pool: &PgPool,
    user: &CurrentUser,
    listing_id: Uuid,
    lang: Lang,
) -> Result<Matches<DemandMatch>> {
    let mut conn = pool.acquire().await?;
    let l = db::demands::listing_facts(&mut conn, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    may_see_matches(user, l.organization_id, &l.exchange)?;
    let found = score_demands(&mut conn, &l).await?;
    Ok(Matches {
        items: found
            .iter()
            .map(|(d, m)| DemandMatch {
                demand: DemandView::from(d),
                score: m.score,
                reasons: reasons(lang, m),
            })
            .collect(),
    })
}

/// Tells the owner of the side that was there first of a good match with the new one.
async fn tell_match(
    conn: &mut PgConnection,
    d: &DemandRow,
    l: &ListingFactsRow,
    score: u8,
    new: MatchSide,
) -> Result<()> {
    let found = Event::MatchFound {
        demand_id: d.id,
        demand_title: d.title.clone(),
        demand_organization_id: d.organization_id,
        listing_id: l.id,
        listing_title: l.title.clone(),
        listing_organization_id: l.organization_id,
        score,
        new,
    };
    events::emit(conn, &found).await
}

/// Called when a listing becomes `listed`: the owners of open demands it fits well (score ≥ 70)
/// are notified, once per pair.
///
/// A demand created while a listing is being approved: each transaction scores after its own write
/// and under the matching lock, so the one that takes the lock second sees the other's committed
/// row (the lock is released at commit) and the pair is told once, never missed.
pub async fn on_listing_listed(conn: &mut PgConnection, listing_id: Uuid) -> Result<usize> {
    db::demands::lock_matching(conn).await?;
    let Some(l) = db::demands::listing_facts(conn, listing_id).await? else {
        return Ok(0);
    };
    let found = score_demands(conn, &l).await?;
    let mut sent = 0;
    for (d, m) in found.iter().filter(|(_, m)| m.score >= NOTIFY_SCORE) {
        tell_match(conn, d, &l, m.score, MatchSide::Listing).await?;
        sent += 1;
    }
    Ok(sent)
}
