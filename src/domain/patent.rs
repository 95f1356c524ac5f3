//! Chinese patent application numbers (专利申请号), DOMAIN.md "Identifiers".
//!
//! Two forms: `YYYYTNNNNNNN.C` (12 digits, since October 2003) and `YYTNNNNN.C` (8 digits, 1985–2003).
//! `T` is the type digit: 1 invention, 2 utility model, 3 design, 8/9 PCT national phase.
//! The check character is `Σ d_i·w_i mod 11` with weights 2,3,4,5,6,7,8,9 repeating from the left; 10 is `X`.
//! Input may carry a `ZL` (granted) or `CN` prefix, a dot before the check character or not,
//! lower case, full-width characters and spaces.

use super::codes::IpType;
use super::error::{Args, ErrorKey, FieldErrors};
use super::normalize::fold_width;

/// Type digits that exist.
const TYPE_DIGITS: [char; 5] = ['1', '2', '3', '8', '9'];

/// At most this many IP numbers per listing.
pub const MAX_IP_NUMBERS: usize = 20;
/// Longest free-text registration number (software copyright, plant variety, …).
pub const MAX_REGISTRATION_NUMBER_CHARS: usize = 64;

/// A checked patent application number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatentNumber {
    /// The 8 or 12 digits before the check character.
    digits: String,
    /// `0`–`9` or `X`.
    check: char,
}

/// Why a string is not a patent application number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatentError {
    #[error("not a patent application number (expected 12 or 8 digits and a check character)")]
    BadFormat,
    #[error("type digit {digit} does not exist (1, 2, 3, 8 or 9)")]
    BadTypeDigit { digit: char },
    #[error("the check character should be {expected:?}, not {found:?}")]
    CheckMismatch { expected: char, found: char },
}

impl ErrorKey for PatentError {
    fn key(&self) -> &'static str {
        match self {
            PatentError::BadFormat => "err.patent.format",
            PatentError::BadTypeDigit { .. } => "err.patent.type_digit",
            PatentError::CheckMismatch { .. } => "err.patent.check_mismatch",
        }
    }

    fn args(&self) -> Args {
        match self {
            PatentError::BadFormat => Vec::new(),
            PatentError::BadTypeDigit { digit } => vec![("digit", digit.to_string())],
            PatentError::CheckMismatch { expected, found } => vec![
                ("expected", expected.to_string()),
                ("found", found.to_string()),
            ],
        }
    }
}

/// The check character of a string of ASCII digits.
pub fn check_char(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b.wrapping_sub(b'0')) * (2 + (i as u32 % 8)))
        .sum();
    match sum % 11 {
        10 => 'X',
        r => char::from(b'0' + r as u8),
    }
}

