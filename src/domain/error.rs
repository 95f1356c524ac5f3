//! Field-level validation errors, language-neutral.
//!
//! Policy: the domain never produces user-facing text. Each problem is a [`FieldError`] carrying a JSON
//! path, a translation key (see `TRANSLATIONS.md` beside this file) and the arguments that fill the key's
//! `{placeholders}`. Validators collect every problem they find into [`FieldErrors`] instead of stopping
//! at the first one, so a form can show them all at once. Arguments are plain data (numbers, codes,
//! characters); where a localised name is needed a pair `name_zh` / `name_en` is given.

/// Arguments of a translation key: `(placeholder name, value)`.
pub type Args = Vec<(&'static str, String)>;

/// One thing wrong with one input field. `path` is a JSON path like `seller.bands[1].up_to_fen`;
/// `key` is a translation key (the HTTP layer turns it into Chinese or English text); `args` fill `{name}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub key: &'static str,
    pub args: Args,
}

impl FieldError {
    pub fn new(path: impl Into<String>, key: &'static str, args: Args) -> Self {
        FieldError {
            path: path.into(),
            key,
            args,
        }
    }

    /// The error `err` (anything with a translation key) at `path`.
    pub fn at(path: impl Into<String>, err: &impl ErrorKey) -> Self {
        FieldError::new(path, err.key(), err.args())
    }

    /// The value of the argument `name`, if present.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A domain error that can be shown to a user through a translation key.
pub trait ErrorKey {
    /// The translation key, e.g. `err.credit_code.length`.
    fn key(&self) -> &'static str;
    /// Values for the key's placeholders.
    fn args(&self) -> Args {
        Vec::new()
    }
}

/// A free-text field: `min`..=`max` characters once trimmed, no control characters other than line
/// breaks and tabs. The one text rule of every form (`err.text.*`).
pub fn check_text(value: &str, path: &str, min: usize, max: usize, errs: &mut FieldErrors) {
    let n = value.trim().chars().count();
    if n < min {
        errs.push(path, "err.text.required", vec![("min", min.to_string())]);
    } else if n > max {
        errs.push(path, "err.text.too_long", vec![("max", max.to_string())]);
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errs.push(path, "err.text.control_chars", vec![]);
    }
}

/// All the problems found in one input, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        FieldErrors(Vec::new())
    }

    pub fn push(&mut self, path: impl Into<String>, key: &'static str, args: Args) {
        self.0.push(FieldError::new(path, key, args));
    }

    /// Record `err` (anything with a translation key) at `path`.
    pub fn push_err(&mut self, path: impl Into<String>, err: &impl ErrorKey) {
        self.0.push(FieldError::at(path, err));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The first error recorded at exactly `path`.
    pub fn get(&self, path: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.path == path)
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        FieldErrors(vec![e])
    }
}

impl IntoIterator for FieldErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.path, e.key)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// Join a JSON path prefix and a member name: `join("seller", "min_fee_fen")` → `seller.min_fee_fen`;
/// an empty prefix gives the bare name.
pub fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_errors_are_ok() {
        assert_eq!(FieldErrors::new().into_result(), Ok(()));
    }

    #[test]
    fn pushed_errors_are_kept_in_order() {
        let mut errs = FieldErrors::new();
        errs.push("a", "err.x", vec![("n", "1".into())]);
        errs.push("b.c", "err.y", vec![]);
        let errs = errs.into_result().unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs.0[0].arg("n"), Some("1"));
        assert_eq!(errs.get("b.c").unwrap().key, "err.y");
    }

    #[test]
    fn paths_join_with_a_dot_unless_the_prefix_is_empty() {
        assert_eq!(join_path("seller", "bands[0]"), "seller.bands[0]");
        assert_eq!(join_path("", "bands[0]"), "bands[0]");
    }
}
