//! SQL for: one listing with everything its JSON and its page show beside it, in one statement.
//!
//! `GET /api/v1/listings/{id}` read the listing, its active pledge and its latest published
//! evaluation in three statements, and the listing's page read the listing twice more (for the
//! trading panel and the documents' visibility) besides: one round trip each. Here they are
//! lateral joins of one statement, each on its own index (`pledge_requests_one_active`,
//! `evaluations_published`, `listing_documents_listing`).
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::listings::{ListingRow, COLUMNS, FROM};

/// A listing, its active pledge, its latest published evaluation, and whether it has documents.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingDetailRow {
    #[sqlx(flatten)]
    pub listing: ListingRow,
    /// The active pledge of its IP (`pledge_requests`, at most one: `pledge_requests_one_active`).
    pub pledge_status: Option<String>,
    pub pledge_lender_id: Option<Uuid>,
    pub pledge_lender_name: Option<String>,
    pub pledge_registration_no: Option<String>,
    pub pledge_decided_at: Option<DateTime<Utc>>,
    pub pledge_consented_modes: Option<Vec<String>>,
    /// The latest published evaluation (`db::evaluations::latest_published`'s order).
    pub evaluation_id: Option<Uuid>,
    pub evaluation_status: Option<String>,
    pub evaluation_due_at: Option<DateTime<Utc>>,
    pub evaluation_exchange: Option<String>,
    pub evaluation_created_at: Option<DateTime<Utc>>,
    pub evaluation_closed_at: Option<DateTime<Utc>>,
    pub evaluation_report: Option<serde_json::Value>,
    /// Whether any document is attached (the page reads them only then).
    pub has_documents: bool,
}

impl ListingDetailRow {
    /// The evaluation as `db::evaluations` returns it, if there is one.
    pub fn evaluation(&self) -> Option<super::evaluations::EvaluationRow> {
        let l = &self.listing;
        Some(super::evaluations::EvaluationRow {
            id: self.evaluation_id?,
            listing_id: l.id,
            listing_title: l.title.clone(),
            listing_field: l.field.clone(),
            owner_organization_id: l.organization_id,
            status: self.evaluation_status.clone()?,
            due_at: self.evaluation_due_at?,
            exchange: self.evaluation_exchange.clone()?,
            created_at: self.evaluation_created_at?,
            closed_at: self.evaluation_closed_at,
            report: self.evaluation_report.clone(),
        })
    }
}

impl ListingDetailRow {
    /// The columns the trading panel reads (`db::trading::listing`).
    pub fn trading_row(&self) -> super::trading::ListingRow {
        let l = &self.listing;
        super::trading::ListingRow {
            id: l.id,
            organization_id: l.organization_id,
            title: l.title.clone(),
            status: l.status.clone(),
            pricing_mode: l.pricing_mode.clone(),
            price_fen: l.price_fen,
            transaction_modes: l.transaction_modes.clone(),
            exchange: l.exchange.clone(),
        }
    }
}

/// The listing and what its page shows beside it, in one statement: `extra` adds columns.
fn detail_sql(extra: &str) -> String {
    format!(
        "select {COLUMNS}, \
           pl.status as pledge_status, pl.lender_organization_id as pledge_lender_id, \
           pl.lender_name as pledge_lender_name, pl.registration_no as pledge_registration_no, \
           pl.decided_at as pledge_decided_at, pl.consented_modes as pledge_consented_modes, \
           ev.id as evaluation_id, ev.status as evaluation_status, ev.due_at as evaluation_due_at, \
           ev.exchange as evaluation_exchange, ev.created_at as evaluation_created_at, \
           ev.closed_at as evaluation_closed_at, ev.report as evaluation_report, \
           exists (select 1 from listing_documents d where d.listing_id = l.id) as has_documents{extra} \
         from {FROM} \
         left join lateral (select p.status, p.lender_organization_id, le.name as lender_name, \
             p.registration_no, p.decided_at, p.consented_modes \
           from pledge_requests p join organizations le on le.id = p.lender_organization_id \
           where p.listing_id = l.id and p.status = 'active' limit 1) pl on true \
         left join lateral (select v.id, v.status, v.due_at, v.exchange, v.created_at, v.closed_at, v.report \
           from evaluations v where v.listing_id = l.id and v.status = 'published' \
           order by v.closed_at desc, v.id desc limit 1) ev on true \
         where l.id = $1"
    )
}

static DETAIL: LazyLock<String> = LazyLock::new(|| detail_sql(""));
static DETAIL_WITH_GENERATIONS: LazyLock<String> = LazyLock::new(|| {
    detail_sql(
        ", (select last_value from listings_search_generation) as search_generation, \
           (select last_value from listing_pages_generation) as pages_generation",
    )
});

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ListingDetailRow>> {
    sqlx::query_as(&DETAIL).bind(id).fetch_optional(conn).await
}

/// A listing's detail with the generations a copy of it may be kept under (the search generation
/// and `listing_pages_generation`, as [`super::listing_search::answer_generations`] reads them).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailWithGenerations {
    #[sqlx(flatten)]
    pub detail: ListingDetailRow,
    pub search_generation: i64,
    pub pages_generation: i64,
}

/// [`get`] and the generations, in one statement (a listing not kept yet costs one round trip).
pub async fn get_with_generations(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<DetailWithGenerations>> {
    sqlx::query_as(&DETAIL_WITH_GENERATIONS)
        .bind(id)
        .fetch_optional(conn)
        .await
}
