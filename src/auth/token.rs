//! Opaque secrets: 32 random bytes shown once, stored only as SHA-256.
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new secret with a readable prefix (`tm_` for API tokens, `s_` for sessions, `c_` for CSRF).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Constant-time comparison of two secrets.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
