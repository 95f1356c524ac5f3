//! QR codes as inline SVG, drawn on the server by the `qrcode` crate.
//!
//! This is the one source of markup that templates insert unescaped (`{{ qr.svg()|safe }}`; the
//! allow-list in `tests/api/architecture.rs` names the templates that may). That is safe because
//! the markup is made only of the crate's fixed elements (`svg`, `rect`, `path`) with numbers and
//! our own colours in it: the encoded text becomes black and white modules, never characters of the
//! document. The tests below hold it to that for hostile input.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG QR code, ready to be inserted in a page.
#[derive(Debug, Clone)]
pub struct QrSvg(String);

impl QrSvg {
    /// A QR code of `text` (medium error correction), at least `size` px wide; `None` if the text
    /// is too long for any QR code.
    pub fn new(text: &str, size: u32) -> Option<QrSvg> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
        let image = code
            .render::<svg::Color<'_>>()
            .min_dimensions(size, size)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build();
        // Inline in HTML: without the XML declaration.
        let start = image.find("<svg")?;
        Some(QrSvg(image[start..].to_string()))
    }

    /// The markup (for `|safe` in the allowed templates only).
    pub fn svg(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The names of the elements in `markup`.
    fn elements(markup: &str) -> Vec<String> {
        markup
            .split('<')
            .skip(1)
            .map(|t| {
                t.trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_markup_is_only_svg_rect_and_path_whatever_the_text() {
        for text in [
            "http://127.0.0.1:8080/certificates/TMC-2026-000001-0Z0ZABCD",
            "<script>alert(1)</script>\"'&<svg onload=alert(1)>",
            "otpauth://totp/techmarket:admin%40x?secret=JBSWY3DPEHPK3PXP&issuer=techmarket",
            "成渝技术交易市场",
        ] {
            let qr = QrSvg::new(text, 160).expect("fits in a QR code");
            let m = qr.svg();
            assert!(m.starts_with("<svg"), "{m}");
            assert!(m.ends_with("</svg>"), "{m}");
            for e in elements(m) {
                assert!(
                    ["svg", "rect", "path"].contains(&e.as_str()),
                    "element {e:?}"
                );
            }
            assert!(!m.contains("script") && !m.contains("onload") && !m.contains('&'));
            assert!(!m.contains("certificates") && !m.contains("otpauth"));
            // Every attribute value is a number, a path of numbers and commands, a colour or the
            // SVG namespace.
            for value in m.split('"').skip(1).step_by(2) {
                assert!(
                    value == "http://www.w3.org/2000/svg"
                        || value == "crispEdges"
                        || value.starts_with('#')
                        || value
                            .chars()
                            .all(|c| c.is_ascii_digit() || " .MHVhv".contains(c)),
                    "attribute value {value:?}"
                );
            }
        }
    }

    #[test]
    fn different_texts_give_different_codes_and_too_long_a_text_none() {
        let a = QrSvg::new("http://x/certificates/A", 100).unwrap();
        let b = QrSvg::new("http://x/certificates/B", 100).unwrap();
        assert_ne!(a.svg(), b.svg());
        assert!(QrSvg::new(&"x".repeat(5000), 100).is_none());
    }
}
