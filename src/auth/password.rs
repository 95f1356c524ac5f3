//! Argon2id (OWASP: 19 MiB, 2 iterations, 1 lane), hashed on the blocking pool behind a
//! semaphore so that a login flood queues instead of starving other requests.
use std::sync::LazyLock;

use anyhow::Context;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    Semaphore::new(n)
});

fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _permit = HASHING
        .acquire()
        .await
        .context("hashing semaphore closed")?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await
    .context("hashing task failed")?
}

/// A hash of a password nobody has, verified against when the e-mail is unknown so that an
/// unknown e-mail and a wrong password take the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .ok()
        .and_then(|a| {
            a.hash_password(b"no such user, no such password", &salt)
                .ok()
        })
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Whether `password` matches `stored`; `None` verifies against a dummy hash and returns false.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    let _permit = HASHING
        .acquire()
        .await
        .context("hashing semaphore closed")?;
    tokio::task::spawn_blocking(move || {
        let (phc, real) = match stored {
            Some(s) => (s, true),
            None => (DUMMY_HASH.clone(), false),
        };
        let parsed = match PasswordHash::new(&phc) {
            Ok(p) => p,
            Err(_) => return Ok(false),
        };
        let ok = argon2()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && real)
    })
    .await
    .context("verification task failed")?
}
