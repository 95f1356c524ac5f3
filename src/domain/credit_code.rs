//! 统一社会信用代码 — the unified social credit code of GB 32100-2015.
//!
//! 18 characters from [`ALPHABET`] (digits and upper-case letters without I, O, S, V, Z); positions 3–8
//! are the administrative region code (digits); position 18 is a check character:
//! `C18 = (31 − Σ C_i·W_i mod 31) mod 31` with `W_i = 3^(i−1) mod 31`, as an index into the alphabet.

use super::codes::Province;
use super::error::{Args, ErrorKey};
use super::normalize::fold_width;

/// The 31 characters a credit code is made of; a character's index is its value.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// `W_i = 3^(i−1) mod 31` for i = 1..17.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A checked credit code, stored in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

/// Why a string is not a credit code. Positions are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a credit code has 18 characters, not {len}")]
    WrongLength { len: usize },
    #[error("character {ch:?} at position {position} cannot occur in a credit code")]
    BadChar { position: usize, ch: char },
    #[error("position {position} is in the region code and must be a digit")]
    RegionNotDigits { position: usize, ch: char },
    #[error("the check character should be {expected:?}, not {found:?}")]
    CheckMismatch { expected: char, found: char },
}

impl ErrorKey for CreditCodeError {
    fn key(&self) -> &'static str {
        match self {
            CreditCodeError::WrongLength { .. } => "err.credit_code.length",
            CreditCodeError::BadChar { .. } => "err.credit_code.bad_char",
            CreditCodeError::RegionNotDigits { .. } => "err.credit_code.region_not_digits",
            CreditCodeError::CheckMismatch { .. } => "err.credit_code.check_mismatch",
        }
    }

    fn args(&self) -> Args {
        match self {
            CreditCodeError::WrongLength { len } => vec![("len", len.to_string())],
            CreditCodeError::BadChar { position, ch } => {
                vec![("position", position.to_string()), ("ch", ch.to_string())]
            }
            CreditCodeError::RegionNotDigits { position, ch } => {
                vec![("position", position.to_string()), ("ch", ch.to_string())]
            }
            CreditCodeError::CheckMismatch { expected, found } => {
                vec![
                    ("expected", expected.to_string()),
                    ("found", found.to_string()),
                ]
            }
        }
    }
}

/// The province that positions 3–4 of (possibly unchecked) code text name, for hints while typing:
/// `51` Sichuan, `50` Chongqing, `None` otherwise (see [`CreditCode::region_province`]).
pub fn region_province(text: &str) -> Option<Province> {
    let folded: String = text.trim().chars().map(fold_width).take(4).collect();
    match folded.get(2..4) {
        Some("51") => Some(Province::Sichuan),
        Some("50") => Some(Province::Chongqing),
        _ => None,
    }
}

