//! A trade's statement (结算单): parties, listing, fee schedule, fees, and the fees the exchanges' own
//! schedules would have charged.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::settlement as sdb;
use crate::domain::codes::ContractType;
use crate::domain::fees::{self, SideSchedule};
use crate::domain::ledger::{Posting, Side};
use crate::domain::movements::{self, Holder};
use crate::error::{Error, Result};

use super::{flush, party_of, TradeView};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementParty {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub exchange: String,
    pub credit_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementListing {
    pub id: Uuid,
    pub title: String,
    pub ip_type: String,
    pub ip_numbers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementSchedule {
    pub id: Uuid,
    pub name: String,
    pub effective_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub buyer: SideSchedule,
    #[schema(value_type = Object)]
    pub seller: SideSchedule,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct FeePair {
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LegacyFees {
    pub sichuan: FeePair,
    pub chongqing: FeePair,
}

/// 结算单: everything a party or an auditor needs to see who pays what.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub trade: TradeView,
    pub seller: StatementParty,
    pub buyer: StatementParty,
    pub listing: StatementListing,
    pub contract_type: String,
    pub contract_type_name: String,
    pub price_fen: i64,
    pub fee_schedule: StatementSchedule,
    pub fees: FeePair,
    /// Price + buyer fee + the buyer's broker commission.
    pub buyer_pays_fen: i64,
    /// Price − seller fee − the seller's broker commission.
    pub seller_receives_fen: i64,
    /// A won auction's deposit (保证金), paid by the buyer to the trade's escrow at the close and
    /// counted toward `buyer_pays_fen` (0: none).
    pub deposit_applied_fen: i64,
    /// What the old rules would have charged on the same price.
    pub legacy: LegacyFees,
    /// Every movement of the trade's money, read back from its ledger postings in the order they
    /// were chained: the payment, a deposit applied, the seller's share, both fees, a refund, the
    /// payouts.
    pub movements: Vec<StatementMovement>,
    /// Brokers' commissions (技术经纪人佣金): each with who pays it and who receives it.
    pub commissions: Vec<StatementCommission>,
    pub issued_at: DateTime<Utc>,
}

/// One movement of a trade's money (from the ledger).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementMovement {
    /// The ledger transaction it belongs to.
    pub txn_id: Uuid,
    pub at: DateTime<Utc>,
    /// `payment` · `deposit_applied` · `to_seller` · `buyer_fee` · `seller_fee` · `refund` ·
    /// `deposit_forfeited` · `deposit_returned` · `payout_seller` · `payout_buyer` · `other`
    pub kind: String,
    /// Who the money leaves and who it reaches: `bank:{exchange}` (its settlement account),
    /// `escrow`, `seller`, `buyer` (what the market owes them), `revenue:{exchange}`, `deposit`.
    pub payer: String,
    pub payee: String,
    /// The ledger accounts debited and credited.
    pub debit_account: String,
    pub credit_account: String,
    pub amount_fen: i64,
}

/// The trade's ledger entries as movements (each transaction's postings read together).
fn movements_of(t: &sdb::TradeRow, entries: &[sdb::EntryRow]) -> Vec<StatementMovement> {
    let facts = movements::TradeFacts {
        buyer_exchange: &t.buyer_exchange,
        buyer_fee_fen: t.buyer_fee_fen,
        cancelled: t.status == "cancelled",
    };
    let mut out = Vec::new();
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let n = rest.iter().take_while(|e| e.txn_id == first.txn_id).count();
        let (txn, tail) = rest.split_at(n);
        rest = tail;
        let postings: Vec<Posting> = txn
            .iter()
            .map(|e| Posting {
                account: e.account.clone(),
                side: if e.side == "debit" {
                    Side::Debit
                } else {
                    Side::Credit
                },
                amount_fen: e.amount_fen,
            })
            .collect();
        for m in movements::of_transaction(&postings, facts) {
            out.push(StatementMovement {
                txn_id: first.txn_id,
                at: first.created_at,
                kind: m.kind.code().to_string(),
                payer: Holder::of_account(&m.from_account).code(),
                payee: Holder::of_account(&m.to_account).code(),
                debit_account: m.from_account,
                credit_account: m.to_account,
                amount_fen: m.amount_fen,
            });
        }
    }
    out
}

/// A broker's commission on the statement: paid by the side that engaged the broker, through the
/// trade's escrow, to the broker.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementCommission {
    /// `buyer` | `seller`
    pub side: String,
    /// The organisation that pays it (the side's).
    pub payer: String,
    pub broker_id: Uuid,
    /// The broker who receives it, and their certificate.
    pub payee: String,
    pub certificate_no: String,
    pub commission_ppm: i64,
    pub amount_fen: i64,
    /// `accepted` (paid at settlement) | `paid` | `refunded`
    pub status: String,
}

