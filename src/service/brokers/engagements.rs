//! Engagements: a party to a trade awaiting payment proposes a certified broker for its own side
//! with a commission rate; the broker accepts or declines. One live engagement per side.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::brokers::EngagementRow;
use crate::db::settlement as sdb;
use crate::domain::brokers::{commission_fen, seller_can_pay, BrokerSide, MAX_COMMISSION_PPM};
use crate::domain::error::FieldErrors;
use crate::domain::listing::TradeStatus;
use crate::error::{Error, Result};
use crate::service::settlement::{micros, party_of, Party};

/// `POST /trades/{id}/broker`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EngageInput {
    pub broker_id: Uuid,
    /// `buyer` | `seller`: the caller's own side.
    pub side: String,
    /// 0 to 100 000 ppm (10%).
    pub commission_ppm: i64,
}

/// A broker engaged on one side of a trade.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EngagementView {
    pub id: Uuid,
    pub trade_id: Uuid,
    pub trade_number: String,
    /// The trade's status now.
    pub trade_status: String,
    pub listing_title: String,
    pub broker_id: Uuid,
    pub broker_name: String,
    pub certificate_no: String,
    /// `buyer` | `seller`: the side that engaged the broker and pays the commission.
    pub side: String,
    pub commission_ppm: i64,
    /// `floor((price_fen × commission_ppm + 500000) / 1000000)`.
    pub commission_fen: i64,
    /// `proposed` | `accepted` | `declined` | `cancelled` (the trade was cancelled or paid before
    /// the broker accepted) | `paid` (at settlement) | `refunded` (a dispute decided for the buyer).
    pub status: String,
    /// What the settlement paid the broker (a seller-side commission is capped at what a
    /// dispute's split leaves the seller).
    pub paid_fen: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<&EngagementRow> for EngagementView {
    fn from(r: &EngagementRow) -> Self {
        EngagementView {
            id: r.id,
            trade_id: r.trade_id,
            trade_number: r.trade_number.clone(),
            trade_status: r.trade_status.clone(),
            listing_title: r.listing_title.clone(),
            broker_id: r.broker_id,
            broker_name: r.broker_name.clone(),
            certificate_no: r.certificate_no.clone(),
            side: r.side.clone(),
            commission_ppm: r.commission_ppm,
            commission_fen: r.commission_fen,
            status: r.status.clone(),
            paid_fen: r.paid_fen,
            created_at: r.created_at,
            decided_at: r.decided_at,
            closed_at: r.closed_at,
        }
    }
}

impl EngagementView {
    pub fn is_status(&self, s: &str) -> bool {
        self.status == s
    }
    pub fn is_side(&self, s: &str) -> bool {
        self.side == s
    }
}

/// The accepted (and paid) engagements of a trade: `trade.brokers`.
pub async fn trade_brokers(conn: &mut PgConnection, trade_id: Uuid) -> Result<Vec<EngagementView>> {
    Ok(db::brokers::of_trade(conn, trade_id)
        .await?
        .iter()
        .filter(|e| matches!(e.status.as_str(), "accepted" | "paid"))
        .map(EngagementView::from)
        .collect())
}

/// Every engagement of a trade (the trade page shows proposals too), for a caller who may see it.
pub async fn trade_engagements(
    conn: &mut PgConnection,
    trade_id: Uuid,
) -> Result<Vec<EngagementView>> {
    Ok(db::brokers::of_trade(conn, trade_id)
        .await?
        .iter()
        .map(EngagementView::from)
        .collect())
}

fn check_input(input: &EngageInput) -> Result<BrokerSide> {
    let mut errs = FieldErrors::new();
    let side = BrokerSide::parse(input.side.trim());
    if side.is_none() {
        errs.push(
            "side",
            "err.code.unknown",
            vec![("value", input.side.clone())],
        );
    }
    if !(0..=MAX_COMMISSION_PPM).contains(&input.commission_ppm) {
        errs.push(
            "commission_ppm",
            "err.broker.commission_range",
            vec![("max", MAX_COMMISSION_PPM.to_string())],
        );
    }
    errs.into_result()?;
    side.ok_or_else(|| Error::Internal(anyhow::anyhow!("side checked above")))
}

