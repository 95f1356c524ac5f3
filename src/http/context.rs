//! Per-request context: the language, and for pages the signed-in user and CSRF token.
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, FixedOffset, Utc};

use crate::auth::{token, CurrentUser};
use crate::domain::codes;
use crate::http::state::AppState;
use crate::i18n::{self, Lang};
use crate::service::accounts::{self, SessionKind};

pub const SESSION_COOKIE: &str = "tm_session";
pub const CSRF_COOKIE: &str = "tm_csrf";
pub const LANG_COOKIE: &str = "tm_lang";

/// The cookies' names: with `TECHMARKET_COOKIE_SECURE` they are `Secure` and `__Host-` prefixed, so
/// the browser only takes them from this host over HTTPS with `Path=/` (no subdomain or plain-HTTP
/// page can plant or overwrite them).
#[derive(Clone, Copy, Debug)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    pub lang: &'static str,
}

impl CookieNames {
    pub fn new(secure: bool) -> Self {
        if secure {
            CookieNames {
                session: "__Host-tm_session",
                csrf: "__Host-tm_csrf",
                lang: "__Host-tm_lang",
            }
        } else {
            CookieNames {
                session: SESSION_COOKIE,
                csrf: CSRF_COOKIE,
                lang: LANG_COOKIE,
            }
        }
    }
}

/// Known about the request before the handler runs.
#[derive(Clone, Debug)]
pub struct RequestCtx {
    pub lang: Lang,
    pub is_api: bool,
    /// Path and query as requested, for links back (language switch, login `next`).
    pub path: String,
    pub query: Option<String>,
    pub user: Option<CurrentUser>,
    /// The token every form must carry (the session's when signed in, else the browser's cookie).
    pub csrf: String,
    pub unread: i64,
    pub session_secret: Option<String>,
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    let q = query?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

/// The first parameter of a query string that is not UTF-8 once percent-decoded (its name, or
/// `query` when the name itself is not), if any. Such text is refused (400), never guessed at: a
/// lossy decoding would search for, or store, U+FFFD instead of what was sent.
fn undecodable_param(query: &str) -> Option<String> {
    query.split('&').find_map(|part| {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let decode = |s: &str| {
            let bytes: Vec<u8> =
                percent_encoding::percent_decode(s.replace('+', " ").as_bytes()).collect();
            String::from_utf8(bytes).ok()
        };
        match (decode(name), decode(value)) {
            (Some(_), Some(_)) => None,
            (Some(n), None) if !n.is_empty() && n.len() <= 50 => Some(n),
            _ => Some("query".to_string()),
        }
    })
}

/// Sets the context, then renders errors (error.rs) and writes the cookies it decided on.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let is_api = path.starts_with("/api/");
    let is_page =
        !is_api && !path.starts_with("/static/") && path != "/healthz" && path != "/readyz";
    let jar = CookieJar::from_headers(req.headers());
    let secure = state.config.cookie_secure;
    let names = CookieNames::new(secure);
    let asked = query_lang(query.as_deref());
    let lang = asked
        .or_else(|| {
            (!is_api)
                .then(|| jar.get(names.lang).and_then(|c| Lang::parse(c.value())))
                .flatten()
        })
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();

