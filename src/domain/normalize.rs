//! Input normalisation shared by the parsers: full-width forms to ASCII.

/// Map a full-width ASCII variant (U+FF01–U+FF5E) to its ASCII character and the ideographic space
/// (U+3000) to a space; any other character is returned unchanged.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// [`fold_width`] applied to every character.
pub fn fold_width_str(s: &str) -> String {
    s.chars().map(fold_width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_become_ascii() {
        assert_eq!(fold_width_str("ＺＬ２０１７．３　ａ！～"), "ZL2017.3 a!~");
        assert_eq!(fold_width_str("燃气轮机"), "燃气轮机");
    }
}
