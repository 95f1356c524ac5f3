//! Transaction certificates (交易鉴证书): what a certificate shows, its canonical bytes, and the seal
//! (HMAC-SHA256 with a server secret) that makes a certificate altered in the database fail to verify.
//! Pure: the key and every value are passed in.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Everything a certificate shows, as stored. The seal covers all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateContent {
    pub number: String,
    pub trade_id: String,
    /// Microseconds since the epoch (Postgres precision).
    pub issued_at_micros: i64,
    pub seller_name: String,
    pub seller_exchange: String,
    pub buyer_name: String,
    pub buyer_exchange: String,
    pub listing_id: String,
    pub listing_title: String,
    pub ip_numbers: Vec<String>,
    pub transaction_mode: String,
    pub price_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub fee_schedule_id: String,
    pub fee_schedule_name: String,
    /// The hash of the last ledger entry of the trade's settlement.
    pub ledger_hash: Vec<u8>,
    /// A trade settled by a dispute decided as a split: (the part of the price settled to the
    /// seller, the rest refunded to the buyer).
    pub split: Option<(i64, i64)>,
}

/// Version tag of the canonical form; a new form gets a new tag.
const FORM: &[u8] = b"techmarket-certificate-v1";

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    // Length-prefixed, so no two different contents share their bytes.
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl CertificateContent {
    /// The bytes the seal is computed over: every field in a fixed order, each length-prefixed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        field(&mut out, FORM);
        field(&mut out, self.number.as_bytes());
        field(&mut out, self.trade_id.as_bytes());
        field(&mut out, &self.issued_at_micros.to_be_bytes());
        field(&mut out, self.seller_name.as_bytes());
        field(&mut out, self.seller_exchange.as_bytes());
        field(&mut out, self.buyer_name.as_bytes());
        field(&mut out, self.buyer_exchange.as_bytes());
        field(&mut out, self.listing_id.as_bytes());
        field(&mut out, self.listing_title.as_bytes());
        field(&mut out, &(self.ip_numbers.len() as u64).to_be_bytes());
        for n in &self.ip_numbers {
            field(&mut out, n.as_bytes());
        }
        field(&mut out, self.transaction_mode.as_bytes());
        field(&mut out, &self.price_fen.to_be_bytes());
        field(&mut out, &self.buyer_fee_fen.to_be_bytes());
        field(&mut out, &self.seller_fee_fen.to_be_bytes());
        field(&mut out, self.fee_schedule_id.as_bytes());
        field(&mut out, self.fee_schedule_name.as_bytes());
        field(&mut out, &self.ledger_hash);
        // Only a split's certificate has these: every other certificate's bytes (and seal) are as
        // they were before splits were certified.
        if let Some((share, refund)) = self.split {
            field(&mut out, b"split");
            field(&mut out, &share.to_be_bytes());
            field(&mut out, &refund.to_be_bytes());
        }
        out
    }

    fn mac(&self, key: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
        mac.update(&self.canonical_bytes());
        Some(mac)
    }

    /// The seal of this content under `key`.
    pub fn seal(&self, key: &[u8]) -> Vec<u8> {
        self.mac(key)
            .map(|m| m.finalize().into_bytes().to_vec())
            .unwrap_or_default()
    }

    /// Whether `seal` is this content's seal under `key` (constant-time comparison).
    pub fn verify(&self, key: &[u8], seal: &[u8]) -> bool {
        !seal.is_empty() && self.mac(key).is_some_and(|m| m.verify_slice(seal).is_ok())
    }
}

/// Alphabet of the number's random part: Crockford base32 (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A certificate number: `TMC-<year>-<serial, 6 digits>-<8 random characters>`. The random part
/// keeps numbers from being guessed from the serial (the verification page is public).
pub fn number(year: i32, serial: i64, random: [u8; 8]) -> String {
    let (head, tail) = number_parts(year, random);
    format!("{head}{serial:0SERIAL_DIGITS$}{tail}")
}

/// The serial's least number of digits (zero-padded) in a certificate number.
pub const SERIAL_DIGITS: usize = 6;

/// A certificate number around its serial: `("TMC-<year>-", "-<8 random characters>")`, for a
/// writer that takes the serial from the database's sequence in the statement that stores it
/// (`number(year, serial, random)` is `head`, the serial zero-padded to [`SERIAL_DIGITS`], `tail`).
pub fn number_parts(year: i32, random: [u8; 8]) -> (String, String) {
    let tail: String = random
        .iter()
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    (format!("TMC-{year}-"), format!("-{tail}"))
}