    let mut set_cookies: Vec<Cookie<'static>> = Vec::new();
    let mut ctx = RequestCtx {
        lang,
        is_api,
        path,
        query,
        user: None,
        csrf: String::new(),
        unread: 0,
        session_secret: None,
    };
    if is_page {
        if let Some(l) = asked {
            set_cookies.push(
                Cookie::build((names.lang, l.code()))
                    .path("/")
                    .http_only(true)
                    .same_site(SameSite::Lax)
                    .secure(secure)
                    .max_age(time_days(365))
                    .build(),
            );
        }
        if let Some(secret) = jar.get(names.session).map(|c| c.value().to_string()) {
            match accounts::resolve(&state.pool, &secret, SessionKind::Web).await {
                Ok(Some(s)) => {
                    ctx.user = Some(CurrentUser::from(&s.user));
                    ctx.csrf = s.csrf_token.unwrap_or_default();
                    ctx.unread = s.unread;
                    ctx.session_secret = Some(secret);
                }
                Ok(None) => set_cookies.push(expired(names.session, secure)),
                Err(e) => tracing::warn!(error = %e, "session lookup failed"),
            }
        }
        if ctx.user.is_none() {
            // Before sign-in the form token is bound to a random nonce in the browser's cookie
            // (token::bind): a cookie/token pair must have been issued by this server.
            let nonce = match jar.get(names.csrf).map(|c| c.value().to_string()) {
                Some(c) if token::is_nonce(&c) => c,
                _ => {
                    let c = token::generate("c_");
                    set_cookies.push(
                        Cookie::build((names.csrf, c.clone()))
                            .path("/")
                            .http_only(true)
                            .same_site(SameSite::Strict)
                            .secure(secure)
                            .build(),
                    );
                    c
                }
            };
            ctx.csrf = match accounts::visitor_csrf(&state.pool, &nonce).await {
                Ok(t) => t,
                Err(e) => {
                    // No token: forms are refused (403) until the database answers again.
                    tracing::warn!(error = %e, "CSRF key lookup failed");
                    String::new()
                }
            };
        }
    }
    if let Some(param) = ctx.query.as_deref().and_then(undecodable_param) {
        let mut fields = crate::domain::error::FieldErrors::new();
        fields.push(param, "err.query.encoding", vec![]);
        let err = crate::error::Error::BadRequest {
            code: "invalid_query",
            fields: Some(fields),
        };
        return crate::http::error::render(&ctx, axum::response::IntoResponse::into_response(err));
    }
    req.extensions_mut().insert(ctx.clone());
    let resp = next.run(req).await;
    let mut resp = crate::http::error::render(&ctx, resp);
    // A cookie the handler set itself wins: a login that replaces a stale session must not have
    // its new session cookie cleared by the stale one's expiry after it.
    let set_by_handler: Vec<String> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split('=').next())
        .map(|n| n.trim().to_string())
        .collect();
    for c in set_cookies {
        if set_by_handler.iter().any(|n| n == c.name()) {
            continue;
        }
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn time_days(days: i64) -> cookie::time::Duration {
    cookie::time::Duration::days(days)
}

/// A cookie that ends `name` (with the same attributes: a `__Host-` cookie is only replaced by a
/// `Secure` one).
pub fn expired(name: &'static str, secure: bool) -> Cookie<'static> {
    Cookie::build((name, ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .max_age(cookie::time::Duration::ZERO)
        .build()
}

/// Everything a template needs to know about the request, with formatting helpers.
#[derive(Clone, Debug)]
pub struct PageCtx {
    pub lang: Lang,
    pub user: Option<CurrentUser>,
    pub csrf: String,
    pub unread: i64,
    pub path: String,
    pub query: Option<String>,
}

const SHANGHAI: i32 = 8 * 3600;

impl PageCtx {
    pub fn from_request(r: &RequestCtx) -> Self {
        Self {
            lang: r.lang,
            user: r.user.clone(),
            csrf: r.csrf.clone(),
            unread: r.unread,
            path: r.path.clone(),
            query: r.query.clone(),
        }
    }

    /// A context of the language alone (nobody signed in, no token, no query), for what is rendered
    /// once and shown to everyone reading `path` in `lang` (the statistics' body).
    pub fn of_lang(lang: Lang, path: &str) -> Self {
        Self {
            lang,
            user: None,
            csrf: String::new(),
            unread: 0,
            path: path.to_string(),
            query: None,
        }
    }

    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }

    /// `t` with one placeholder.
    pub fn t1(&self, key: &str, name: &str, value: &dyn std::fmt::Display) -> String {
        i18n::tf(self.lang, key, &[(name, value.to_string())])
    }

    /// A name written in both languages, `中文名 / English name` (fee schedules are named so),
    /// in this page's language; any other name as it is.
    pub fn in_lang(&self, name: &str) -> String {
        crate::domain::schedule_name::in_lang(name, self.lang.is_zh())
    }

    /// A text given in Chinese and optionally in English (a listing's or demand's title and
    /// summary): the English one on English pages when there is one, else the Chinese one.
    pub fn zh_or_en<'a>(&self, zh: &'a str, en: &'a Option<String>) -> &'a str {
        match (self.lang, en.as_deref().map(str::trim)) {
            (Lang::En, Some(e)) if !e.is_empty() => e,
            _ => zh,
        }
    }

    /// The `lang` of what [`Self::zh_or_en`] shows, when it differs from the page's (a Chinese
    /// fallback on an English page): `zh-CN`, else empty.
    pub fn zh_fallback(&self, en: &Option<String>) -> &'static str {
        match (self.lang, en.as_deref().map(str::trim)) {
            (Lang::En, Some(e)) if !e.is_empty() => "",
            (Lang::En, _) => "zh-CN",
            _ => "",
        }
    }

    /// Between the items of an inline list: `、` in Chinese, `, ` in English.
    pub fn sep(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "、",
            Lang::En => ", ",
        }
    }

    /// A translation with one amount in it, formatted as money (`¥3,540,000.00`).
    pub fn t_money(&self, key: &str, name: &str, fen: impl std::borrow::Borrow<i64>) -> String {
        i18n::tf(self.lang, key, &[(name, self.money(fen.borrow()))])
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn is_zh(&self) -> bool {
        self.lang.is_zh()
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin())
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }

    pub fn display_name(&self) -> &str {
        self.user
            .as_ref()
            .map(|u| u.display_name.as_str())
            .unwrap_or("")
    }

    /// The confirmation of an action just done, from `?done=<code>` after its redirect: the text of
    /// `done.<code>` (codes of other namespaces are the page's own business).
    pub fn done_notice(&self) -> String {
        self.query_param("done")
            .map(|c| format!("done.{c}"))
            .filter(|k| k.len() < 80 && i18n::catalog(self.lang).contains_key(k))
            .map(|k| self.t(&k).to_string())
            .unwrap_or_default()
    }

    /// A parameter of this page's query string, if given.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The same page in the other language.
    pub fn other_lang_url(&self) -> String {
        let mut pairs: Vec<(String, String)> = self
            .query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k != "lang")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        pairs.push(("lang".into(), self.lang.other().code().into()));
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        // `//host` would be another site: one leading slash only.
        format!("/{}?{}", self.path.trim_start_matches('/'), qs)
    }

    pub fn other_lang_label(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "English",
            Lang::En => "中文",
        }
    }

    /// `¥1,234.56`
    pub fn money(&self, fen: &i64) -> String {
        crate::domain::money::format_yuan(*fen)
    }

    /// The amount in capital numerals (大写, `壹佰伍拾万元整`), as contracts and printed documents
    /// state it in either language.
    pub fn capital(&self, fen: &i64) -> String {
        crate::domain::amounts::capital(*fen)
    }

    /// Large amounts the Chinese way (`350万元`) in Chinese, `¥3,500,000.00` in English.
    /// A budget range in 万元 (yuan in English): both bounds `a ~ b`, one bound as "from a" / "up
    /// to b", none as "open" — never a dash standing for a missing bound.
    pub fn budget(&self, min: &Option<i64>, max: &Option<i64>) -> String {
        match (min, max) {
            (Some(a), Some(b)) => format!("{} ~ {}", self.wan(a), self.wan(b)),
            (Some(a), None) => self.t1("demands.budget_from", "min", &self.wan(a)),
            (None, Some(b)) => self.t1("demands.budget_up_to", "max", &self.wan(b)),
            (None, None) => self.t("demands.budget_open").to_string(),
        }
    }

    pub fn wan(&self, fen: &i64) -> String {
        match self.lang {
            Lang::Zh => crate::domain::money::format_wan(*fen),
            Lang::En => crate::domain::money::format_yuan(*fen),
        }
    }

    pub fn percent(&self, ppm: &i64) -> String {
        crate::domain::money::format_ppm_percent(*ppm)
    }

    /// A moment in Asia/Shanghai (UTC+8 all year; China has no daylight saving).
    pub fn time(&self, at: &DateTime<Utc>) -> String {
        let off = FixedOffset::east_opt(SHANGHAI).unwrap_or_else(|| Utc.fix());
        at.with_timezone(&off).format("%Y-%m-%d %H:%M").to_string()
    }

    /// A moment of a day among others, to the second, without the year (a bid in an auction's
    /// history): `12月8日 14:03:05`, `Dec 8 14:03:05` (Asia/Shanghai). `static/trading.js`
    /// writes the rows it adds live the same way.
    pub fn day_time(&self, at: &DateTime<Utc>) -> String {
        let off = FixedOffset::east_opt(SHANGHAI).unwrap_or_else(|| Utc.fix());
        let local = at.with_timezone(&off);
        match self.lang {
            Lang::Zh => local.format("%-m月%-d日 %H:%M:%S").to_string(),
            Lang::En => local.format("%b %-d %H:%M:%S").to_string(),
        }
    }

    /// An end moment as people read it: a midnight in Shanghai is the end of the day before
    /// (`2027-01-31（含当日）`, as it was entered), any other moment as [`Self::time`].
    pub fn until(&self, at: &DateTime<Utc>) -> String {
        let off = FixedOffset::east_opt(SHANGHAI).unwrap_or_else(|| Utc.fix());
        let local = at.with_timezone(&off);
        if local.format("%H:%M:%S").to_string() != "00:00:00" {
            return self.time(at);
        }
        let day = (local - chrono::Duration::days(1)).format("%Y-%m-%d");
        match self.lang {
            Lang::Zh => format!("{day}（含当日）"),
            Lang::En => format!("{day} (inclusive)"),
        }
    }

    pub fn time_opt(&self, at: &Option<DateTime<Utc>>) -> String {
        at.as_ref()
            .map(|a| self.time(a))
            .unwrap_or_else(|| "—".into())
    }

    /// For `<input type="datetime-local">` in Asia/Shanghai.
    pub fn time_input(&self, at: &DateTime<Utc>) -> String {
        let off = FixedOffset::east_opt(SHANGHAI).unwrap_or_else(|| Utc.fix());
        at.with_timezone(&off).format("%Y-%m-%dT%H:%M").to_string()
    }

    /// The name of a code of list `T` in the page's language ("—" for an unknown code).
    pub fn name_of<T: codes::Named>(&self, code: &str) -> &'static str {
        match T::from_code(code).map(|v| v.names()) {
            Some((zh, en)) => {
                if self.is_zh() {
                    zh
                } else {
                    en
                }
            }
            None => "—",
        }
    }

    pub fn exchange_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::Exchange>(code)
    }

    pub fn province_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::Province>(code)
    }

    pub fn kind_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::OrgKind>(code)
    }

    pub fn field_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::Field>(code)
    }

    pub fn ip_type_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::IpType>(code)
    }

    pub fn mode_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::TransactionMode>(code)
    }

    pub fn pricing_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::PricingMode>(code)
    }

    pub fn contract_name(&self, code: &str) -> &'static str {
        self.name_of::<codes::ContractType>(code)
    }

    pub fn exchanges(&self) -> &'static [codes::Exchange] {
        codes::Exchange::ALL
    }
    pub fn provinces(&self) -> &'static [codes::Province] {
        codes::Province::ALL
    }
    pub fn org_kinds(&self) -> &'static [codes::OrgKind] {
        codes::OrgKind::ALL
    }
    pub fn fields(&self) -> &'static [codes::Field] {
        codes::Field::ALL
    }
    pub fn ip_types(&self) -> &'static [codes::IpType] {
        codes::IpType::ALL
    }
    pub fn modes(&self) -> &'static [codes::TransactionMode] {
        codes::TransactionMode::ALL
    }
}

