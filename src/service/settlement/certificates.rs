//! Transaction certificates (交易鉴证书): issued in the settlement's transaction (or, for a trade
//! settled before certificates existed, when first asked for), sealed once the settlement's ledger
//! entries are chained, verified publicly by number.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::certificates::CertificateRow;
use crate::db::settlement as sdb;
use crate::domain::certificate::{self, CertificateContent};
use crate::error::{Error, Result};
use crate::service::AppState;

use super::{flush, party_of};

/// What a certificate shows (the same for its parties and for the public verification page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    pub number: String,
    pub trade_id: Uuid,
    /// The trade's readable number (`TM-2026-000123`), which the printed certificate shows.
    pub trade_number: String,
    pub issued_at: DateTime<Utc>,
    /// Hex SHA-256 of the last ledger entry of the trade's settlement.
    pub ledger_hash: String,
    /// The public verification page (what the QR code points at).
    pub verify_url: String,
    pub seller: CertificateParty,
    pub buyer: CertificateParty,
    pub listing: CertificateListing,
    pub transaction_mode: String,
    pub price_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub fee_schedule: CertificateSchedule,
    /// A dispute decided as a split: the part of the price actually settled to the seller (its
    /// seller fee comes out of it) and the rest of the price refunded to the buyer. Absent when the
    /// whole price was settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seller_share_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_refund_fen: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateParty {
    pub name: String,
    pub exchange: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateListing {
    pub id: Uuid,
    pub title: String,
    pub ip_numbers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateSchedule {
    pub id: Uuid,
    pub name: String,
}

/// The public answer for a certificate number: whether it is genuine and, if it is, what it shows
/// (nothing of an altered certificate is repeated).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub number: String,
    pub genuine: bool,
    #[serde(flatten)]
    pub certificate: Option<CertificateView>,
}

/// The sealing key: one per database, shared by all processes (`server_secrets`), read once per process.
async fn key(pool: &PgPool) -> Result<Arc<Vec<u8>>> {
    static KEYS: LazyLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> = LazyLock::new(Default::default);
    let name = db::database_key(pool);
    if let Some(k) = KEYS.lock().ok().and_then(|m| m.get(&name).cloned()) {
        return Ok(k);
    }
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut fresh);
    let mut conn = pool.acquire().await?;
    let key = Arc::new(db::secrets::get_or_create(&mut conn, "certificate", &fresh).await?);
    if let Ok(mut m) = KEYS.lock() {
        m.insert(name, Arc::clone(&key));
    }
    Ok(key)
}

/// Writes the certificate of a trade that has just settled, in the settlement's transaction
/// (`settled_at` already stored). Does nothing if it has one.
pub async fn issue(
    conn: &mut PgConnection,
    trade_id: Uuid,
    settled_at: DateTime<Utc>,
) -> Result<()> {
    let serial = db::certificates::next_serial(conn).await?;
    let (year, random) = year_and_random(settled_at)?;
    let number = certificate::number(year, serial, random);
    db::certificates::insert_for_trade(conn, trade_id, &number).await?;
    Ok(())
}

/// The year of a certificate issued at `at` (in China, where it is issued) and its number's
/// random part.
fn year_and_random(at: DateTime<Utc>) -> Result<(i32, [u8; 8])> {
    let china = FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("UTC+8 offset")))?;
    let mut random = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut random);
    Ok((at.with_timezone(&china).year(), random))
}