/// Whether `s` can be a certificate number (checked before any query).
pub fn looks_like_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 4
        && parts[0] == "TMC"
        && parts[1].len() == 4
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && (6..=12).contains(&parts[2].len())
        && parts[2].bytes().all(|b| b.is_ascii_digit())
        && parts[3].len() == 8
        && parts[3].bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn content() -> CertificateContent {
        CertificateContent {
            number: number(2026, 1, [1, 2, 3, 4, 5, 6, 7, 8]),
            trade_id: "0193f3c1-0000-7000-8000-000000000001".into(),
            issued_at_micros: 1_796_000_000_000_000,
            seller_name: "示例研究院".into(),
            seller_exchange: "suaee".into(),
            buyer_name: "示例汽车".into(),
            buyer_exchange: "cquaee".into(),
            listing_id: "0193f3c1-0000-7000-8000-000000000002".into(),
            listing_title: "页岩气勘探技术".into(),
            ip_numbers: vec!["ZL201710601862.3".into()],
            transaction_mode: "transfer".into(),
            price_fen: 350_000_000,
            buyer_fee_fen: 4_300_000,
            seller_fee_fen: 4_300_000,
            fee_schedule_id: "0193f3c1-0000-7000-8000-000000000003".into(),
            fee_schedule_name: "统一收费标准 v1".into(),
            ledger_hash: vec![7; 32],
            split: None,
        }
    }

    const KEY: &[u8] = &[42; 32];

    #[test]
    fn a_sealed_certificate_verifies_and_any_changed_field_does_not() {
        let c = content();
        let seal = c.seal(KEY);
        assert_eq!(seal.len(), 32);
        assert!(c.verify(KEY, &seal));
        assert!(!c.verify(&[43; 32], &seal), "another key");
        assert!(!c.verify(KEY, &[]), "no seal");
        type Change = Box<dyn Fn(&mut CertificateContent)>;
        let changes: Vec<Change> = vec![
            Box::new(|c| c.price_fen += 1),
            Box::new(|c| c.buyer_fee_fen -= 1),
            Box::new(|c| c.seller_fee_fen = 0),
            Box::new(|c| c.buyer_name.push('X')),
            Box::new(|c| c.seller_name = "别人".into()),
            Box::new(|c| c.listing_title.pop().map(|_| ()).unwrap_or(())),
            Box::new(|c| c.ip_numbers.push("ZL1".into())),
            Box::new(|c| c.ledger_hash[0] ^= 1),
            Box::new(|c| c.issued_at_micros += 1),
            Box::new(|c| c.fee_schedule_name.push('2')),
            Box::new(|c| c.transaction_mode = "exclusive_license".into()),
            Box::new(|c| c.number = number(2026, 2, [1, 2, 3, 4, 5, 6, 7, 8])),
            Box::new(|c| c.split = Some((175_000_000, 175_000_000))),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut altered = content();
            change(&mut altered);
            assert!(!altered.verify(KEY, &seal), "change {i} still verifies");
        }
    }

    #[test]
    fn a_splits_shares_are_sealed_and_others_keep_their_bytes() {
        let plain = content();
        let mut split = content();
        split.split = Some((175_000_000, 175_000_000));
        let seal = split.seal(KEY);
        assert!(split.verify(KEY, &seal));
        for altered in [
            Some((175_000_001, 174_999_999)),
            Some((175_000_000, 1)),
            None,
        ] {
            let mut c = split.clone();
            c.split = altered;
            assert!(!c.verify(KEY, &seal), "{altered:?} still verifies");
        }
        // A certificate without a split ends with its ledger hash, as before splits were certified.
        assert!(plain.canonical_bytes().ends_with(&[7; 32]));
        assert!(split
            .canonical_bytes()
            .starts_with(&plain.canonical_bytes()));
    }

    #[test]
    fn fields_do_not_run_into_each_other() {
        let mut a = content();
        let mut b = content();
        a.seller_name = "ab".into();
        a.seller_exchange = "c".into();
        b.seller_name = "a".into();
        b.seller_exchange = "bc".into();
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        a = content();
        b = content();
        a.ip_numbers = vec!["A".into(), "B".into()];
        b.ip_numbers = vec!["AB".into()];
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn numbers_have_a_serial_and_an_unguessable_part_and_are_recognised() {
        let n = number(2026, 123, [0, 31, 32, 255, 10, 11, 12, 13]);
        assert_eq!(n, "TMC-2026-000123-0Z0ZABCD");
        assert!(looks_like_number(&n));
        for bad in [
            "",
            "TMC-2026-000123",
            "TMC-2026-000123-0Z0ZABCI",
            "TMC-26-000123-0Z0ZABCD",
            "XYZ-2026-000123-0Z0ZABCD",
            "TMC-2026-000123-0Z0ZABC",
            "TMC-2026-000123-0Z0ZABCD-1",
            "TMC-2026-' or 1=1--",
        ] {
            assert!(!looks_like_number(bad), "{bad:?}");
        }
    }
}
