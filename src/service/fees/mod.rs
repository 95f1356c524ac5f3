//! Fee schedules: quotes, versions, maker–checker approval, simulation.
//!
//! A schedule is drafted by any exchange administrator and decided (approved or rejected) by an
//! administrator of a *different* exchange; once decided it never changes (a database trigger
//! refuses it too). The schedule in force at T is the approved one with the latest `effective_at`
//! ≤ T, where `effective_at` is fixed at approval: the requested `effective_from`, or the moment of
//! approval when none was requested or it has already passed.
pub mod cache;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::fees::ScheduleRow;
use crate::domain::codes::Exchange;
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::fees::{legacy_chongqing, legacy_sichuan, Band, FeeSchedule, SideSchedule};
use crate::domain::money::{AmountError, MAX_AMOUNT_FEN};
use crate::error::{Error, Result};
use crate::service::admin::{self, AuditItem};
use crate::service::{Page, PageQuery};

/// The id of unified v1, installed approved by the schema migration.
pub const UNIFIED_V1_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
/// More bands than this is a mistake, not a schedule.
pub const MAX_BANDS: usize = 20;
pub const NAME_MAX_CHARS: usize = 200;
pub const REASON_MAX_CHARS: usize = 1000;

// ------------------------------------------------------------------ views

/// One band: `rate_ppm` on the part of the amount up to `up_to_fen` (null on the last band).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BandView {
    pub up_to_fen: Option<i64>,
    pub rate_ppm: i64,
}

/// What one party pays: marginal bands, a minimum fee and an optional cap (null: none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SideView {
    pub bands: Vec<BandView>,
    #[serde(default)]
    pub min_fee_fen: i64,
    #[serde(default)]
    pub max_fee_fen: Option<i64>,
}

impl From<&SideSchedule> for SideView {
    fn from(s: &SideSchedule) -> Self {
        SideView {
            bands: s
                .bands
                .iter()
                .map(|b| BandView {
                    up_to_fen: b.up_to_fen,
                    rate_ppm: b.rate_ppm,
                })
                .collect(),
            min_fee_fen: s.min_fee_fen,
            max_fee_fen: s.max_fee_fen,
        }
    }
}

impl From<&SideView> for SideSchedule {
    fn from(s: &SideView) -> Self {
        SideSchedule {
            bands: s
                .bands
                .iter()
                .map(|b| Band {
                    up_to_fen: b.up_to_fen,
                    rate_ppm: b.rate_ppm,
                })
                .collect(),
            min_fee_fen: s.min_fee_fen,
            max_fee_fen: s.max_fee_fen,
        }
    }
}

/// A schedule version (API.md "Fees").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    pub id: Uuid,
    /// The public name once approved; a draft's or a rejected schedule's working title.
    pub name: String,
    /// The name it was drafted under, for administrators' pages only (never in the API, never on /fees).
    #[serde(skip)]
    pub working_title: String,
    /// draft | approved | rejected
    pub status: String,
    /// When it takes (or took) effect: for an approved schedule the moment fixed at approval; for a
    /// draft or a rejected one the moment requested, or null for "when approved".
    pub effective_from: Option<DateTime<Utc>>,
    /// The drafting admin's e-mail (null for the installed unified v1).
    pub created_by: Option<String>,
    /// The approving admin's e-mail (null unless approved by someone).
    pub approved_by: Option<String>,
    pub buyer: SideView,
    pub seller: SideView,
    /// The drafter's exchange; an admin of another exchange must decide.
    pub created_by_exchange: Option<String>,
    /// The moment requested in the draft (null: when approved).
    pub requested_effective_from: Option<DateTime<Utc>>,
    /// The rejecting admin's e-mail (null unless rejected).
    pub rejected_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&ScheduleRow> for ScheduleView {
    fn from(r: &ScheduleRow) -> Self {
        let approved = r.status == "approved";
        ScheduleView {
            id: r.id,
            name: match (&r.public_name, approved) {
                (Some(public), true) => public.clone(),
                _ => r.name.clone(),
            },
            working_title: r.name.clone(),
            status: r.status.clone(),
            effective_from: if approved {
                r.effective_at
            } else {
                r.effective_from
            },
            created_by: r.created_by_email.clone(),
            approved_by: if approved {
                r.decided_by_email.clone()
            } else {
                None
            },
            buyer: SideView::from(&r.buyer.0),
            seller: SideView::from(&r.seller.0),
            created_by_exchange: r.created_by_exchange.clone(),
            requested_effective_from: r.effective_from,
            rejected_by: if r.status == "rejected" {
                r.decided_by_email.clone()
            } else {
                None
            },
            decided_at: r.decided_at,
            reject_reason: r.reject_reason.clone(),
            created_at: r.created_at,
        }
    }
}

