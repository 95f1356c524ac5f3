//! Two-factor sign-in (TOTP, RFC 6238): mandatory for exchange administrators (their secret is made
//! with the account, `techmarket admin create` prints it), optional for members (enrolment on the
//! account page: a QR code, a confirming code, then ten one-time recovery codes). Checked by
//! `accounts::login` after the password; wrong codes count as failed logins there.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::users::UserRow;
use crate::domain::otp;
use crate::error::{Error, Result};

/// What the login form or body carried besides the password.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecondFactor<'a> {
    pub otp: Option<&'a str>,
    pub recovery_code: Option<&'a str>,
}

/// The outcome of the second factor of a login whose password was right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Two-factor sign-in is off for this member.
    NotRequired,
    /// A fresh valid code, or an unused recovery code (now used).
    Passed,
    /// Required and no code given: not a failed attempt (the password was right).
    Missing,
    /// A wrong, replayed or used code: counts as a failed login.
    Wrong,
}

fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; otp::SECRET_BYTES];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut s);
    s
}

fn new_recovery_codes() -> Vec<String> {
    (0..otp::RECOVERY_CODES)
        .map(|_| {
            let mut r = [0u8; 10];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut r);
            otp::recovery_code(r)
        })
        .collect()
}

fn uri(secret: &[u8], email: &str) -> Result<String> {
    otp::uri(secret, email).ok_or_else(|| Error::Internal(anyhow::anyhow!("TOTP secret refused")))
}

/// An enrolment made at once (an administrator's): the URI for the app and the recovery codes,
/// shown once.
#[derive(Debug, Clone)]
pub struct Issued {
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
}

/// Gives `user_id` a new, enabled secret and ten new recovery codes (replacing any before), in the
/// caller's transaction.
pub async fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Issued> {
    let secret = new_secret();
    let otpauth_uri = uri(&secret, email)?;
    db::two_factor::put(conn, user_id, &secret, Some(now)).await?;
    let recovery_codes = new_recovery_codes();
    let hashes: Vec<Vec<u8>> = recovery_codes
        .iter()
        .map(|c| otp::recovery_hash(c))
        .collect();
    db::two_factor::replace_recovery(conn, user_id, &hashes).await?;
    Ok(Issued {
        otpauth_uri,
        recovery_codes,
    })
}

/// Checks the second factor of `user`, whose password was right. Administrators always need one.
pub async fn check(
    conn: &mut PgConnection,
    user: &UserRow,
    second: SecondFactor<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let row = db::two_factor::get(conn, user.id)
        .await?
        .filter(|r| r.enabled_at.is_some());
    let Some(row) = row else {
        // An administrator without an enabled secret cannot sign in until one is issued
        // (`techmarket admin two-factor`).
        return Ok(if user.role == "admin" {
            if second.otp.is_some() || second.recovery_code.is_some() {
                Outcome::Wrong
            } else {
                Outcome::Missing
            }
        } else {
            Outcome::NotRequired
        });
    };
    let otp_code = second.otp.map(str::trim).filter(|c| !c.is_empty());
    let recovery = second
        .recovery_code
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(code) = otp_code {
        let Some(step) = otp::accepted_step(&row.secret, code, now.timestamp(), row.last_step)
        else {
            return Ok(Outcome::Wrong);
        };
        // Conditional on the last step, so two logins racing with one code cannot both pass.
        return Ok(if db::two_factor::use_step(conn, user.id, step).await? {
            Outcome::Passed
        } else {
            Outcome::Wrong
        });
    }
    if let Some(code) = recovery {
        if code.len() > 64 {
            return Ok(Outcome::Wrong);
        }
        let used =
            db::two_factor::use_recovery(conn, user.id, &otp::recovery_hash(code), now).await?;
        return Ok(if used {
            Outcome::Passed
        } else {
            Outcome::Wrong
        });
    }
    Ok(Outcome::Missing)
}

/// The two-factor state of the signed-in user, for the account page.
#[derive(Debug, Clone)]
pub struct Status {
    pub enabled: bool,
    /// Administrators may not turn it off.
    pub required: bool,
    pub recovery_left: i64,
}

pub async fn status(pool: &PgPool, user: &CurrentUser) -> Result<Status> {
    let mut conn = pool.acquire().await?;
    let row = db::two_factor::get(&mut conn, user.id).await?;
    Ok(Status {
        enabled: row.is_some_and(|r| r.enabled_at.is_some()),
        required: user.is_admin(),
        recovery_left: db::two_factor::recovery_left(&mut conn, user.id).await?,
    })
}