fn pair(q: fees::Quote) -> FeePair {
    FeePair {
        buyer_fee_fen: q.buyer_fee_fen,
        seller_fee_fen: q.seller_fee_fen,
        total_fee_fen: q.total_fee_fen,
    }
}

fn party_view(p: sdb::PartyRow) -> StatementParty {
    StatementParty {
        id: p.id,
        name: p.name,
        kind: p.kind,
        province: p.province,
        exchange: p.exchange,
        credit_code: p.credit_code,
    }
}

/// The settlement statement of a trade, for its parties and admins (404 to others).
pub async fn statement(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<Statement> {
    let mut conn = pool.acquire().await?;
    let t = sdb::get_trade(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    party_of(user, &t).ok_or(Error::NotFound)?;
    let missing = || Error::Internal(anyhow::anyhow!("trade {id} refers to a missing row"));
    let seller = sdb::party(&mut conn, t.seller_organization_id)
        .await?
        .ok_or_else(missing)?;
    let buyer = sdb::party(&mut conn, t.buyer_organization_id)
        .await?
        .ok_or_else(missing)?;
    let (title, ip_type, ip_numbers) = sdb::listing_ip(&mut conn, t.listing_id)
        .await?
        .ok_or_else(missing)?;
    let schedule = db::fees::get(&mut conn, t.fee_schedule_id)
        .await?
        .ok_or_else(missing)?;
    let deposit_applied_fen = crate::service::trading::applied_to_trade(&mut conn, id).await?;
    // Postings a request committed but did not chain yet are chained first.
    drop(conn);
    flush(pool).await?;
    let mut conn = pool.acquire().await?;
    let entries = sdb::trade_entries(&mut conn, id).await?;
    let contract = ContractType::parse(&t.contract_type);
    let mut view = TradeView::from(&t);
    view.brokers = crate::service::brokers::trade_brokers(&mut conn, id).await?;
    let commissions = crate::service::brokers::trade_engagements(&mut conn, id)
        .await?
        .into_iter()
        .filter(|e| matches!(e.status.as_str(), "accepted" | "paid" | "refunded"))
        .map(|e| StatementCommission {
            payer: if e.side == "buyer" {
                t.buyer_name.clone()
            } else {
                t.seller_name.clone()
            },
            side: e.side,
            broker_id: e.broker_id,
            payee: e.broker_name,
            certificate_no: e.certificate_no,
            commission_ppm: e.commission_ppm,
            amount_fen: e.paid_fen.unwrap_or(e.commission_fen),
            status: e.status,
        })
        .collect();
    Ok(Statement {
        commissions,
        contract_type: t.contract_type.clone(),
        contract_type_name: contract.map(|c| c.name_zh()).unwrap_or("").to_string(),
        price_fen: t.price_fen,
        fees: FeePair {
            buyer_fee_fen: t.buyer_fee_fen,
            seller_fee_fen: t.seller_fee_fen,
            total_fee_fen: t.buyer_fee_fen.saturating_add(t.seller_fee_fen),
        },
        buyer_pays_fen: view.buyer_pays_fen(),
        seller_receives_fen: view.seller_receives_fen(),
        deposit_applied_fen,
        legacy: LegacyFees {
            sichuan: pair(fees::legacy_sichuan().quote(t.price_fen)),
            chongqing: pair(fees::legacy_chongqing().quote(t.price_fen)),
        },
        movements: movements_of(&t, &entries),
        fee_schedule: StatementSchedule {
            id: schedule.id,
            name: schedule.name.clone(),
            effective_at: schedule.effective_at,
            buyer: schedule.buyer.0.clone(),
            seller: schedule.seller.0.clone(),
        },
        trade: view,
        seller: party_view(seller),
        buyer: party_view(buyer),
        listing: StatementListing {
            id: t.listing_id,
            title,
            ip_type,
            ip_numbers,
        },
        issued_at: Utc::now(),
    })
}