impl ScheduleView {
    pub fn schedule(&self) -> FeeSchedule {
        FeeSchedule {
            buyer: SideSchedule::from(&self.buyer),
            seller: SideSchedule::from(&self.seller),
        }
    }

    pub fn is_draft(&self) -> bool {
        self.status == "draft"
    }
}

/// Both parties' fees on one amount; `total_fee_fen` is always buyer + seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FeesView {
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
}

impl FeesView {
    pub fn of(schedule: &FeeSchedule, amount_fen: i64) -> Self {
        let q = schedule.quote(amount_fen);
        FeesView {
            buyer_fee_fen: q.buyer_fee_fen,
            seller_fee_fen: q.seller_fee_fen,
            total_fee_fen: q.total_fee_fen,
        }
    }
}

/// The fees under the unified schedule in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnifiedQuote {
    pub schedule_id: Uuid,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
}

/// What the old provincial rules would have charged (for comparison only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LegacyQuotes {
    pub sichuan: FeesView,
    pub chongqing: FeesView,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    pub amount_fen: i64,
    pub unified: UnifiedQuote,
    pub legacy: LegacyQuotes,
}

/// The quote of `amount_fen` under `schedule` (the unified one) and the two legacy tables.
pub fn quote_with(schedule_id: Uuid, schedule: &FeeSchedule, amount_fen: i64) -> QuoteView {
    let u = FeesView::of(schedule, amount_fen);
    QuoteView {
        amount_fen,
        unified: UnifiedQuote {
            schedule_id,
            buyer_fee_fen: u.buyer_fee_fen,
            seller_fee_fen: u.seller_fee_fen,
            total_fee_fen: u.total_fee_fen,
        },
        legacy: LegacyQuotes {
            sichuan: FeesView::of(&legacy_sichuan(), amount_fen),
            chongqing: FeesView::of(&legacy_chongqing(), amount_fen),
        },
    }
}

/// 1 ≤ amount ≤ 10^14 fen, or a field error at `path`.
pub fn check_amount(amount_fen: i64, path: &str) -> Result<()> {
    let err = if amount_fen < 0 {
        AmountError::Negative
    } else if amount_fen == 0 {
        AmountError::Zero
    } else if amount_fen > MAX_AMOUNT_FEN {
        AmountError::TooLarge
    } else {
        return Ok(());
    };
    let mut errs = FieldErrors::new();
    errs.push_err(path, &err);
    Err(Error::Validation(errs))
}

// ------------------------------------------------------------------ public reads

/// The schedule in force at `at`.
pub async fn in_force(pool: &PgPool, at: DateTime<Utc>) -> Result<ScheduleView> {
    let mut conn = pool.acquire().await?;
    let row = db::fees::in_force(&mut conn, at)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no fee schedule in force at {at}")))?;
    Ok(ScheduleView::from(&row))
}

/// Both parties' fees on `amount_fen` under the unified schedule in force at `at`, beside the legacy ones.
#[tracing::instrument(skip(pool))]
/// Served from this process's copy of the approved schedules ([`cache`]): no database round trip
/// once the copy is loaded.
pub async fn quote(pool: &PgPool, amount_fen: i64, at: DateTime<Utc>) -> Result<QuoteView> {
    check_amount(amount_fen, "amount_fen")?;
    let versions = cache::versions(pool).await?;
    let v = cache::pick(&versions, at)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no fee schedule in force at {at}")))?;
    Ok(quote_with(v.id, &v.schedule, amount_fen))
}

/// `draft` | `approved` | `rejected`, or a 400 naming `status`.
fn parse_status(status: Option<&str>) -> Result<Option<&str>> {
    match status {
        None | Some("") => Ok(None),
        Some(s @ ("draft" | "approved" | "rejected")) => Ok(Some(s)),
        Some(other) => {
            let mut f = FieldErrors::new();
            f.push(
                "status",
                "err.code.unknown",
                vec![("value", other.to_string())],
            );
            Err(Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            })
        }
    }
}