use chrono::Offset;

#[cfg(test)]
mod in_lang_tests {
    use super::*;

    fn ctx(lang: Lang) -> PageCtx {
        PageCtx::from_request(&RequestCtx {
            lang,
            is_api: false,
            path: "/".into(),
            query: None,
            user: None,
            csrf: String::new(),
            unread: 0,
            session_secret: None,
        })
    }

    #[test]
    fn bilingual_names_show_the_pages_language_only() {
        let v1 = "统一收费标准 v1 / Unified schedule v1";
        assert_eq!(ctx(Lang::Zh).in_lang(v1), "统一收费标准 v1");
        assert_eq!(ctx(Lang::En).in_lang(v1), "Unified schedule v1");
        let v2 =
            "统一收费标准 v2（草案：单方封顶 50 万元）/ Unified v2 (draft: cap ¥500,000 per side)";
        assert_eq!(
            ctx(Lang::Zh).in_lang(v2),
            "统一收费标准 v2（草案：单方封顶 50 万元）"
        );
        assert_eq!(
            ctx(Lang::En).in_lang(v2),
            "Unified v2 (draft: cap ¥500,000 per side)"
        );
        // Anything else is left alone.
        for name in ["统一收费标准 v3", "Schedule 1/2", "川渝/成渝 标准"] {
            assert_eq!(ctx(Lang::Zh).in_lang(name), name);
            assert_eq!(ctx(Lang::En).in_lang(name), name);
        }
    }
}