/// Value of an alphabet character, `None` for any other character.
fn value(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// The check character for the first 17 characters of a code. `None` if `body` is not 17 alphabet characters.
pub fn check_char(body: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0;
    for (c, w) in body.chars().zip(WEIGHTS) {
        sum += value(c)? * w;
        n += 1;
    }
    if n != 17 || body.chars().count() != 17 {
        return None;
    }
    let idx = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(idx as usize)
}

impl CreditCode {
    /// Parse user input: surrounding spaces are trimmed, full-width and lower-case letters accepted.
    /// Checks length, alphabet, region digits and check character, in that order.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let s: String = input
            .trim()
            .chars()
            .map(fold_width)
            .collect::<String>()
            .trim()
            .to_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::WrongLength { len: chars.len() });
        }
        for (i, &c) in chars[..17].iter().enumerate() {
            if value(c).is_none() {
                return Err(CreditCodeError::BadChar {
                    position: i + 1,
                    ch: c,
                });
            }
        }
        for (i, &c) in chars.iter().enumerate().take(8).skip(2) {
            if !c.is_ascii_digit() {
                return Err(CreditCodeError::RegionNotDigits {
                    position: i + 1,
                    ch: c,
                });
            }
        }
        let body: String = chars[..17].iter().collect();
        let expected = check_char(&body).ok_or(CreditCodeError::WrongLength { len: 0 })?;
        if chars[17] != expected {
            return Err(CreditCodeError::CheckMismatch {
                expected,
                found: chars[17],
            });
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province named by the region code's first two digits (positions 3–4, GB/T 2260):
    /// `51` Sichuan, `50` Chongqing. `None` for every other region, including the central
    /// level (`10`), whose organisations may sit in either province.
    pub fn region_province(&self) -> Option<Province> {
        region_province(&self.0)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_weights_are_powers_of_three_mod_31() {
        let mut w = 1u32;
        for expected in WEIGHTS {
            assert_eq!(w, expected);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn valid_codes_from_domain_md_parse() {
        for code in [
            "91350100M000100Y43",
            "91110000600037341L",
            "91510100MA6C123414",
            "91500000MA5U7Q2K9B",
            "12510000450710288C",
        ] {
            assert_eq!(CreditCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn lower_case_and_spaces_are_accepted_and_stored_upper_case() {
        let c = CreditCode::parse("  91500000ma5u7q2k9b \t").unwrap();
        assert_eq!(c.as_str(), "91500000MA5U7Q2K9B");
        assert_eq!(c.to_string(), "91500000MA5U7Q2K9B");
        let c = CreditCode::parse("９１５０００００ＭＡ５Ｕ７Ｑ２Ｋ９Ｂ").unwrap();
        assert_eq!(c.as_str(), "91500000MA5U7Q2K9B");
    }

    #[test]
    fn invalid_codes_say_what_is_wrong() {
        use CreditCodeError::*;
        let cases: &[(&str, CreditCodeError)] = &[
            (
                "91350100M000100Y4Z",
                CheckMismatch {
                    expected: '3',
                    found: 'Z',
                },
            ),
            (
                "91350100M000100Y44",
                CheckMismatch {
                    expected: '3',
                    found: '4',
                },
            ),
            ("", WrongLength { len: 0 }),
            ("91350100M000100Y4", WrongLength { len: 17 }),
            ("91350100M000100Y433", WrongLength { len: 19 }),
            (
                "9135I100M000100Y43",
                BadChar {
                    position: 5,
                    ch: 'I',
                },
            ),
            (
                "91350100M0O0100Y43",
                BadChar {
                    position: 11,
                    ch: 'O',
                },
            ),
            (
                "9135-100M000100Y43",
                BadChar {
                    position: 5,
                    ch: '-',
                },
            ),
            (
                "913501A0M000100Y43",
                RegionNotDigits {
                    position: 7,
                    ch: 'A',
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(&CreditCode::parse(input).unwrap_err(), expected, "{input}");
        }
    }

    #[test]
    fn errors_carry_translation_keys_and_arguments() {
        let e = CreditCode::parse("9135I100M000100Y43").unwrap_err();
        assert_eq!(e.key(), "err.credit_code.bad_char");
        assert_eq!(
            e.args(),
            vec![("position", "5".to_string()), ("ch", "I".to_string())]
        );
        let e = CreditCode::parse("91350100M000100Y4Z").unwrap_err();
        assert_eq!(e.key(), "err.credit_code.check_mismatch");
        assert_eq!(
            e.args(),
            vec![("expected", "3".to_string()), ("found", "Z".to_string())]
        );
    }

    #[test]
    fn the_region_names_sichuan_or_chongqing_or_nothing() {
        let province = |c: &str| CreditCode::parse(c).unwrap().region_province();
        assert_eq!(province("91510100MA6C123414"), Some(Province::Sichuan));
        assert_eq!(province("12510000450710288C"), Some(Province::Sichuan));
        assert_eq!(province("91500000MA5U7Q2K9B"), Some(Province::Chongqing));
        assert_eq!(province("91350100M000100Y43"), None);
        assert_eq!(province("91110000600037341L"), None);
        assert_eq!(region_province(" ９１５０"), Some(Province::Chongqing));
        assert_eq!(region_province("9"), None);
    }

    fn body_strategy() -> impl Strategy<Value = String> {
        let alpha: Vec<char> = ALPHABET.chars().collect();
        let digit = proptest::sample::select(('0'..='9').collect::<Vec<_>>());
        let any = proptest::sample::select(alpha);
        (
            proptest::collection::vec(any.clone(), 2),
            proptest::collection::vec(digit, 6),
            proptest::collection::vec(any, 9),
        )
            .prop_map(|(a, b, c)| a.into_iter().chain(b).chain(c).collect())
    }

    proptest! {
        #[test]
        fn a_body_with_its_check_char_parses(body in body_strategy()) {
            let code = format!("{body}{}", check_char(&body).unwrap());
            let parsed = CreditCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
        }

        #[test]
        fn changing_any_one_char_breaks_the_code(
            body in body_strategy(),
            pos in 0usize..18,
            replacement in proptest::sample::select(ALPHABET.chars().collect::<Vec<_>>()),
        ) {
            let code: Vec<char> = format!("{body}{}", check_char(&body).unwrap()).chars().collect();
            prop_assume!(code[pos] != replacement);
            let mut changed = code.clone();
            changed[pos] = replacement;
            let changed: String = changed.into_iter().collect();
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} still parses", changed);
        }

        /// Fuzz target: any text, and near-codes (the alphabet and its look-alikes, full width,
        /// lower case, spaces, 16–20 characters), parses to a code of 18 alphabet characters whose
        /// check character holds, or to an error; never a panic.
        #[test]
        fn anything_typed_is_a_well_formed_code_or_an_error(
            s in "\\PC{0,40}|[0-9A-Za-z０-９Ａ-Ｚ IOSVZ]{16,20}",
        ) {
            if let Ok(code) = CreditCode::parse(&s) {
                let text = code.as_str();
                prop_assert_eq!(text.chars().count(), 18);
                prop_assert!(text.chars().all(|c| ALPHABET.contains(c)), "{}", text);
                prop_assert_eq!(check_char(&text[..17]), text.chars().last());
            }
        }

        /// The same code typed in lower case, full width or with spaces around is the same code.
        #[test]
        fn spelling_variants_of_a_valid_code_parse_to_it(body in body_strategy()) {
            let code = format!("{body}{}", check_char(&body).unwrap());
            let wide: String = code.chars().map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap(),
                'A'..='Z' => char::from_u32(c as u32 - 'A' as u32 + 0xFF21).unwrap(),
                other => other,
            }).collect();
            for variant in [code.to_lowercase(), wide, format!("  {code}\t")] {
                prop_assert_eq!(CreditCode::parse(&variant).map(CreditCode::into_string), Ok(code.clone()));
            }
        }
    }
}
