//! Payment, delivery, the ledger, statements, credit restrictions, contract registration data.
//!
//! Every trade transition follows one shape: begin (claiming the Idempotency-Key, if any) → lock the
//! trade row → the domain decides → write the trade, audit, notify → append the ledger postings (the
//! chain head is locked last and only for a few statements) → store the response and commit.
//!
//! Rooms: `trades` (the trades and their transitions, the unpaid-trade deadline), `cancellations`
//! (a cancellation's reason and what follows a buyer's default), `payments`
//! (settlement accounts, payment instructions, reminders), `delivery` (the seller's delivery,
//! the buyer's acceptance period and the job that settles at its end), `attachments` (the files of a delivery), `disputes` (a party's
//! dispute, the admins' queue and decision), `payouts` (the bank
//! transfers out of the settlement account), `posting` (writing
//! the ledger: pending postings chained by group commit), `reports` (verifying and reading it),
//! `statements` (a trade's printable statement), `certificates` (its certificate), `exports` (the contract registration CSV),
//! `restrictions` (credit restrictions).

use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::service::AppState;

/// Delivery attachments: the seller's files, seen by the parties and their exchanges' admins.
mod attachments;
/// Cancellation with consequences: the reason, the buyer's count, the report to its exchange.
mod cancellations;
/// Transaction certificates (交易鉴证书): issue, seal, verify.
mod certificates;
/// Delivery and acceptance: the seller's delivery, the acceptance period and its job.
mod delivery;
/// Disputes: opening one, the admins' queue, the decision and its postings.
mod disputes;
/// The contract registration CSV (技术合同认定登记).
mod exports;
/// Paying in: settlement accounts, payment instructions, reminders before the deadline.
mod payments;
/// Payouts to sellers and refunds to buyers out of the settlement account, and their CSV.
mod payouts;
/// Writing the ledger: pending postings chained into `ledger_entries` by group commit.
mod posting;
/// Reading the ledger: chain verification, entries, balances, revenue.
mod reports;
/// Credit restrictions: set, lift, expire.
mod restrictions;
/// A trade's statement (结算单).
mod statements;
/// Trades: views, lists, payment, delivery, cancellation, the unpaid-trade deadline.
mod trades;

pub use attachments::*;
pub use cancellations::*;
pub use certificates::*;
pub use delivery::*;
pub use disputes::*;
pub use exports::*;
pub use payments::*;
pub use payouts::*;
pub use posting::*;
pub use reports::*;
pub use restrictions::*;
pub use statements::*;
pub use trades::*;

/// Unpaid trades are cancelled after this many days.
pub use crate::domain::trade::PAYMENT_DAYS;

/// Periodic work of this area (run by `jobs::slow_tick`, safe with several processes).
pub async fn run_jobs(state: &AppState) -> anyhow::Result<()> {
    // Postings left pending by a crash between commit and flush.
    flush(&state.pool)
        .await
        .map_err(|e| anyhow::anyhow!("ledger flush: {e}"))?;
    let settled = settle_accepted(&state.pool, state.clock.now()).await?;
    if settled > 0 {
        tracing::info!(
            settled,
            "trades settled at the end of their acceptance period"
        );
    }
    let reminded = remind_unpaid(&state.pool, state.clock.now()).await?;
    if reminded > 0 {
        tracing::info!(reminded, "payment reminders sent");
    }
    let cancelled = cancel_unpaid(&state.pool, state.clock.now()).await?;
    if cancelled > 0 {
        tracing::info!(cancelled, "unpaid trades cancelled");
    }
    let expired = expire_restrictions(&state.pool, state.clock.now()).await?;
    if expired > 0 {
        tracing::info!(expired, "credit restrictions reached their end date");
    }
    Ok(())
}

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the trading
/// demo made its trades. Moves them on through the real use cases, so the ledger, revenue and
/// statements have something to show: the first trade awaiting payment (a cross-province one if
/// any) is paid and settled, the next one paid. Does nothing once the ledger has entries.
pub async fn seed_demo(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let started: bool = sqlx::query_scalar("select exists(select 1 from ledger_entries)")
        .fetch_one(&mut *conn)
        .await?;
    if started {
        return Ok(());
    }
    let trades: Vec<(Uuid, String, Uuid)> = sqlx::query_as(
        "select t.id, t.buyer_exchange, t.buyer_organization_id from trades t \
         join exchanges b on b.code = t.buyer_exchange join exchanges s on s.code = t.seller_exchange \
         where t.status = 'awaiting_payment' order by (b.province <> s.province) desc, t.created_at limit 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (i, (trade, exchange, buyer_org)) in trades.into_iter().enumerate() {
        let admin: Option<Uuid> = sqlx::query_scalar(
            "select id from users where role = 'admin' and admin_exchange = $1 order by created_at limit 1",
        )
        .bind(&exchange)
        .fetch_optional(&mut *conn)
        .await?;
        let buyer: Option<Uuid> = sqlx::query_scalar(
            "select id from users where organization_id = $1 order by created_at limit 1",
        )
        .bind(buyer_org)
        .fetch_optional(&mut *conn)
        .await?;
        let (Some(admin), Some(buyer)) = (admin, buyer) else {
            continue;
        };
        let user = |id| {
            let pool = pool.clone();
            async move {
                let mut c = pool.acquire().await?;
                db::users::get(&mut c, id)
                    .await?
                    .map(|u| CurrentUser::from(&u))
                    .ok_or_else(|| anyhow::anyhow!("demo user {id} vanished"))
            }
        };
        act(
            pool,
            &user(admin).await?,
            trade,
            Action::PaymentReceived,
            None,
        )
        .await?;
        if i == 0 {
            act(
                pool,
                &user(buyer).await?,
                trade,
                Action::ConfirmDelivery,
                None,
            )
            .await?;
        }
    }
    Ok(())
}