/// A pending enrolment: what the app needs (URI for the QR code, the secret to type in).
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub otpauth_uri: String,
    pub secret_base32: String,
}

/// Begins (or shows again) the enrolment of a user who has no enabled second factor.
pub async fn begin(pool: &PgPool, user: &CurrentUser) -> Result<Enrolment> {
    let mut conn = pool.acquire().await?;
    let email = db::users::get(&mut conn, user.id)
        .await?
        .ok_or(Error::NotFound)?
        .email;
    let secret = match db::two_factor::get(&mut conn, user.id).await? {
        Some(r) if r.enabled_at.is_some() => {
            return Err(Error::Conflict {
                code: "two_factor_enabled",
                args: vec![],
                extra: None,
            })
        }
        Some(r) => r.secret,
        None => {
            let s = new_secret();
            db::two_factor::put(&mut conn, user.id, &s, None).await?;
            s
        }
    };
    Ok(Enrolment {
        otpauth_uri: uri(&secret, &email)?,
        secret_base32: otp::secret_base32(&secret),
    })
}

fn wrong_code() -> Error {
    let mut f = crate::domain::error::FieldErrors::default();
    f.push("otp", "err.otp.wrong", vec![]);
    Error::Validation(f)
}

/// Confirms a pending enrolment with a code from the app: turns it on and returns the ten recovery
/// codes (shown once).
pub async fn confirm(
    pool: &PgPool,
    user: &CurrentUser,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut tx = pool.begin().await?;
    let row = db::two_factor::get(&mut tx, user.id)
        .await?
        .ok_or(Error::NotFound)?;
    if row.enabled_at.is_some() {
        return Err(Error::Conflict {
            code: "two_factor_enabled",
            args: vec![],
            extra: None,
        });
    }
    let step = otp::accepted_step(&row.secret, code, now.timestamp(), row.last_step)
        .ok_or_else(wrong_code)?;
    if !db::two_factor::use_step(&mut tx, user.id, step).await? {
        return Err(wrong_code());
    }
    db::two_factor::enable(&mut tx, user.id, now).await?;
    let codes = new_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| otp::recovery_hash(c)).collect();
    db::two_factor::replace_recovery(&mut tx, user.id, &hashes).await?;
    tx.commit().await?;
    Ok(codes)
}

/// New recovery codes (the old ones stop working), against a current code.
pub async fn renew_recovery(
    pool: &PgPool,
    user: &CurrentUser,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut tx = pool.begin().await?;
    current_code(&mut tx, user, code, now).await?;
    let codes = new_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| otp::recovery_hash(c)).collect();
    db::two_factor::replace_recovery(&mut tx, user.id, &hashes).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Turns two-factor sign-in off (members only), against a current code.
pub async fn disable(
    pool: &PgPool,
    user: &CurrentUser,
    code: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if user.is_admin() {
        return Err(Error::Forbidden("two_factor_required"));
    }
    let mut tx = pool.begin().await?;
    current_code(&mut tx, user, code, now).await?;
    db::two_factor::delete(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(())
}

async fn current_code(
    conn: &mut PgConnection,
    user: &CurrentUser,
    code: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = db::two_factor::get(conn, user.id)
        .await?
        .filter(|r| r.enabled_at.is_some())
        .ok_or(Error::NotFound)?;
    let step = otp::accepted_step(&row.secret, code, now.timestamp(), row.last_step)
        .ok_or_else(wrong_code)?;
    if !db::two_factor::use_step(conn, user.id, step).await? {
        return Err(wrong_code());
    }
    Ok(())
}

/// For the command line: a new secret and recovery codes for the administrator `email` (an admin
/// made before two-factor sign-in existed, or one who lost the authenticator).
pub async fn reissue_for_admin(pool: &PgPool, email: &str, now: DateTime<Utc>) -> Result<Issued> {
    let mut tx = pool.begin().await?;
    let user = db::users::find_for_login(&mut tx, &email.trim().to_lowercase())
        .await?
        .map(|(u, _)| u)
        .filter(|u| u.role == "admin")
        .ok_or(Error::NotFound)?;
    let issued = issue(&mut tx, user.id, &user.email, now).await?;
    tx.commit().await?;
    Ok(issued)
}
