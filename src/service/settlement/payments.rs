//! Paying into the market: each exchange's settlement account (set by its admins), what a buyer is
//! told to pay (account, amount, reference, due date), and the reminder before the deadline.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::payments::SettlementAccountRow;
use crate::db::settlement as sdb;
use crate::domain::error::FieldErrors;
use crate::domain::trade;
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, Event, TradeFacts};

use super::{micros, party_of, Party, PAYMENT_DAYS};

/// Longest bank and account name, in characters.
pub const MAX_ACCOUNT_TEXT: usize = 200;
/// Longest account number, in characters.
pub const MAX_ACCOUNT_NUMBER: usize = 64;
/// A reminder goes to the buyer this long before the payment deadline.
pub const REMIND_BEFORE_HOURS: i64 = 24;

/// `PUT /admin/settlement-account`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettlementAccountInput {
    pub bank: String,
    pub account_name: String,
    pub account_number: String,
}

/// An exchange's settlement account.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettlementAccountView {
    pub exchange: String,
    pub bank: String,
    pub account_name: String,
    pub account_number: String,
    pub updated_at: DateTime<Utc>,
}

impl From<SettlementAccountRow> for SettlementAccountView {
    fn from(r: SettlementAccountRow) -> Self {
        SettlementAccountView {
            exchange: r.exchange,
            bank: r.bank,
            account_name: r.account_name,
            account_number: r.account_number,
            updated_at: r.updated_at,
        }
    }
}

/// Where and how much the buyer pays (API.md `GET /trades/{id}/payment-instructions`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentInstructions {
    pub bank: String,
    pub account_name: String,
    pub account_number: String,
    /// The trade number, to quote in the transfer.
    pub reference: String,
    /// Price + buyer fee + the buyer's broker commission, less a won auction's deposit already
    /// applied to it.
    pub amount_fen: i64,
    pub due_at: DateTime<Utc>,
    /// The exchange whose account it is (the buyer's).
    pub exchange: String,
    pub trade_id: Uuid,
    /// The trade's status (instructions matter while it is `awaiting_payment`).
    pub status: String,
}

fn check_text(path: &str, value: &str, max: usize, errs: &mut FieldErrors) {
    let v = value.trim();
    if v.is_empty() {
        errs.push(path, "err.text.required", vec![("min", "1".into())]);
    } else if v.chars().count() > max {
        errs.push(path, "err.text.too_long", vec![("max", max.to_string())]);
    } else if v.chars().any(char::is_control) {
        errs.push(path, "err.text.control_chars", vec![]);
    }
}

/// An admin sets their own exchange's account (audited).
pub async fn set_settlement_account(
    pool: &PgPool,
    user: &CurrentUser,
    input: SettlementAccountInput,
    now: DateTime<Utc>,
) -> Result<SettlementAccountView> {
    let exchange = user.require_admin()?;
    let mut errs = FieldErrors::new();
    check_text("bank", &input.bank, MAX_ACCOUNT_TEXT, &mut errs);
    check_text(
        "account_name",
        &input.account_name,
        MAX_ACCOUNT_TEXT,
        &mut errs,
    );
    check_text(
        "account_number",
        &input.account_number,
        MAX_ACCOUNT_NUMBER,
        &mut errs,
    );
    errs.into_result()?;
    let mut tx = pool.begin().await?;
    let before = db::payments::set_settlement_account(
        &mut tx,
        exchange.code(),
        input.bank.trim(),
        input.account_name.trim(),
        input.account_number.trim(),
        user.id,
        micros(now),
    )
    .await?;
    let after = db::payments::settlement_account(&mut tx, exchange.code())
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("settlement account vanished")))?;
    let json = |a: &SettlementAccountRow| serde_json::json!({"bank": a.bank, "account_name": a.account_name, "account_number": a.account_number});
    audit(
        &mut tx,
        user,
        "settlement_account.set",
        "exchange",
        exchange.code(),
        before.as_ref().map(json),
        Some(json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after.into())
}

/// An admin's own exchange's account.
pub async fn settlement_account(
    pool: &PgPool,
    user: &CurrentUser,
) -> Result<Option<SettlementAccountView>> {
    let exchange = user.require_admin()?;
    let mut conn = pool.acquire().await?;
    Ok(db::payments::settlement_account(&mut conn, exchange.code())
        .await?
        .map(Into::into))
}

/// Where the buyer of trade `id` pays: the settlement account of the buyer's exchange, price +
/// buyer fee, the trade number as reference, the payment deadline. The buyer and admins; the seller
/// gets 403 `buyer_only`, anyone else 404.
pub async fn payment_instructions(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
) -> Result<PaymentInstructions> {
    let mut conn = pool.acquire().await?;
    let t = sdb::get_trade(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    match party_of(user, &t).ok_or(Error::NotFound)? {
        Party::Seller => return Err(Error::Forbidden("buyer_only")),
        Party::Buyer | Party::InvolvedAdmin(_) | Party::OtherAdmin(_) => {}
    }
    let account = db::payments::settlement_account(&mut conn, &t.buyer_exchange)
        .await?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "no settlement account for {}",
                t.buyer_exchange
            ))
        })?;
    Ok(PaymentInstructions {
        bank: account.bank,
        account_name: account.account_name,
        account_number: account.account_number,
        reference: t.number.clone(),
        amount_fen: t
            .price_fen
            .saturating_add(t.buyer_fee_fen)
            .saturating_add(crate::service::brokers::buyer_commission_due(&mut conn, t.id).await?)
            .saturating_sub(crate::service::trading::applied_to_trade(&mut conn, t.id).await?),
        due_at: trade::payment_due_at(t.created_at),
        exchange: t.buyer_exchange.clone(),
        trade_id: t.id,
        status: t.status.clone(),
    })
}

/// Tells buyers whose payment falls due within [`REMIND_BEFORE_HOURS`] (once per trade, not once
/// it is overdue; safe with several processes). Returns how many were reminded.
pub async fn remind_unpaid(pool: &PgPool, now: DateTime<Utc>) -> Result<usize> {
    let made_before = now - Duration::days(PAYMENT_DAYS) + Duration::hours(REMIND_BEFORE_HOURS);
    let mut done = 0;
    loop {
        let mut tx = pool.begin().await?;
        let overdue = now - Duration::days(PAYMENT_DAYS);
        let ids =
            db::payments::take_reminders(&mut tx, overdue, made_before, micros(now), 50).await?;
        for id in &ids {
            if let Some(t) = sdb::get_trade(&mut tx, *id).await? {
                // Its broker's accepted commission is paid in with the price.
                let commission =
                    crate::service::brokers::buyer_commission_due(&mut tx, t.id).await?;
                let due = Event::TradePaymentDue {
                    trade: TradeFacts::from(&t),
                    number: t.number.clone(),
                    amount_fen: t
                        .price_fen
                        .saturating_add(t.buyer_fee_fen)
                        .saturating_add(commission),
                    due_at: trade::payment_due_at(t.created_at),
                };
                events::emit(&mut tx, &due).await?;
            }
        }
        tx.commit().await?;
        done += ids.len();
        if ids.len() < 50 {
            return Ok(done);
        }
    }
}