/// Every version, newest first (optionally of one status).
pub async fn list(
    pool: &PgPool,
    status: Option<&str>,
    page: PageQuery,
) -> Result<Page<ScheduleView>> {
    let status = parse_status(status)?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::fees::list(&mut conn, status, per_page, (page - 1) * per_page).await?;
    Ok(Page {
        items: rows.iter().map(ScheduleView::from).collect(),
        total,
        page,
        per_page,
    })
}

/// Approved versions, the latest effective first (the public history).
pub async fn history(pool: &PgPool) -> Result<Vec<ScheduleView>> {
    let mut conn = pool.acquire().await?;
    let rows = db::fees::approved(&mut conn, 200).await?;
    Ok(rows.iter().map(ScheduleView::from).collect())
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<ScheduleView> {
    let mut conn = pool.acquire().await?;
    let row = db::fees::get(&mut conn, id).await?.ok_or(Error::NotFound)?;
    Ok(ScheduleView::from(&row))
}

// ------------------------------------------------------------------ drafting

/// A new version as drafted (`POST /api/v1/admin/fee-schedules`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewScheduleInput {
    pub name: String,
    /// When it should take effect (RFC 3339, not in the past); absent: when approved.
    #[serde(default)]
    pub effective_from: Option<DateTime<Utc>>,
    pub buyer: SideView,
    pub seller: SideView,
}

/// Everything wrong with a draft, by JSON path (`seller.bands[2].rate_ppm`).
pub fn validate_input(input: &NewScheduleInput, now: DateTime<Utc>) -> FieldErrors {
    let mut errs = FieldErrors::new();
    check_text(&input.name, "name", 1, NAME_MAX_CHARS, &mut errs);
    if let Some(at) = input.effective_from {
        if at < now {
            errs.push("effective_from", "err.fees.effective_from_past", vec![]);
        }
    }
    for (side, path) in [(&input.buyer, "buyer"), (&input.seller, "seller")] {
        if side.bands.len() > MAX_BANDS {
            errs.push(
                format!("{path}.bands"),
                "err.fees.too_many_bands",
                vec![("max", MAX_BANDS.to_string())],
            );
        } else {
            SideSchedule::from(side).validate(path, &mut errs);
        }
    }
    errs
}

/// Drafts a new version (any exchange administrator). Audited.
#[tracing::instrument(skip(pool, admin, input), fields(admin = %admin.email))]
pub async fn create(
    pool: &PgPool,
    admin: &CurrentUser,
    input: NewScheduleInput,
    now: DateTime<Utc>,
) -> Result<ScheduleView> {
    let exchange = admin.require_admin()?;
    validate_input(&input, now).into_result()?;
    let schedule = FeeSchedule {
        buyer: SideSchedule::from(&input.buyer),
        seller: SideSchedule::from(&input.seller),
    };
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    db::fees::insert_draft(
        &mut tx,
        db::fees::NewSchedule {
            id,
            name: &input.name,
            effective_from: input.effective_from,
            schedule: &schedule,
            created_by: admin.id,
            created_by_exchange: exchange.code(),
            created_at: now,
        },
    )
    .await?;
    let row = db::fees::get(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("draft {id} vanished")))?;
    let view = ScheduleView::from(&row);
    crate::service::events::waiting::fee_drafted(&mut tx, id, &input.name, exchange).await?;
    admin::audit(
        &mut tx,
        admin,
        "fee_schedule.draft",
        "fee_schedule",
        id,
        None,
        Some(audit_json(&view)),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

fn audit_json(v: &ScheduleView) -> serde_json::Value {
    serde_json::json!({
        "name": v.name,
        "status": v.status,
        "effective_from": v.effective_from,
        "created_by_exchange": v.created_by_exchange,
        "buyer": v.buyer,
        "seller": v.seller,
    })
}

/// Maker–checker decisions: approving under a public name, rejecting with a reason.
mod decide;
pub use decide::{approve, may_decide, reject};

// ------------------------------------------------------------------ simulation

/// Fee revenue of one exchange: buyer fees of its buyers, seller fees of its listings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExchangeFees {
    pub current_fee_fen: i64,
    pub proposed_fee_fen: i64,
}