impl PatentNumber {
    /// Parse a number as people write it: `ZL201710601862.3`, `CN2021101234567`, `95115608.X`, ` zl97101765.4 `.
    pub fn parse(input: &str) -> Result<PatentNumber, PatentError> {
        let s: String = input
            .chars()
            .map(fold_width)
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let s = s
            .strip_prefix("ZL")
            .or_else(|| s.strip_prefix("CN"))
            .unwrap_or(&s);
        let (digits, check) = match s.split_once('.') {
            Some((d, c)) => (d, c),
            None if s.is_ascii() && s.len() > 1 => s.split_at(s.len() - 1),
            None => return Err(PatentError::BadFormat),
        };
        let mut check_chars = check.chars();
        let (Some(found), None) = (check_chars.next(), check_chars.next()) else {
            return Err(PatentError::BadFormat);
        };
        if !(found.is_ascii_digit() || found == 'X')
            || !(digits.len() == 12 || digits.len() == 8)
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PatentError::BadFormat);
        }
        let number = PatentNumber {
            digits: digits.to_string(),
            check: found,
        };
        let digit = number.type_digit();
        if !TYPE_DIGITS.contains(&digit) {
            return Err(PatentError::BadTypeDigit { digit });
        }
        let expected = check_char(digits);
        if expected != found {
            return Err(PatentError::CheckMismatch { expected, found });
        }
        Ok(number)
    }

    /// Whether this is the 12-digit form used since October 2003.
    pub fn is_new_form(&self) -> bool {
        self.digits.len() == 12
    }

    /// The type digit: position 5 in the 12-digit form, position 3 in the 8-digit form.
    pub fn type_digit(&self) -> char {
        let i = if self.is_new_form() { 4 } else { 2 };
        self.digits
            .as_bytes()
            .get(i)
            .map_or('0', |&b| char::from(b))
    }

    /// The year the application was filed.
    pub fn year(&self) -> u16 {
        let n = |r: std::ops::Range<usize>| {
            self.digits
                .get(r)
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or(0)
        };
        if self.is_new_form() {
            n(0..4)
        } else {
            let yy = n(0..2);
            if yy >= 85 {
                1900 + yy
            } else {
                2000 + yy
            }
        }
    }

    /// The digits before the check character (`201710601862`).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The check character, `0`–`9` or `X`.
    pub fn check(&self) -> char {
        self.check
    }

    /// Digits and check character, no prefix, no dot: `2017106018623` (the stored and indexed form).
    pub fn canonical(&self) -> String {
        format!("{}{}", self.digits, self.check)
    }

    /// The usual written form: `201710601862.3`.
    pub fn display(&self) -> String {
        format!("{}.{}", self.digits, self.check)
    }

    /// Whether the type digit suits `ip_type` (false for IP types that are not patents).
    pub fn fits(&self, ip_type: IpType) -> bool {
        ip_type
            .patent_type_digits()
            .is_some_and(|d| d.contains(&self.type_digit()))
    }
}

impl std::fmt::Display for PatentNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.digits, self.check)
    }
}

