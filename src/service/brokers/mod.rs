//! Technology brokers (技术经纪人, issue 21 item 3): certification by any exchange's admin (one
//! status for all four), the public list, a broker's own page (deals, commission earned and
//! pending), and their engagements on trades (`engagements`), paid through the ledger when the
//! trade settles (`settlement`).
//!
//! Locking: a proposal and an acceptance lock the trade's row (`FOR UPDATE`), the row every trade
//! transition also locks, then share-lock the broker's row (a revocation updates it); so an
//! engagement accepted while the payment is being recorded is either seen by the payment (the
//! buyer pays its commission) or refused after it (`invalid_trade_state`).
//!
//! Rooms: `engagements` (propose, accept, decline, the trade's brokers), `settlement` (what the
//! trade's transitions ask of them: payment, cancellation, settlement, dispute decisions).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::brokers::BrokerRow;
use crate::domain::error::{check_text, FieldErrors};
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::{Page, PageQuery};

mod engagements;
mod seed;
mod settlement;

pub use engagements::*;
pub use seed::seed_demo;
pub use settlement::*;

/// Longest certificate number, in characters.
pub const CERTIFICATE_MAX: usize = 64;
/// Longest revocation reason, in characters.
pub const REASON_MAX: usize = 500;

/// An organisation named on a broker.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = BrokerOrg)]
pub struct OrgRef {
    pub id: Uuid,
    pub name: String,
}

/// A certified broker (API.md "Technology brokers").
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BrokerView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The broker's organisation (null if they left it).
    pub organization: Option<OrgRef>,
    pub certificate_no: String,
    /// When certified (or certified again).
    pub since: DateTime<Utc>,
    pub active: bool,
    /// The exchange whose admin certified them (the status holds in all four).
    pub certified_by_exchange: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&BrokerRow> for BrokerView {
    fn from(r: &BrokerRow) -> Self {
        BrokerView {
            id: r.id,
            user_id: r.user_id,
            name: r.name.clone(),
            organization: r
                .organization_id
                .zip(r.organization_name.clone())
                .map(|(id, name)| OrgRef { id, name }),
            certificate_no: r.certificate_no.clone(),
            since: r.since,
            active: r.active,
            certified_by_exchange: r.certifying_exchange.clone(),
            revoked_at: r.revoked_at,
        }
    }
}

/// `POST /admin/brokers`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CertifyInput {
    /// A member (not an administrator).
    pub user_id: Uuid,
    /// The broker's certificate number (技术经纪人证书编号), up to 64 characters.
    pub certificate_no: String,
}

/// `POST /admin/brokers/{id}/revoke`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevokeInput {
    pub reason: String,
}

fn snapshot(b: &BrokerRow) -> serde_json::Value {
    serde_json::json!({"user_id": b.user_id, "certificate_no": b.certificate_no, "active": b.active})
}

/// Any exchange admin certifies a member as a broker (audited). A revoked broker certified again
/// keeps their id (and ledger account). 422 for an unknown user, an administrator or a bad
/// number; 409 `broker_exists` if already active, `certificate_no_taken` for another's number.
pub async fn certify(
    pool: &PgPool,
    admin: &CurrentUser,
    input: CertifyInput,
    now: DateTime<Utc>,
) -> Result<BrokerView> {
    let exchange = admin.require_admin()?;
    admin.require_person()?;
    let by = admin.person_id();
    let certificate_no = input.certificate_no.trim();
    let mut errs = FieldErrors::new();
    check_text(
        certificate_no,
        "certificate_no",
        1,
        CERTIFICATE_MAX,
        &mut errs,
    );
    let mut tx = pool.begin().await?;
    let member = db::users::get(&mut tx, input.user_id).await?;
    if !member
        .as_ref()
        .is_some_and(|u| u.role == "member" && u.organization_id.is_some())
    {
        errs.push("user_id", "err.broker.not_member", vec![]);
    }
    errs.into_result()?;
    let before = match db::brokers::lock_of_user(&mut tx, input.user_id).await? {
        Some(id) => db::brokers::get(&mut tx, id).await?,
        None => None,
    };
    if before.as_ref().is_some_and(|b| b.active) {
        return Err(Error::conflict("broker_exists"));
    }
    if db::brokers::certificate_taken(&mut tx, certificate_no, input.user_id).await? {
        return Err(Error::conflict("certificate_no_taken"));
    }
    let id = db::brokers::certify(
        &mut tx,
        &db::brokers::NewBroker {
            id: Uuid::now_v7(),
            user_id: input.user_id,
            certificate_no,
            by,
            exchange: exchange.code(),
            now: crate::service::settlement::micros(now),
        },
    )
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.constraint() == Some("brokers_certificate_active") => {
            Error::conflict("certificate_no_taken")
        }
        other => other.into(),
    })?;
    let after = db::brokers::get(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("broker vanished")))?;
    audit(
        &mut tx,
        admin,
        "broker.certify",
        "broker",
        id,
        before.as_ref().map(snapshot),
        Some(snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(BrokerView::from(&after))
}

/// Any exchange admin revokes a broker's certification (audited). Engagements already accepted
/// stand (the deal was agreed); proposals can no longer be accepted.
pub async fn revoke(
    pool: &PgPool,
    admin: &CurrentUser,
    id: Uuid,
    input: RevokeInput,
    now: DateTime<Utc>,
) -> Result<BrokerView> {
    admin.require_admin()?;
    admin.require_person()?;
    let by = admin.person_id();
    let reason = input.reason.trim();
    let mut errs = FieldErrors::new();
    check_text(reason, "reason", 1, REASON_MAX, &mut errs);
    errs.into_result()?;
    let mut tx = pool.begin().await?;
    let before = db::brokers::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    db::brokers::lock_of_user(&mut tx, before.user_id).await?;
    let before = db::brokers::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !before.active {
        return Err(Error::conflict("broker_not_active"));
    }
    db::brokers::revoke(
        &mut tx,
        id,
        by,
        reason,
        crate::service::settlement::micros(now),
    )
    .await?;
    let after = db::brokers::get(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("broker vanished")))?;
    let mut after_json = snapshot(&after);
    after_json["reason"] = serde_json::json!(reason);
    audit(
        &mut tx,
        admin,
        "broker.revoke",
        "broker",
        id,
        Some(snapshot(&before)),
        Some(after_json),
    )
    .await?;
    tx.commit().await?;
    Ok(BrokerView::from(&after))
}

