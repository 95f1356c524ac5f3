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

/// The form token of a visitor before sign-in: HMAC-SHA256 of their cookie's nonce under the
/// server's key, in hex. Only the server can make a matching pair, so a cookie/token pair that an
/// attacker picks (and plants with the cookie) is refused; the pair is bound to the browser's nonce.
pub fn bind(key: &[u8], nonce: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes keys of any length; unreachable, and an empty token matches no form.
        Err(_) => return String::new(),
    };
    mac.update(b"techmarket csrf v1:");
    mac.update(nonce.as_bytes());
    format!("f_{}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether a cookie value is a nonce this server could have issued (`c_` and 64 hex digits).
pub fn is_nonce(value: &str) -> bool {
    value.len() == 66
        && value.starts_with("c_")
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Constant-time comparison of two secrets.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_token_depends_on_the_key_and_the_nonce() {
        let nonce = generate("c_");
        assert!(is_nonce(&nonce));
        let t = bind(b"0123456789abcdef0123456789abcdef", &nonce);
        assert!(t.starts_with("f_") && t.len() == 66);
        assert_eq!(t, bind(b"0123456789abcdef0123456789abcdef", &nonce));
        assert_ne!(t, bind(b"another key, another key, another", &nonce));
        assert_ne!(
            t,
            bind(b"0123456789abcdef0123456789abcdef", &generate("c_"))
        );
        assert_ne!(t, nonce);
        for bad in [
            "",
            "c_",
            "c_xyz",
            &"c_".repeat(33),
            &format!("s_{}", &nonce[2..]),
        ] {
            assert!(!is_nonce(bad), "{bad}");
        }
    }
}
