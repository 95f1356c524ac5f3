//! Argon2id (OWASP: 19 MiB, 2 iterations, 1 lane) on a fixed set of hashing threads with a bounded
//! queue: a login flood waits in the queue, and beyond it gets [`Busy`] (503 + `Retry-After`)
//! instead of piling up work and memory.
//!
//! Memory: each hashing thread owns one block buffer of the cost's size and reuses it for every hash,
//! so hashing holds `threads × 19 MiB`, allocated once, whatever the load. (Hashing on the blocking
//! pool with a fresh 19 MiB buffer each time grew the server from 16 MB to 641–835 MB under a
//! 15-second flood and kept it there: glibc raised its mmap threshold after the first free and then
//! served the buffers from per-thread arenas, one per blocking thread, never given back.)
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, LazyLock, Mutex};

use anyhow::Context;
use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// Requests that may wait for a hashing thread, per thread. With two threads, 32 waiting logins
/// are about half a second of work; the next one is told to come back (503).
pub const QUEUE_PER_THREAD: usize = 16;

/// The largest memory cost accepted from a stored hash (KiB): 64 MiB, a bound on what one stored
/// hash can make a thread allocate.
const MAX_M_COST: u32 = 64 * 1024;

/// The hashing queue is full: nothing was done; the caller answers 503 with `Retry-After`.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct Busy;

fn params() -> anyhow::Result<Params> {
    Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))
}

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<anyhow::Result<String>>,
    },
    Verify {
        password: String,
        stored: Option<String>,
        reply: oneshot::Sender<anyhow::Result<bool>>,
    },
}

struct Pool {
    queue: SyncSender<Job>,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let (queue, jobs) = sync_channel::<Job>(threads * QUEUE_PER_THREAD);
    let jobs = Arc::new(Mutex::new(jobs));
    for i in 0..threads {
        let jobs = Arc::clone(&jobs);
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || worker(&jobs));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a password hashing thread");
        }
    }
    Pool { queue }
});

fn worker(jobs: &Mutex<Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    // A hash of a password nobody has, verified against when the e-mail is unknown so that an
    // unknown e-mail and a wrong password take the same time.
    let dummy = hash_with(&mut memory, b"no such user, no such password").unwrap_or_default();
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_with(&mut memory, password.as_bytes()));
            }
            Job::Verify {
                password,
                stored,
                reply,
            } => {
                let result = match &stored {
                    Some(phc) => verify_with(&mut memory, password.as_bytes(), phc),
                    None => verify_with(&mut memory, password.as_bytes(), &dummy).map(|_| false),
                };
                let _ = reply.send(result);
            }
        }
    }
}

/// The thread's buffer, grown to `blocks` if needed (it is never shrunk: the next hash needs it).
fn blocks(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> anyhow::Result<String> {
    let params = params()?;
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(
            password,
            salt_raw,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string; an unreadable or oversized stored hash is `false`.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> anyhow::Result<bool> {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Ok(false);
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return Ok(false);
    };
    if params.m_cost() > MAX_M_COST {
        return Ok(false);
    }
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return Ok(false);
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    if argon
        .hash_password_into_with_memory(
            password,
            salt_raw,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .is_err()
    {
        return Ok(false);
    }
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).is_ok_and(|computed| computed == expected))
}

fn submit(job: Job) -> Result<(), Busy> {
    match POOL.queue.try_send(job) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(_)) => Err(Busy),
        Err(TrySendError::Disconnected(_)) => {
            tracing::error!("no password hashing thread is running");
            Err(Busy)
        }
    }
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`); `Err(Busy)` inside the error when the queue
/// is full.
pub async fn hash(password: String) -> anyhow::Result<String> {
    let (reply, answer) = oneshot::channel();
    submit(Job::Hash { password, reply })?;
    answer.await.context("hashing thread gone")?
}

/// Whether `password` matches `stored`; `None` verifies against a dummy hash and returns false.
/// `Err(Busy)` inside the error when the queue is full.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    let (reply, answer) = oneshot::channel();
    submit(Job::Verify {
        password,
        stored,
        reply,
    })?;
    answer.await.context("hashing thread gone")?
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_interoperate_with_the_argon2_crate() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!verify("correct horse battery".into(), None).await.unwrap());
        assert!(!verify("x".into(), Some("not a hash".into())).await.unwrap());
        // The crate's own verifier accepts ours, and ours accepts the crate's (stored hashes).
        use argon2::PasswordVerifier;
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        use argon2::PasswordHasher;
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap())
            .hash_password(b"another password", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("another password".into(), Some(theirs))
            .await
            .unwrap());
    }

    #[test]
    fn a_stored_hash_asking_for_too_much_memory_is_refused_without_hashing() {
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$\
                    YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
        let mut memory = Vec::new();
        assert!(!verify_with(&mut memory, b"x", huge).unwrap());
        assert!(memory.is_empty());
    }
}
