//! HTML pages (askama), server-rendered and working without JavaScript.
/// Home, register, log in and out, my account, inbox.
pub mod accounts;
/// Administration pages.
pub mod admin;
/// The audit log in sentences of the page's language, with the raw record beside each.
pub mod audit;
/// Pages: technology brokers (directory, a broker's deals, certification, the trade page's step).
pub mod brokers;
/// Pages: transaction certificates (交易鉴证书) and their public verification.
pub mod certificates;
/// Chart geometry (scales, ticks, bars, lines, legends) for every chart a page draws; no I/O.
pub mod chart;
/// The confirmation step of the forms that bind money (amounts in 元, 万元 and 大写, fees, totals).
pub mod confirm;
/// Pages: Technology demands and matching.
pub mod demands;
/// Pages: opening a dispute, the admins' dispute queue and decisions; payouts.
pub mod disputes;
/// Pages: the expert pool, evaluation panels, scoring forms, published reports.
pub mod experts;
/// Pages: Fee schedules: quotes, versions, maker–checker approval, simulation.
pub mod fees;
/// Technology finance: lenders' products, pledge requests.
pub mod finance;
/// Page: the home page (newest listings, running auctions, demands, figures, notices).
pub mod home;
/// Pages: the exchanges' own systems (API keys, webhooks, deliveries).
pub mod interconnect;
/// Pages: Technology achievements: drafting, review, search.
pub mod listings;
/// Pages: colleagues in one organisation (members, roles, invitations) and joining by invitation.
pub mod organization;
/// Pages: the settlement account of an admin's exchange.
pub mod payments;
/// QR codes as inline SVG (the one markup templates insert unescaped).
pub mod qr;
/// Pages: Payment, delivery, the ledger, statements, credit restrictions.
pub mod settlement;
/// Pages: the public statistics dashboard.
pub mod stats;
/// Pages: Offers, fixed-price purchases and auctions.
pub mod trading;
/// Page: two-factor sign-in (enrolment, recovery codes).
pub mod two_factor;

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::Error;
use crate::http::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route(
            "/register",
            get(accounts::register_page).post(accounts::register_submit),
        )
        .route(
            "/login",
            get(accounts::login_page).post(accounts::login_submit),
        )
        .route("/logout", post(accounts::logout))
        .route("/account", get(accounts::account))
        .route("/inbox", get(accounts::inbox).post(accounts::inbox_read))
        .route("/admin", get(admin::index))
        .route("/admin/organizations/{id}/verify", post(admin::verify))
        .route("/admin/audit", get(admin::audit))
        .merge(settlement::router())
        .merge(certificates::router())
        .merge(two_factor::router())
        .merge(organization::router())
        .merge(payments::router())
        .merge(disputes::router())
        .merge(trading::router())
        .merge(demands::router())
        .merge(listings::router())
        .merge(fees::router())
        .merge(interconnect::router())
        .merge(stats::router())
        .merge(finance::router())
        .merge(experts::router())
        .merge(brokers::router())
        .route("/admin/organizations/{id}/refuse", post(admin::refuse))
}

/// Renders a page; a template failure is an internal error (logged, never shown).
pub fn render<T: Template>(t: &T) -> Result<Response, Error> {
    let html = t
        .render()
        .map_err(|e| Error::Internal(anyhow::anyhow!("template failed: {e}")))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// A local path to return to after login (never another site), ready for a `Location` header.
/// Browsers drop tabs and newlines from a URL and read `\` as `/`, so `/<TAB>/evil.example` would
/// be `//evil.example`: control characters, spaces and backslashes are refused outright.
/// Non-ASCII characters (a Chinese search, say) are percent-encoded.
pub fn safe_next(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2000
        && !next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if !ok {
        return None;
    }
    let mut out = String::with_capacity(next.len());
    for c in next.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Some(out)
}

/// Field errors of a form, translated, by field name.
#[derive(Debug, Default, Clone)]
pub struct FormErrors(pub Vec<(String, String)>);

impl FormErrors {
    pub fn from_error(lang: crate::i18n::Lang, e: &Error) -> Self {
        match e {
            Error::Validation(f)
            | Error::Unprocessable { fields: f, .. }
            | Error::BadRequest {
                fields: Some(f), ..
            } => FormErrors(
                f.0.iter()
                    .map(|fe| (fe.path.clone(), crate::i18n::tf(lang, fe.key, &fe.args)))
                    .collect(),
            ),
            _ => FormErrors::default(),
        }
    }

    /// The message for one field, or "".
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(k, _)| k == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_come_back() {
        assert_eq!(safe_next("/trades/1?x=2").as_deref(), Some("/trades/1?x=2"));
        assert_eq!(
            safe_next("/listings?q=芯片").as_deref(),
            Some("/listings?q=%E8%8A%AF%E7%89%87")
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/\u{1}",
            "https://evil.example",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