/// Active brokers by name (`all`: revoked ones too, for admins).
pub async fn list(pool: &PgPool, all: bool, page: PageQuery) -> Result<Page<BrokerView>> {
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::brokers::list(&mut conn, all, per_page, (page - 1) * per_page).await?;
    Ok(Page {
        items: rows.iter().map(BrokerView::from).collect(),
        total,
        page,
        per_page,
    })
}

/// One broker (any signed-in caller may see a certified broker's public record).
pub async fn get(pool: &PgPool, id: Uuid) -> Result<BrokerView> {
    let mut conn = pool.acquire().await?;
    db::brokers::get(&mut conn, id)
        .await?
        .as_ref()
        .map(BrokerView::from)
        .ok_or(Error::NotFound)
}

/// The user an admin names by e-mail on the certification form (admins only).
pub async fn user_by_email(
    pool: &PgPool,
    admin: &CurrentUser,
    email: &str,
) -> Result<Option<Uuid>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    Ok(db::brokers::user_by_email(&mut conn, email).await?)
}

/// The caller's own broker record, if they were ever certified.
pub async fn mine(pool: &PgPool, user: &CurrentUser) -> Result<Option<BrokerView>> {
    let mut conn = pool.acquire().await?;
    Ok(db::brokers::of_user(&mut conn, user.id)
        .await?
        .as_ref()
        .map(BrokerView::from))
}

/// A broker's page: their record, their deals (engagements, newest first) and commission earned
/// (paid at settlement) and pending (accepted on trades not yet settled).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BrokerDeals {
    pub broker: BrokerView,
    pub earned_fen: i64,
    pub pending_fen: i64,
    pub deals: Page<EngagementView>,
}

/// The broker themself and exchange admins see a broker's deals; anyone else 403 `broker_only`.
pub async fn deals(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    page: PageQuery,
) -> Result<BrokerDeals> {
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let b = db::brokers::get(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    if b.user_id != user.id && !user.is_admin() {
        return Err(Error::Forbidden("broker_only"));
    }
    let (earned_fen, pending_fen) = db::brokers::totals(&mut conn, id).await?;
    let (rows, total) =
        db::brokers::of_broker(&mut conn, id, per_page, (page - 1) * per_page).await?;
    Ok(BrokerDeals {
        broker: BrokerView::from(&b),
        earned_fen,
        pending_fen,
        deals: Page {
            items: rows.iter().map(EngagementView::from).collect(),
            total,
            page,
            per_page,
        },
    })
}

#[cfg(test)]
mod tests {
    use crate::i18n::{self, Lang};

    #[test]
    fn every_error_of_this_area_is_translated() {
        for code in [
            "broker_exists",
            "certificate_no_taken",
            "broker_not_active",
            "broker_only",
            "broker_already_engaged",
            "engagement_not_proposed",
            "not_your_side",
        ] {
            for lang in [Lang::Zh, Lang::En] {
                assert!(
                    i18n::catalog(lang).contains_key(&format!("error.{code}")),
                    "error.{code} ({})",
                    lang.code()
                );
            }
        }
    }
}
