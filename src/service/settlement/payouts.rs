//! Payouts (API.md "Trades and settlement"): what the market owes sellers (their proceeds) and
//! buyers (a dispute's refund) leaves the settlement account of the exchange where the buyer paid
//! in — the buyer's exchange — by bank transfer. Its admins see what is due, record each transfer
//! with the bank's reference (the payable of that trade and party goes to zero in the ledger), and
//! download the list for the bank as CSV.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::disputes::{NewPayout, PayoutRow};
use crate::db::settlement as sdb;
use crate::domain::dispute::{self, Payee};
use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, Event, TradeFacts};
use crate::service::idempotency::{self, Claim};
use crate::service::PageQuery;

use super::{csv_line, flush, micros, parse_exchange, post, shanghai_date, yuan};

/// Longest bank reference, in characters.
pub const MAX_BANK_REFERENCE: usize = 100;

/// `POST /admin/payouts`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayoutInput {
    pub trade_id: String,
    /// `seller` | `buyer`
    pub party: String,
    /// Must equal what is due to that party for that trade.
    pub amount_fen: i64,
    /// The bank's reference of the transfer (流水号).
    pub bank_reference: String,
}

/// An amount due to a party of a trade, or paid out to it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayoutView {
    /// The payout's id; `null` while it is due.
    pub id: Option<Uuid>,
    /// `due` | `paid`
    pub status: String,
    pub trade_id: Uuid,
    pub trade_number: String,
    pub listing_title: String,
    /// `seller` | `buyer`
    pub party: String,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub credit_code: Option<String>,
    pub amount_fen: i64,
    /// Owed since (the settlement, or the dispute's decision).
    pub due_since: Option<DateTime<Utc>>,
    pub bank_reference: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Who recorded it (e-mail).
    pub recorded_by: Option<String>,
}

impl From<PayoutRow> for PayoutView {
    fn from(r: PayoutRow) -> Self {
        PayoutView {
            status: if r.id.is_some() { "paid" } else { "due" }.into(),
            id: r.id,
            trade_id: r.trade_id,
            trade_number: r.number,
            listing_title: r.listing_title,
            party: r.party,
            organization_id: r.organization_id,
            organization_name: r.organization_name,
            credit_code: r.credit_code,
            amount_fen: r.amount_fen,
            due_since: r.due_since,
            bank_reference: r.bank_reference,
            paid_at: r.paid_at,
            recorded_by: r.recorded_by_email,
        }
    }
}

/// A page of payouts in the list format, with the sum of all of them (not only this page).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayoutList {
    pub items: Vec<PayoutView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// `due` | `paid`
    pub status: String,
    /// The exchange whose settlement account pays.
    pub exchange: String,
    /// Sum of `amount_fen` over every item of the list.
    pub total_amount_fen: i64,
}