/// A schedule applied to every trade recorded so far (cancelled ones excluded), against the
/// schedule in force now. Both columns are recomputed from the trade prices, so they compare the
/// two schedules alone; `recorded_total_fee_fen` is what the trades actually carry (frozen at creation).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Simulation {
    pub schedule_id: Uuid,
    pub current_schedule_id: Uuid,
    pub trades: i64,
    pub turnover_fen: i64,
    pub current_total_fee_fen: i64,
    pub proposed_total_fee_fen: i64,
    pub recorded_total_fee_fen: i64,
    /// By exchange code (all four, zeros included).
    pub by_exchange: BTreeMap<String, ExchangeFees>,
}

impl Simulation {
    /// Every exchange in the code-list order, with its numbers.
    pub fn exchanges(&self) -> Vec<(String, ExchangeFees)> {
        Exchange::ALL
            .iter()
            .map(|e| {
                (
                    e.code().to_string(),
                    self.by_exchange.get(e.code()).copied().unwrap_or_default(),
                )
            })
            .collect()
    }
}

/// The pure part of a simulation (amounts summed in i128, saturated into i64).
pub fn simulate_trades(
    schedule_id: Uuid,
    proposed: &FeeSchedule,
    current_schedule_id: Uuid,
    current: &FeeSchedule,
    trades: &[db::fees::TradeForSimulation],
) -> Simulation {
    fn sat(v: i128) -> i64 {
        v.clamp(0, i128::from(i64::MAX)) as i64
    }
    let mut by: BTreeMap<String, (i128, i128)> = Exchange::ALL
        .iter()
        .map(|e| (e.code().to_string(), (0, 0)))
        .collect();
    let (mut cur, mut pro, mut rec, mut turnover) = (0i128, 0i128, 0i128, 0i128);
    for t in trades {
        let c = current.quote(t.price_fen);
        let p = proposed.quote(t.price_fen);
        let b = by.entry(t.buyer_exchange.clone()).or_default();
        b.0 += i128::from(c.buyer_fee_fen);
        b.1 += i128::from(p.buyer_fee_fen);
        let s = by.entry(t.seller_exchange.clone()).or_default();
        s.0 += i128::from(c.seller_fee_fen);
        s.1 += i128::from(p.seller_fee_fen);
        cur += i128::from(c.total_fee_fen);
        pro += i128::from(p.total_fee_fen);
        rec += i128::from(t.buyer_fee_fen) + i128::from(t.seller_fee_fen);
        turnover += i128::from(t.price_fen);
    }
    Simulation {
        schedule_id,
        current_schedule_id,
        trades: trades.len() as i64,
        turnover_fen: sat(turnover),
        current_total_fee_fen: sat(cur),
        proposed_total_fee_fen: sat(pro),
        recorded_total_fee_fen: sat(rec),
        by_exchange: by
            .into_iter()
            .map(|(k, (c, p))| {
                (
                    k,
                    ExchangeFees {
                        current_fee_fen: sat(c),
                        proposed_fee_fen: sat(p),
                    },
                )
            })
            .collect(),
    }
}

/// The fee revenue the trades recorded so far would bring under schedule `id`, against the
/// schedule in force at `now` (any exchange administrator).
#[tracing::instrument(skip(pool, admin), fields(admin = %admin.email))]
pub async fn simulate(
    pool: &PgPool,
    admin: &CurrentUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Simulation> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    let proposed = db::fees::get(&mut conn, id).await?.ok_or(Error::NotFound)?;
    let current = db::fees::in_force(&mut conn, now)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no fee schedule in force")))?;
    let trades = db::fees::trades_for_simulation(&mut conn).await?;
    Ok(simulate_trades(
        proposed.id,
        &proposed.schedule(),
        current.id,
        &current.schedule(),
        &trades,
    ))
}

/// The audit rows of fee schedule actions, newest first (administrators).
pub async fn audit_trail(
    pool: &PgPool,
    admin: &CurrentUser,
    page: PageQuery,
) -> Result<Page<AuditItem>> {
    admin::audit_log(pool, admin, Some("fee_schedule"), page).await
}