/// Settles trade `t` at `at` (`by`: `buyer`, `acceptance_period`), issues its certificate and
/// pays its brokers, in one statement: what `sdb::set_settled`, [`issue`] and the brokers' part of
/// `brokers::settle` do. Returns `base` (the settlement's postings) with the brokers' commissions,
/// and whether any broker was engaged (`brokers::settle`). Call it holding the trade's lock, after
/// checking that the trade may settle.
pub async fn settle_and_issue(
    conn: &mut PgConnection,
    t: &sdb::TradeRow,
    base: Vec<crate::domain::ledger::Posting>,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(Vec<crate::domain::ledger::Posting>, bool)> {
    let (year, random) = year_and_random(at)?;
    let (head, tail) = certificate::number_parts(year, random);
    let digits = i32::try_from(certificate::SERIAL_DIGITS)
        .map_err(|e| Error::Internal(anyhow::anyhow!("serial digits: {e}")))?;
    let moved = db::certificates::settle_with_certificate(
        conn,
        t.id,
        at,
        by,
        &head,
        &tail,
        digits,
        crate::service::brokers::SETTLED_TO,
    )
    .await?;
    crate::service::brokers::settled(conn, t, base, moved).await
}

fn content(c: &CertificateRow, ledger_hash: Vec<u8>) -> CertificateContent {
    CertificateContent {
        number: c.number.clone(),
        trade_id: c.trade_id.to_string(),
        issued_at_micros: c.issued_at.timestamp_micros(),
        seller_name: c.seller_name.clone(),
        seller_exchange: c.seller_exchange.clone(),
        buyer_name: c.buyer_name.clone(),
        buyer_exchange: c.buyer_exchange.clone(),
        listing_id: c.listing_id.to_string(),
        listing_title: c.listing_title.clone(),
        ip_numbers: c.ip_numbers.clone(),
        transaction_mode: c.transaction_mode.clone(),
        price_fen: c.price_fen,
        buyer_fee_fen: c.buyer_fee_fen,
        seller_fee_fen: c.seller_fee_fen,
        fee_schedule_id: c.fee_schedule_id.to_string(),
        fee_schedule_name: c.fee_schedule_name.clone(),
        ledger_hash,
        split: c.seller_share_fen.zip(c.buyer_refund_fen),
    }
}

/// Seals a certificate that is not sealed yet: chains any pending ledger postings, takes the hash of
/// the settlement's last entry and stores it with the seal. Returns the row as stored after.
async fn sealed(pool: &PgPool, c: CertificateRow) -> Result<CertificateRow> {
    if c.seal.is_some() {
        return Ok(c);
    }
    flush(pool).await?;
    let mut conn = pool.acquire().await?;
    let Some(hash) = db::certificates::settlement_hash(&mut conn, c.trade_id, c.issued_at).await?
    else {
        return Err(Error::Internal(anyhow::anyhow!(
            "settled trade {} has no ledger entries",
            c.trade_id
        )));
    };
    let seal = content(&c, hash.clone()).seal(&key(pool).await?);
    db::certificates::set_seal(&mut conn, &c.number, &hash, &seal).await?;
    db::certificates::by_number(&mut conn, &c.number)
        .await?
        .ok_or(Error::NotFound)
}

fn view(state: &AppState, c: &CertificateRow) -> CertificateView {
    CertificateView {
        number: c.number.clone(),
        trade_id: c.trade_id,
        trade_number: c.trade_number.clone(),
        issued_at: c.issued_at,
        ledger_hash: c
            .ledger_hash
            .as_deref()
            .map(hex::encode)
            .unwrap_or_default(),
        verify_url: verify_url(state, &c.number),
        seller: CertificateParty {
            name: c.seller_name.clone(),
            exchange: c.seller_exchange.clone(),
        },
        buyer: CertificateParty {
            name: c.buyer_name.clone(),
            exchange: c.buyer_exchange.clone(),
        },
        listing: CertificateListing {
            id: c.listing_id,
            title: c.listing_title.clone(),
            ip_numbers: c.ip_numbers.clone(),
        },
        transaction_mode: c.transaction_mode.clone(),
        price_fen: c.price_fen,
        buyer_fee_fen: c.buyer_fee_fen,
        seller_fee_fen: c.seller_fee_fen,
        fee_schedule: CertificateSchedule {
            id: c.fee_schedule_id,
            name: c.fee_schedule_name.clone(),
        },
        seller_share_fen: c.seller_share_fen,
        buyer_refund_fen: c.buyer_refund_fen,
    }
}

/// The public verification page of certificate `number`.
pub fn verify_url(state: &AppState, number: &str) -> String {
    format!(
        "{}/certificates/{number}",
        state.config.public_url.trim_end_matches('/')
    )
}

/// The certificate of a settled trade, for its parties and admins (404 to anyone else, and for a
/// trade that has not settled). A trade settled before certificates existed gets its one now.
pub async fn for_trade(
    state: &AppState,
    user: &CurrentUser,
    trade_id: Uuid,
) -> Result<CertificateView> {
    let pool = &state.pool;
    let mut conn = pool.acquire().await?;
    let t = sdb::get_trade(&mut conn, trade_id)
        .await?
        .ok_or(Error::NotFound)?;
    party_of(user, &t).ok_or(Error::NotFound)?;
    let c = match db::certificates::by_trade(&mut conn, trade_id).await? {
        Some(c) => c,
        None => {
            let Some(settled_at) = t.settled_at.filter(|_| t.status == "settled") else {
                return Err(Error::NotFound);
            };
            let mut tx = pool.begin().await?;
            issue(&mut tx, trade_id, settled_at).await?;
            tx.commit().await?;
            db::certificates::by_trade(&mut conn, trade_id)
                .await?
                .ok_or(Error::NotFound)?
        }
    };
    drop(conn);
    let c = sealed(pool, c).await?;
    Ok(view(state, &c))
}

/// Public: whether certificate `number` is genuine — its seal matches its content under the server's
/// key and its ledger hash is an entry of its trade in the ledger. 404 for an unknown number.
pub async fn verify(state: &AppState, number: &str) -> Result<Verification> {
    let number = number.trim();
    if !certificate::looks_like_number(number) {
        return Err(Error::NotFound);
    }
    let pool = &state.pool;
    let c = {
        let mut conn = pool.acquire().await?;
        db::certificates::by_number(&mut conn, number)
            .await?
            .ok_or(Error::NotFound)?
    };
    let c = sealed(pool, c).await?;
    let (Some(hash), Some(seal)) = (c.ledger_hash.clone(), c.seal.clone()) else {
        return Ok(Verification {
            number: c.number,
            genuine: false,
            certificate: None,
        });
    };
    let mut conn = pool.acquire().await?;
    let genuine = content(&c, hash.clone()).verify(&key(pool).await?, &seal)
        && db::certificates::ledger_has(&mut conn, c.trade_id, &hash).await?;
    Ok(Verification {
        number: c.number.clone(),
        genuine,
        certificate: genuine.then(|| view(state, &c)),
    })
}