fn parse_status(status: Option<&str>) -> Result<&'static str> {
    match status.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("due") => Ok("due"),
        Some("paid") => Ok("paid"),
        Some(other) => {
            let mut f = FieldErrors::default();
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

/// What the admin's exchange's account owes (`due`, oldest first) or paid out (`paid`, newest
/// first), with the total.
pub async fn payouts(
    pool: &PgPool,
    user: &CurrentUser,
    status: Option<&str>,
    page: PageQuery,
) -> Result<PayoutList> {
    let exchange = user.require_admin()?;
    let status = parse_status(status)?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let offset = (page - 1) * per_page;
    let (rows, total, sum) = if status == "due" {
        db::disputes::due(&mut conn, exchange.code(), per_page, offset).await?
    } else {
        db::disputes::paid(&mut conn, exchange.code(), per_page, offset).await?
    };
    Ok(PayoutList {
        items: rows.into_iter().map(PayoutView::from).collect(),
        total,
        page,
        per_page,
        status: status.into(),
        exchange: exchange.code().into(),
        total_amount_fen: sum,
    })
}

/// An admin of the buyer's exchange records a bank transfer to a party of a trade: the amount must
/// be what is due (422 otherwise; 409 `nothing_due` when nothing is, e.g. paid out already); an
/// admin of another exchange gets 403 `other_exchange`. Audited, told to the payee, posted to the
/// ledger (payable → bank). Honours `Idempotency-Key`.
pub async fn record_payout(
    pool: &PgPool,
    user: &CurrentUser,
    input: PayoutInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(StatusCode, serde_json::Value)> {
    let exchange = user.require_admin()?;
    let mut errs = FieldErrors::new();
    let trade_id = Uuid::parse_str(input.trade_id.trim()).ok();
    if trade_id.is_none() {
        errs.push("trade_id", "err.payout.trade", vec![]);
    }
    let payee = Payee::parse(input.party.trim());
    if payee.is_none() {
        errs.push(
            "party",
            "err.code.unknown",
            vec![("value", input.party.clone())],
        );
    }
    if input.amount_fen <= 0 {
        errs.push("amount_fen", "err.payout.amount", vec![("due", "—".into())]);
    }
    let reference = input.bank_reference.trim();
    if reference.is_empty()
        || reference.chars().count() > MAX_BANK_REFERENCE
        || reference.chars().any(char::is_control)
    {
        errs.push("bank_reference", "err.payout.reference", vec![]);
    }
    errs.into_result()?;
    let (Some(trade_id), Some(payee)) = (trade_id, payee) else {
        return Err(Error::Internal(anyhow::anyhow!("checked above")));
    };
    let fp = idempotency::fingerprint("payout.record", &input);
    let mut tx = match idempotency::begin(pool, user.id, key, &fp).await? {
        Claim::Replay(status, body) => return Ok((status, body)),
        Claim::Fresh(tx) => tx,
    };
    let Some(t) = sdb::lock_trade(&mut tx, trade_id).await? else {
        let mut f = FieldErrors::new();
        f.push("trade_id", "err.payout.trade", vec![]);
        return Err(Error::Validation(f));
    };
    if t.buyer_exchange != exchange.code() {
        // The money is in the buyer's exchange's account; only its admins send it on.
        return Err(Error::Forbidden("other_exchange"));
    }
    let due = db::disputes::due_for(&mut tx, exchange.code(), t.id, payee.code())
        .await?
        .ok_or_else(|| Error::conflict("nothing_due"))?;
    if due.amount_fen != input.amount_fen {
        let mut f = FieldErrors::new();
        f.push(
            "amount_fen",
            "err.payout.amount",
            vec![("due", crate::domain::money::format_yuan(due.amount_fen))],
        );
        return Err(Error::Validation(f));
    }
    let now = micros(now);
    let row = db::disputes::insert_payout(
        &mut tx,
        &NewPayout {
            id: Uuid::now_v7(),
            trade_id: t.id,
            party: payee.code(),
            organization_id: due.organization_id,
            exchange: exchange.code(),
            amount_fen: due.amount_fen,
            bank_reference: reference,
            recorded_by: user.person_id(),
            at: now,
        },
    )
    .await?;
    audit(
        &mut tx,
        user,
        "payout.record",
        "trade",
        t.id,
        None,
        Some(serde_json::json!({
            "payout_id": row.id, "party": payee.code(), "organization_id": due.organization_id,
            "amount_fen": due.amount_fen, "bank_reference": reference,
            "bank_account": crate::domain::ledger::bank_account(exchange),
        })),
    )
    .await?;
    events::emit(
        &mut tx,
        &Event::PayoutRecorded {
            trade: TradeFacts::from(&t),
            number: t.number.clone(),
            payee,
            organization_id: due.organization_id,
            amount_fen: due.amount_fen,
            bank_reference: reference.to_string(),
        },
    )
    .await?;
    let postings = dispute::payout_postings(
        payee,
        &due.organization_id.to_string(),
        parse_exchange(&t.buyer_exchange)?,
        due.amount_fen,
    );
    post(&mut tx, Some(t.id), &postings, now).await?;
    let body =
        serde_json::to_value(PayoutView::from(row)).map_err(|e| Error::Internal(e.into()))?;
    idempotency::finish(tx, user.id, key, StatusCode::CREATED, &body).await?;
    if let Err(e) = flush(pool).await {
        tracing::warn!(error = ?e, "ledger flush failed; postings stay pending");
    }
    Ok((StatusCode::CREATED, body))
}

pub const PAYOUTS_CSV_HEADER: [&str; 10] = [
    "交易编号",
    "收款方",
    "收款机构",
    "统一社会信用代码",
    "金额（元）",
    "金额（分）",
    "转账附言",
    "应付日期",
    "成果名称",
    "交易ID",
];

/// The payouts due from the admin's exchange's account as CSV for the bank (UTF-8 with a BOM),
/// oldest first, one row per transfer (no total row, so that it imports as it is; the page shows
/// the totals). The reference to quote is the trade number and the payee.
pub async fn payouts_csv(pool: &PgPool, user: &CurrentUser) -> Result<String> {
    let exchange = user.require_admin()?;
    let mut conn = pool.acquire().await?;
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_line(
        &PAYOUTS_CSV_HEADER
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    ));
    const BATCH: i64 = 1_000;
    let mut offset = 0;
    loop {
        let (rows, _, _) = db::disputes::due(&mut conn, exchange.code(), BATCH, offset).await?;
        let n = rows.len() as i64;
        for r in rows {
            let payee = Payee::parse(&r.party)
                .map(|p| p.name_zh())
                .unwrap_or("")
                .to_string();
            out.push_str(&csv_line(&[
                r.number.clone(),
                payee.clone(),
                r.organization_name,
                r.credit_code.unwrap_or_default(),
                yuan(r.amount_fen),
                r.amount_fen.to_string(),
                format!("{} {}", r.number, payee),
                r.due_since.as_ref().map(shanghai_date).unwrap_or_default(),
                r.listing_title,
                r.trade_id.to_string(),
            ]));
        }
        if n < BATCH {
            break;
        }
        offset += BATCH;
    }
    Ok(out)
}
