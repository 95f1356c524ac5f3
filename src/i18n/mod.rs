//! Translations: every UI string comes from `zh-CN.toml` or `en.toml` beside this file.
//!
//! Keys are dotted paths (`nav.home`). Placeholders are written `{name}`. A test checks that both
//! files carry the same keys and that every key used in templates and code exists.
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh-CN`, `zh`, `zh-Hans`… → Chinese; `en`, `en-US`… → English.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s == "zh" || s.starts_with("zh-") || s.starts_with("zh_") {
            Some(Lang::Zh)
        } else if s == "en" || s.starts_with("en-") || s.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first language of an `Accept-Language` header that we speak, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let q = (q.clamp(0.0, 1.0) * 1000.0) as u32;
            if q == 0 {
                continue;
            }
            if let Some(lang) = Lang::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    pub fn is_zh(self) -> bool {
        self == Lang::Zh
    }
}

type Catalog = HashMap<String, String>;

fn flatten(prefix: &str, value: &toml::Value, out: &mut Catalog) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn load(sources: &[&str]) -> Catalog {
    let mut out = Catalog::new();
    // The files are part of the binary and checked by tests; a broken file yields no entries
    // (keys then show as themselves) rather than a crash.
    for src in sources {
        if let Ok(value) = src.parse::<toml::Value>() {
            flatten("", &value, &mut out);
        }
    }
    out
}

/// One file per area and language, so that areas can be translated independently.
pub static ZH_SRC: &[&str] = &[
    include_str!("zh-CN.toml"),
    include_str!("fees.zh-CN.toml"),
    include_str!("listings.zh-CN.toml"),
    include_str!("demands.zh-CN.toml"),
    include_str!("trading.zh-CN.toml"),
    include_str!("settlement.zh-CN.toml"),
    include_str!("disputes.zh-CN.toml"),
    include_str!("two_factor.zh-CN.toml"),
    include_str!("duplicates.zh-CN.toml"),
    include_str!("documents.zh-CN.toml"),
    include_str!("interconnect.zh-CN.toml"),
    include_str!("stats.zh-CN.toml"),
    include_str!("organization.zh-CN.toml"),
    include_str!("pledge.zh-CN.toml"),
    include_str!("audit.zh-CN.toml"),
    include_str!("brokers.zh-CN.toml"),
    include_str!("experts.zh-CN.toml"),
    include_str!("waiting.zh-CN.toml"),
    include_str!("portal.zh-CN.toml"),
];
pub static EN_SRC: &[&str] = &[
    include_str!("en.toml"),
    include_str!("fees.en.toml"),
    include_str!("listings.en.toml"),
    include_str!("demands.en.toml"),
    include_str!("trading.en.toml"),
    include_str!("settlement.en.toml"),
    include_str!("disputes.en.toml"),
    include_str!("two_factor.en.toml"),
    include_str!("duplicates.en.toml"),
    include_str!("documents.en.toml"),
    include_str!("interconnect.en.toml"),
    include_str!("stats.en.toml"),
    include_str!("organization.en.toml"),
    include_str!("pledge.en.toml"),
    include_str!("audit.en.toml"),
    include_str!("brokers.en.toml"),
    include_str!("experts.en.toml"),
    include_str!("waiting.en.toml"),
    include_str!("portal.en.toml"),
];
static ZH: LazyLock<Catalog> = LazyLock::new(|| load(ZH_SRC));
static EN: LazyLock<Catalog> = LazyLock::new(|| load(EN_SRC));

pub fn catalog(lang: Lang) -> &'static Catalog {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The text of `key`, or the key itself when missing (tests make sure none is).
pub fn t(lang: Lang, key: &str) -> &str {
    match catalog(lang).get(key) {
        Some(s) => s.as_str(),
        None => {
            tracing::warn!(key, lang = lang.code(), "missing translation");
            key_fallback(key)
        }
    }
}

fn key_fallback(key: &str) -> &str {
    key
}

/// `t` with `{name}` placeholders filled in.
pub fn tf(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let mut s = t(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let zh: std::collections::BTreeSet<_> = catalog(Lang::Zh).keys().collect();
        let en: std::collections::BTreeSet<_> = catalog(Lang::En).keys().collect();
        assert!(!zh.is_empty());
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "keys only in zh-CN.toml: {only_zh:?}");
        assert!(only_en.is_empty(), "keys only in en.toml: {only_en:?}");
    }

    #[test]
    fn files_parse() {
        for src in ZH_SRC.iter().chain(EN_SRC) {
            src.parse::<toml::Value>().unwrap();
        }
    }

    /// Every `t("…")` / `t1("…"` key used in templates and every `error.<code>` exists.
    #[test]
    fn every_key_used_in_templates_exists() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
            &mut files,
        );
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut missing = Vec::new();
        for f in files {
            let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext != "html" && ext != "rs" {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            for pat in ["t(\"", "t1(\""] {
                for (i, _) in text.match_indices(pat) {
                    let rest = &text[i + pat.len()..];
                    let key: String = rest.chars().take_while(|c| *c != '"').collect();
                    let prev = text[..i].chars().last().unwrap_or(' ');
                    if prev.is_alphanumeric()
                        || prev == '_'
                        || key.contains('{')
                        || !key.contains('.')
                    {
                        continue;
                    }
                    for lang in [Lang::Zh, Lang::En] {
                        if !catalog(lang).contains_key(&key) {
                            missing.push(format!("{} {key} ({})", f.display(), lang.code()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "missing translations:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn accept_language_picks_the_best_we_speak() {
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en-US;q=0.8, zh-CN;q=0.9"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, de"), None);
    }

    #[test]
    fn placeholders_are_filled() {
        let s = tf(Lang::En, "error.too_many_requests", &[]);
        assert!(!s.is_empty());
    }

    /// Chinese text takes full-width punctuation (issue 18 item 8): no half-width ':' after a
    /// Chinese character in a zh-CN string (a time format's "时:分" is a format, not a colon).
    #[test]
    fn chinese_strings_use_a_full_width_colon() {
        let mut bad = Vec::new();
        for (key, text) in catalog(Lang::Zh) {
            let chars: Vec<char> = text.chars().collect();
            for (i, w) in chars.windows(2).enumerate() {
                let after_cjk = crate::domain::text::is_cjk(w[0]) && w[1] == ':';
                let time_format = w[0] == '时' && chars.get(i + 2) == Some(&'分');
                if after_cjk && !time_format {
                    bad.push(format!("{key} = {text}"));
                }
            }
        }
        assert!(bad.is_empty(), "half-width colons after Chinese: {bad:#?}");
        assert!(catalog(Lang::Zh).len() > 500, "the scan read the catalogue");
    }
}
