//! `Idempotency-Key` (API.md): the same key from the same user within 24 h returns the first
//! response again and has no second effect.
//!
//! The key is claimed by inserting it (`ON CONFLICT DO NOTHING`) in the same transaction that does
//! the work and stores the response, so the effect and the saved response commit together. A
//! concurrent request with the same key waits on the unique index until the first commits, then
//! replays its response; if the first rolled back (an error), the second runs afresh.
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::db;
use crate::error::{Error, Result};

pub const MAX_KEY_LEN: usize = 200;

pub enum Claim {
    /// Do the work in this transaction, then call `finish`.
    Fresh(Transaction<'static, Postgres>),
    /// The first response, to send again.
    Replay(StatusCode, serde_json::Value),
}

/// A fingerprint of what was asked (route + body), so a key reused for something else is refused.
pub fn fingerprint(route: &str, body: &impl serde::Serialize) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(body).unwrap_or_default());
    h.finalize().to_vec()
}

pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.chars().count() > MAX_KEY_LEN {
        return Err(Error::bad_request("invalid_idempotency_key"));
    }
    Ok(())
}

/// Begins the transaction; with a key, claims it or finds the saved response.
pub async fn begin(
    pool: &PgPool,
    user: Uuid,
    key: Option<&str>,
    fingerprint: &[u8],
) -> Result<Claim> {
    let mut tx = pool.begin().await?;
    let Some(key) = key else {
        return Ok(Claim::Fresh(tx));
    };
    check_key(key)?;
    if db::idempotency::claim(&mut tx, user, key, fingerprint).await? {
        return Ok(Claim::Fresh(tx));
    }
    let row = db::idempotency::saved(&mut tx, user, key).await?;
    tx.rollback().await?;
    match row {
        Some((hash, Some(status), Some(body))) => {
            if hash != fingerprint {
                return Err(Error::conflict("idempotency_key_reused"));
            }
            let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
            let body = serde_json::from_slice(&body).map_err(|e| Error::Internal(e.into()))?;
            Ok(Claim::Replay(status, body))
        }
        // Purged between the two statements, or saved without a response: treat as in progress.
        _ => Err(Error::conflict("idempotency_in_progress")),
    }
}

/// Saves the response under the key (if any) and commits.
pub async fn finish(
    mut tx: Transaction<'static, Postgres>,
    user: Uuid,
    key: Option<&str>,
    status: StatusCode,
    body: &serde_json::Value,
) -> Result<()> {
    if let Some(key) = key {
        let body = serde_json::to_vec(body).map_err(|e| Error::Internal(e.into()))?;
        db::idempotency::save(&mut tx, user, key, status.as_u16() as i16, &body).await?;
    }
    tx.commit().await?;
    Ok(())
}