/// The audit rows of one schedule, oldest first (administrators).
pub async fn audit_of(pool: &PgPool, admin: &CurrentUser, id: Uuid) -> Result<Vec<AuditItem>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    let rows = db::fees::audit_of(&mut conn, id).await?;
    Ok(rows.into_iter().map(AuditItem::from).collect())
}

// ------------------------------------------------------------------ demo

/// The demo's pending draft: 重庆联合产权交易所 proposes a cap, waiting for another exchange.
pub const DEMO_DRAFT_NAME: &str =
    "统一收费标准 v2（草案：单方封顶 50 万元）/ Unified v2 (draft: cap ¥500,000 per side)";

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the
/// organisations and accounts exist. Idempotent: adds one draft for the approval queue.
pub async fn seed_demo(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let drafter: Option<Uuid> = sqlx::query_scalar(
        "select id from users where lower(email) = 'admin-cquaee@demo.techmarket.cn'",
    )
    .fetch_optional(pool)
    .await?;
    let Some(drafter) = drafter else {
        return Ok(());
    };
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from fee_schedules where name = $1)")
            .bind(DEMO_DRAFT_NAME)
            .fetch_one(pool)
            .await?;
    if exists {
        return Ok(());
    }
    let mut side = crate::domain::fees::unified_v1().buyer;
    side.max_fee_fen = Some(50_000_000);
    let schedule = FeeSchedule {
        buyer: side.clone(),
        seller: side,
    };
    let mut conn = pool.acquire().await?;
    db::fees::insert_draft(
        &mut conn,
        db::fees::NewSchedule {
            id: Uuid::now_v7(),
            name: DEMO_DRAFT_NAME,
            effective_from: None,
            schedule: &schedule,
            created_by: drafter,
            created_by_exchange: "cquaee",
            created_at: Utc::now(),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::fees::unified_v1;

    #[test]
    fn the_installed_id_is_the_migrations() {
        assert_eq!(
            UNIFIED_V1_ID.to_string(),
            "00000000-0000-7000-8000-000000000001"
        );
    }

    #[test]
    fn amounts_outside_one_fen_to_one_trillion_yuan_are_refused() {
        for bad in [0, -1, i64::MIN, MAX_AMOUNT_FEN + 1, i64::MAX] {
            match check_amount(bad, "amount_fen") {
                Err(Error::Validation(f)) => assert!(f.get("amount_fen").is_some()),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(check_amount(1, "amount_fen").is_ok());
        assert!(check_amount(MAX_AMOUNT_FEN, "amount_fen").is_ok());
    }

    #[test]
    fn a_simulation_splits_buyer_and_seller_fees_by_exchange() {
        let trades = vec![
            db::fees::TradeForSimulation {
                price_fen: 350_000_000,
                seller_exchange: "cquaee".into(),
                buyer_exchange: "suaee".into(),
                buyer_fee_fen: 1,
                seller_fee_fen: 2,
            },
            db::fees::TradeForSimulation {
                price_fen: 1_000_000,
                seller_exchange: "suaee".into(),
                buyer_exchange: "suaee".into(),
                buyer_fee_fen: 3,
                seller_fee_fen: 4,
            },
        ];
        let s = simulate_trades(
            Uuid::nil(),
            &legacy_chongqing(),
            UNIFIED_V1_ID,
            &unified_v1(),
            &trades,
        );
        assert_eq!(s.trades, 2);
        // Unified v1: 4,000,000 per side on 350万元, the 30,000 minimum on 1万元.
        assert_eq!(s.current_total_fee_fen, 2 * 4_000_000 + 2 * 30_000);
        // Chongqing: 1,950,000 per side on 350万元, 7,000 on 1万元.
        assert_eq!(s.proposed_total_fee_fen, 2 * 1_950_000 + 2 * 7_000);
        assert_eq!(s.recorded_total_fee_fen, 10);
        assert_eq!(
            s.by_exchange["suaee"],
            ExchangeFees {
                current_fee_fen: 4_000_000 + 30_000 + 30_000,
                proposed_fee_fen: 1_950_000 + 7_000 + 7_000,
            }
        );
        assert_eq!(
            s.by_exchange["cquaee"],
            ExchangeFees {
                current_fee_fen: 4_000_000,
                proposed_fee_fen: 1_950_000,
            }
        );
        assert_eq!(s.by_exchange["cdipex"], ExchangeFees::default());
        assert_eq!(s.by_exchange.len(), 4);
    }
}