/// Check a listing's IP numbers for its IP type; errors at `path` (the list) or `path[i]` (one number).
///
/// Patent-type IP types need at least one number; each must be a valid patent application number, and at
/// least one must have a type digit that fits the IP type. Other IP types take free-text registration numbers
/// (none required) of 1–64 characters. At most [`MAX_IP_NUMBERS`] numbers.
pub fn validate_ip_numbers(
    ip_type: IpType,
    numbers: &[String],
    path: &str,
    errs: &mut FieldErrors,
) {
    if numbers.len() > MAX_IP_NUMBERS {
        errs.push(
            path,
            "err.ip_numbers.too_many",
            vec![("max", MAX_IP_NUMBERS.to_string())],
        );
        return;
    }
    match ip_type.patent_type_digits() {
        Some(type_digits) => {
            if numbers.is_empty() {
                errs.push(
                    path,
                    "err.ip_numbers.required",
                    vec![
                        ("ip_type_zh", ip_type.name_zh().to_string()),
                        ("ip_type_en", ip_type.name_en().to_string()),
                    ],
                );
                return;
            }
            let mut any_parsed = false;
            let mut any_fits = false;
            for (i, n) in numbers.iter().enumerate() {
                match PatentNumber::parse(n) {
                    Ok(p) => {
                        any_parsed = true;
                        any_fits |= p.fits(ip_type);
                    }
                    Err(e) => errs.push_err(format!("{path}[{i}]"), &e),
                }
            }
            if any_parsed && !any_fits {
                let digits: Vec<String> = type_digits.iter().map(char::to_string).collect();
                errs.push(
                    path,
                    "err.ip_numbers.type_mismatch",
                    vec![
                        ("ip_type_zh", ip_type.name_zh().to_string()),
                        ("ip_type_en", ip_type.name_en().to_string()),
                        ("digits", digits.join("/")),
                    ],
                );
            }
        }
        None => {
            for (i, n) in numbers.iter().enumerate() {
                let len = n.trim().chars().count();
                if len == 0 {
                    errs.push(format!("{path}[{i}]"), "err.ip_numbers.empty", vec![]);
                } else if len > MAX_REGISTRATION_NUMBER_CHARS {
                    errs.push(
                        format!("{path}[{i}]"),
                        "err.ip_numbers.too_long",
                        vec![("max", MAX_REGISTRATION_NUMBER_CHARS.to_string())],
                    );
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_numbers_from_domain_md_parse() {
        let cases: &[(&str, &str, char)] = &[
            ("ZL201710601862.3", "2017106018623", '1'),
            ("202110123456.7", "2021101234567", '1'),
            ("95115608.X", "95115608X", '1'),
            ("ZL97101765.4", "971017654", '1'),
            ("CN202110123456.7", "2021101234567", '1'),
            ("2021101234567", "2021101234567", '1'),
            ("  zl201710601862.3 ", "2017106018623", '1'),
            ("95115608x", "95115608X", '1'),
            ("ＺＬ２０１７１０６０１８６２．３", "2017106018623", '1'),
            ("ZL 2017 1060 1862.3", "2017106018623", '1'),
            ("202320123456.1", "2023201234561", '2'),
            ("202330123456.7", "2023301234567", '3'),
        ];
        for (input, canonical, t) in cases {
            let p = PatentNumber::parse(input).unwrap();
            assert_eq!(p.canonical(), *canonical, "{input}");
            assert_eq!(p.type_digit(), *t, "{input}");
        }
        let p = PatentNumber::parse("ZL201710601862.3").unwrap();
        assert_eq!(p.display(), "201710601862.3");
        assert_eq!(p.to_string(), "201710601862.3");
        assert_eq!(p.digits(), "201710601862");
        assert_eq!(p.year(), 2017);
        assert!(p.is_new_form());
        assert_eq!(PatentNumber::parse("95115608.X").unwrap().year(), 1995);
        assert_eq!(PatentNumber::parse("ZL97101765.4").unwrap().year(), 1997);
    }

    #[test]
    fn invalid_numbers_say_why() {
        use PatentError::*;
        let cases: &[(&str, PatentError)] = &[
            (
                "98123456.X",
                CheckMismatch {
                    expected: '9',
                    found: 'X',
                },
            ),
            (
                "202110123456.8",
                CheckMismatch {
                    expected: '7',
                    found: '8',
                },
            ),
            ("202150123456.7", BadTypeDigit { digit: '5' }),
            ("95415608.X", BadTypeDigit { digit: '4' }),
            ("", BadFormat),
            ("ZL", BadFormat),
            ("20211012345.7", BadFormat),
            ("2021101234567.7", BadFormat),
            ("202110123456.77", BadFormat),
            ("202110123456.", BadFormat),
            ("202110123456.A", BadFormat),
            ("2021101234S6.7", BadFormat),
            ("US202110123456.7", BadFormat),
            ("二〇二一10123456.7", BadFormat),
        ];
        for (input, err) in cases {
            assert_eq!(&PatentNumber::parse(input).unwrap_err(), err, "{input}");
        }
        let e = PatentNumber::parse("98123456.X").unwrap_err();
        assert_eq!(e.key(), "err.patent.check_mismatch");
        assert_eq!(
            e.args(),
            vec![("expected", "9".to_string()), ("found", "X".to_string())]
        );
    }

    #[test]
    fn type_digits_fit_their_ip_types() {
        let invention = PatentNumber::parse("202110123456.7").unwrap();
        let utility = PatentNumber::parse("202320123456.1").unwrap();
        let design = PatentNumber::parse("202330123456.7").unwrap();
        assert!(invention.fits(IpType::InventionPatent));
        assert!(!invention.fits(IpType::UtilityModel));
        assert!(utility.fits(IpType::UtilityModel));
        assert!(design.fits(IpType::DesignPatent));
        assert!(design.fits(IpType::PatentApplication));
        assert!(!design.fits(IpType::KnowHow));
    }

    fn numbers(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn check(ip_type: IpType, nums: &[&str]) -> Vec<(String, &'static str)> {
        let mut errs = FieldErrors::new();
        validate_ip_numbers(ip_type, &numbers(nums), "ip_numbers", &mut errs);
        errs.into_iter().map(|e| (e.path, e.key)).collect()
    }

    #[test]
    fn ip_numbers_are_checked_against_the_ip_type() {
        assert_eq!(
            check(IpType::InventionPatent, &["ZL201710601862.3"]),
            vec![]
        );
        assert_eq!(
            check(IpType::InventionPatent, &[]),
            vec![("ip_numbers".to_string(), "err.ip_numbers.required")]
        );
        assert_eq!(
            check(IpType::InventionPatent, &["202320123456.1", "98123456.X"]),
            vec![
                ("ip_numbers[1]".to_string(), "err.patent.check_mismatch"),
                ("ip_numbers".to_string(), "err.ip_numbers.type_mismatch"),
            ]
        );
        assert_eq!(
            check(IpType::UtilityModel, &["202320123456.1", "202110123456.7"]),
            vec![]
        );
        assert_eq!(
            check(IpType::DesignPatent, &["nonsense"]),
            vec![("ip_numbers[0]".to_string(), "err.patent.format")]
        );
        assert_eq!(check(IpType::KnowHow, &[]), vec![]);
        assert_eq!(check(IpType::SoftwareCopyright, &["2021SR0123456"]), vec![]);
        let long = "x".repeat(65);
        assert_eq!(
            check(IpType::PlantVariety, &["CNA20191001234", "  ", &long]),
            vec![
                ("ip_numbers[1]".to_string(), "err.ip_numbers.empty"),
                ("ip_numbers[2]".to_string(), "err.ip_numbers.too_long"),
            ]
        );
        let many = vec!["202110123456.7"; MAX_IP_NUMBERS + 1];
        assert_eq!(
            check(IpType::InventionPatent, &many),
            vec![("ip_numbers".to_string(), "err.ip_numbers.too_many")]
        );
    }

    #[test]
    fn type_mismatch_names_the_digits_that_fit() {
        let mut errs = FieldErrors::new();
        validate_ip_numbers(
            IpType::InventionPatent,
            &numbers(&["202330123456.7"]),
            "ip_numbers",
            &mut errs,
        );
        assert_eq!(errs.get("ip_numbers").unwrap().arg("digits"), Some("1/8"));
    }

    proptest! {
        #[test]
        fn any_number_with_its_check_char_parses_in_every_spelling(
            new_form in any::<bool>(),
            year in 0u32..100,
            t in proptest::sample::select(TYPE_DIGITS.to_vec()),
            serial in 0u32..10_000_000,
            prefix in proptest::sample::select(vec!["", "ZL", "CN", "zl"]),
            dot in any::<bool>(),
        ) {
            let digits = if new_form {
                format!("{:04}{t}{:07}", 1985 + year, serial)
            } else {
                format!("{:02}{t}{:05}", year, serial % 100_000)
            };
            let c = check_char(&digits);
            let input = format!("{prefix}{digits}{}{c}", if dot { "." } else { "" });
            let p = PatentNumber::parse(&input).unwrap();
            prop_assert_eq!(p.canonical(), format!("{digits}{c}"));
            // Any other check character is refused.
            for other in "0123456789X".chars().filter(|&o| o != c) {
                let wrong = format!("{digits}.{other}");
                prop_assert!(PatentNumber::parse(&wrong).is_err(), "{} parsed", wrong);
            }
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,20}") {
            let _ = PatentNumber::parse(&s);
        }

        /// Fuzz target: near-numbers (prefixes, digits in ASCII and full width, dots, check
        /// characters, spaces, 6–16 characters) parse to 8 or 12 digits whose check character
        /// holds, and whose written form parses back to the same number; or to an error.
        #[test]
        fn near_numbers_parse_to_checked_numbers_or_errors(
            s in "(ZL|CN|zl|Zl|ＺＬ)?[0-9０-９. ．xX]{6,16}",
        ) {
            if let Ok(p) = PatentNumber::parse(&s) {
                let canonical = p.canonical();
                let (digits, check) = canonical.split_at(canonical.len() - 1);
                prop_assert!(digits.len() == 8 || digits.len() == 12, "{}", canonical);
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(check.chars().next(), Some(check_char(digits)));
                prop_assert_eq!(PatentNumber::parse(&p.display()).map(|q| q.canonical()), Ok(canonical));
            }
        }
    }
}