/// A party engages a broker for its own side of a trade awaiting payment → 201 `proposed`.
/// 404 for a trade the caller may not see; 403 `party_only` for admins, `not_your_side` for the
/// other side; 422 for an unknown or revoked broker, a broker of the other party's organisation, a
/// rate above 10% or a seller-side commission above what the seller receives; 409
/// `invalid_trade_state` unless awaiting payment, `broker_already_engaged` for a side that has one.
pub async fn engage(
    pool: &PgPool,
    user: &CurrentUser,
    trade_id: Uuid,
    input: EngageInput,
    now: DateTime<Utc>,
) -> Result<EngagementView> {
    let side = check_input(&input)?;
    let mut tx = pool.begin().await?;
    let t = sdb::lock_trade(&mut tx, trade_id)
        .await?
        .ok_or(Error::NotFound)?;
    let party = party_of(user, &t).ok_or(Error::NotFound)?;
    let (mine, other_org) = match party {
        Party::Buyer => (BrokerSide::Buyer, t.seller_organization_id),
        Party::Seller => (BrokerSide::Seller, t.buyer_organization_id),
        Party::InvolvedAdmin(_) | Party::OtherAdmin(_) => {
            return Err(Error::Forbidden("party_only"))
        }
    };
    if side != mine {
        return Err(Error::Forbidden("not_your_side"));
    }
    let mut errs = FieldErrors::new();
    let broker = db::brokers::get(&mut tx, input.broker_id).await?;
    match &broker {
        Some(b) if b.active && db::brokers::lock(&mut tx, b.id).await? == Some(true) => {
            if b.organization_id == Some(other_org) {
                errs.push("broker_id", "err.broker.counterparty", vec![]);
            }
        }
        _ => errs.push("broker_id", "err.broker.unknown", vec![]),
    }
    let commission = commission_fen(t.price_fen, input.commission_ppm).unwrap_or(0);
    if side == BrokerSide::Seller && commission > seller_can_pay(t.price_fen, t.seller_fee_fen) {
        errs.push(
            "commission_ppm",
            "err.broker.commission_exceeds_proceeds",
            vec![(
                "max",
                crate::domain::money::format_yuan(seller_can_pay(t.price_fen, t.seller_fee_fen)),
            )],
        );
    }
    errs.into_result()?;
    if TradeStatus::parse(&t.status) != Some(TradeStatus::AwaitingPayment) {
        return Err(invalid_trade_state(&t.status));
    }
    let id = Uuid::now_v7();
    let inserted = db::brokers::insert(
        &mut tx,
        &db::brokers::NewEngagement {
            id,
            trade_id,
            broker_id: input.broker_id,
            side: side.code(),
            commission_ppm: input.commission_ppm,
            commission_fen: commission,
            by: user.person_id(),
            now: micros(now),
        },
    )
    .await?;
    if !inserted {
        return Err(Error::conflict("broker_already_engaged"));
    }
    let row = db::brokers::engagement(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("engagement vanished")))?;
    crate::service::events::emit(
        &mut tx,
        &crate::service::events::Event::BrokerEngagement(facts(&row, "proposed")),
    )
    .await?;
    tx.commit().await?;
    Ok(EngagementView::from(&row))
}

pub(super) fn facts(
    row: &EngagementRow,
    step: &'static str,
) -> crate::service::events::BrokerFacts {
    crate::service::events::BrokerFacts {
        engagement_id: row.id,
        trade_id: row.trade_id,
        trade_number: row.trade_number.clone(),
        broker_id: row.broker_id,
        broker_user_id: row.broker_user_id,
        broker_name: row.broker_name.clone(),
        side: row.side.clone(),
        side_organization_id: if row.side == "buyer" {
            row.buyer_organization_id
        } else {
            row.seller_organization_id
        },
        commission_fen: row.commission_fen,
        step,
    }
}

/// The broker accepts (`accept`) or declines a proposal. Only the broker (the trade's parties get
/// 403 `broker_only`, anyone else 404); 409 `engagement_not_proposed` once answered,
/// `invalid_trade_state` unless the trade still awaits payment, `broker_not_active` if revoked.
pub async fn answer(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    accept: bool,
    now: DateTime<Utc>,
) -> Result<EngagementView> {
    let mut tx = pool.begin().await?;
    let trade_id = db::brokers::trade_of(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    // The trade first, the lock every transition takes (module docs).
    let t = sdb::lock_trade(&mut tx, trade_id)
        .await?
        .ok_or(Error::NotFound)?;
    let e = db::brokers::engagement(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if e.broker_user_id != user.id {
        return match party_of(user, &t) {
            Some(_) => Err(Error::Forbidden("broker_only")),
            None => Err(Error::NotFound),
        };
    }
    if e.status != "proposed" {
        return Err(Error::Conflict {
            code: "engagement_not_proposed",
            args: vec![("status", e.status.clone())],
            extra: Some(serde_json::json!({"status": e.status})),
        });
    }
    if accept {
        if TradeStatus::parse(&t.status) != Some(TradeStatus::AwaitingPayment) {
            return Err(invalid_trade_state(&t.status));
        }
        if db::brokers::lock(&mut tx, e.broker_id).await? != Some(true) {
            return Err(Error::conflict("broker_not_active"));
        }
    }
    let status = if accept { "accepted" } else { "declined" };
    db::brokers::decide(&mut tx, id, status, micros(now)).await?;
    let row = db::brokers::engagement(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("engagement vanished")))?;
    crate::service::events::emit(
        &mut tx,
        &crate::service::events::Event::BrokerEngagement(facts(&row, status)),
    )
    .await?;
    tx.commit().await?;
    Ok(EngagementView::from(&row))
}

/// The engagements offered to the caller as a broker (newest first), for their inbox page.
pub async fn offered_to_me(pool: &PgPool, user: &CurrentUser) -> Result<Vec<EngagementView>> {
    let mut conn = pool.acquire().await?;
    let Some(b) = db::brokers::of_user(&mut conn, user.id).await? else {
        return Ok(vec![]);
    };
    let (rows, _) = db::brokers::of_broker(&mut conn, b.id, 100, 0).await?;
    Ok(rows.iter().map(EngagementView::from).collect())
}

fn invalid_trade_state(status: &str) -> Error {
    Error::Conflict {
        code: "invalid_trade_state",
        args: vec![("status", status.to_string())],
        extra: Some(serde_json::json!({"status": status})),
    }
}

/// Fills `brokers` of the trades of a list (one query).
pub async fn fill_brokers(
    conn: &mut PgConnection,
    trades: &mut [crate::service::settlement::TradeView],
) -> Result<()> {
    if trades.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = trades.iter().map(|t| t.id).collect();
    let rows = db::brokers::live_of_trades(conn, &ids).await?;
    for t in trades.iter_mut() {
        t.brokers = rows
            .iter()
            .filter(|e| e.trade_id == t.id)
            .map(EngagementView::from)
            .collect();
    }
    Ok(())
}
