//! Two-factor sign-in: TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, through the `totp-rs` crate) and
//! one-time recovery codes. Pure: the secret, the time and the randomness are passed in.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// Seconds per TOTP step.
pub const STEP: u64 = 30;
/// Steps accepted on either side of the current one (clock drift, typing time).
pub const SKEW: i64 = 1;
/// Bytes of a new TOTP secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "techmarket";

fn totp(secret: &[u8], account: &str) -> Option<TOTP> {
    // The label may not contain ':' (it separates issuer and account).
    let account = account.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        STEP,
        secret.to_vec(),
        Some(ISSUER.to_string()),
        account,
    )
    .ok()
}

/// The `otpauth://totp/...` URI of a secret, for an authenticator app (or its QR code).
pub fn uri(secret: &[u8], account: &str) -> Option<String> {
    totp(secret, account).map(|t| t.get_url())
}

/// The secret in base32, for typing into an app by hand.
pub fn secret_base32(secret: &[u8]) -> String {
    totp(secret, "")
        .map(|t| t.get_secret_base32())
        .unwrap_or_default()
}

/// The step (30-second period since the epoch) of a moment.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP as i64)
}

/// The code of a step.
pub fn code_at_step(secret: &[u8], step: i64) -> Option<String> {
    let t = totp(secret, "")?;
    Some(t.generate(u64::try_from(step).ok()? * STEP))
}

/// The step whose code `code` is, among the steps within `SKEW` of `now` that come after
/// `last_used` (so a code is accepted once and an older one never after a newer one); `None` when
/// the code is not one of them.
pub fn accepted_step(secret: &[u8], code: &str, unix_seconds: i64, last_used: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_seconds);
    (now - SKEW..=now + SKEW)
        .filter(|s| *s > last_used && *s >= 0)
        .find(|s| {
            code_at_step(secret, *s)
                .is_some_and(|expected| bool::from(expected.as_bytes().ct_eq(code.as_bytes())))
        })
}

/// Alphabet of recovery codes: Crockford base32 (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A recovery code from 10 random bytes: `XXXXX-XXXXX` (50 bits).
pub fn recovery_code(random: [u8; 10]) -> String {
    let chars: String = random
        .iter()
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// What is stored of a recovery code: SHA-256 of its normalised form (upper case, no separators,
/// O read as 0, I and L as 1, as Crockford base32 reads them). The codes are random, so a fast hash
/// is enough (as for API tokens).
pub fn recovery_hash(code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    Sha256::digest(normal.as_bytes()).to_vec()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (its 8-digit values, last 6 digits).
    #[test]
    fn codes_are_those_of_rfc_6238() {
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at_step(secret, step_of(t)).unwrap(), code, "t = {t}");
        }
    }

    #[test]
    fn a_code_is_accepted_in_its_window_once_and_never_after_a_newer_one() {
        let secret = [7u8; SECRET_BYTES];
        let now = 1_800_000_000i64;
        let s = step_of(now);
        let code = code_at_step(&secret, s).unwrap();
        assert_eq!(accepted_step(&secret, &code, now, -1), Some(s));
        // Replayed: the step is used.
        assert_eq!(accepted_step(&secret, &code, now, s), None);
        // The previous and next steps' codes pass (drift), the ones beyond do not.
        let prev = code_at_step(&secret, s - 1).unwrap();
        let next = code_at_step(&secret, s + 1).unwrap();
        let far = code_at_step(&secret, s + 2).unwrap();
        assert_eq!(accepted_step(&secret, &prev, now, -1), Some(s - 1));
        assert_eq!(accepted_step(&secret, &next, now, -1), Some(s + 1));
        if far != code && far != prev && far != next {
            assert_eq!(accepted_step(&secret, &far, now, -1), None);
        }
        // An older code after a newer one was used: refused.
        assert_eq!(accepted_step(&secret, &prev, now, s), None);
        // Not six digits, or another secret's code.
        for bad in ["", "12345", "1234567", "abcdef", " 12 34 5"] {
            assert_eq!(accepted_step(&secret, bad, now, -1), None, "{bad:?}");
        }
        let other = code_at_step(&[8u8; SECRET_BYTES], s).unwrap();
        if other != code && other != prev && other != next {
            assert_eq!(accepted_step(&secret, &other, now, -1), None);
        }
    }

    #[test]
    fn the_uri_names_the_issuer_and_account_and_carries_the_secret() {
        let secret = [1u8; SECRET_BYTES];
        let u = uri(&secret, "admin-suaee@x.cn").unwrap();
        assert!(
            u.starts_with("otpauth://totp/techmarket:admin-suaee%40x.cn?"),
            "{u}"
        );
        assert!(
            u.contains(&format!("secret={}", secret_base32(&secret))),
            "{u}"
        );
        assert!(u.contains("issuer=techmarket"), "{u}");
        assert!(uri(&secret, "a:b@x.cn").is_some());
        assert!(uri(&[1u8; 8], "short secret").is_none());
    }

    #[test]
    fn recovery_codes_are_read_forgivingly_and_stored_hashed() {
        let c = recovery_code([0, 1, 2, 3, 4, 5, 6, 7, 8, 31]);
        assert_eq!(c, "01234-5678Z");
        assert_eq!(recovery_hash(&c), recovery_hash("0l234 5678z"));
        assert_eq!(recovery_hash(&c), recovery_hash("O1234-5678Z"));
        assert_ne!(recovery_hash(&c), recovery_hash("01234-5678Y"));
        assert_eq!(recovery_hash(&c).len(), 32);
    }
}
