//! Listing documents (patent certificates, test reports): which files are accepted, judged by their
//! content (magic bytes, through the `infer` crate) and not by their name; size and count limits;
//! the name kept for the download. Pure.

/// Largest document, in bytes (10 MiB).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Most documents per listing.
pub const MAX_PER_LISTING: i64 = 10;

/// The kinds accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Png => "png",
            Kind::Jpeg => "jpg",
        }
    }
    pub fn parse(content_type: &str) -> Option<Kind> {
        match content_type {
            "application/pdf" => Some(Kind::Pdf),
            "image/png" => Some(Kind::Png),
            "image/jpeg" => Some(Kind::Jpeg),
            _ => None,
        }
    }
}

/// What the content is, whatever the file is called: PDF, PNG or JPEG, or `None`.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    let t = infer::get(bytes)?;
    Kind::parse(t.mime_type())
}

/// The file name kept for the download: the last path segment, control characters and quotes
/// dropped, at most 120 characters, with the extension of what the content is.
pub fn file_name(sent: &str, kind: Kind) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | ';' | '<' | '>' | '`'))
        .collect();
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, _)) => stem.trim().to_string(),
        None => cleaned.trim().to_string(),
    };
    let stem: String = stem.chars().take(120).collect();
    let stem = if stem.trim_matches('.').is_empty() {
        "document".to_string()
    } else {
        stem
    };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_content_decides_not_the_name() {
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
            Some(Kind::Pdf)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0"),
            Some(Kind::Png)
        );
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01"), Some(Kind::Jpeg));
        for bad in [
            &b"hello, I am a PDF, trust me"[..],
            b"<html><script>alert(1)</script></html>",
            b"GIF89a\x01\0\x01\0",
            b"PK\x03\x04 a zip",
            b"",
        ] {
            assert_eq!(sniff(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_kept_readable_and_harmless() {
        assert_eq!(file_name("专利证书.pdf", Kind::Pdf), "专利证书.pdf");
        assert_eq!(file_name("C:\\scan\\报告.PDF", Kind::Pdf), "报告.pdf");
        assert_eq!(file_name("photo.png", Kind::Jpeg), "photo.jpg");
        assert_eq!(file_name("a\"b;c\r\n.pdf", Kind::Pdf), "abc.pdf");
        assert_eq!(file_name("../../etc/passwd", Kind::Png), "passwd.png");
        assert_eq!(file_name("", Kind::Pdf), "document.pdf");
        assert_eq!(file_name("...", Kind::Pdf), "document.pdf");
        assert_eq!(file_name(&"长".repeat(300), Kind::Pdf).chars().count(), 124);
    }
}
