//! The confirmation step of every form that binds money (bid, offer, counter-offer, accept, buy):
//! before it is sent, the amount in 元, in 万元 and in capital numerals (大写), the buyer's and the
//! seller's fee, what the buyer pays and the seller receives; an amount far above its reference
//! must be confirmed explicitly (`confirm_outlier`). The page posts the same form again with
//! `confirmed=1`. Works without JavaScript.
use std::borrow::Borrow;

use askama::Template;
use axum::response::Response;

use crate::domain::amounts;
use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::extract::Form;
use crate::http::state::AppState;
use crate::http::web::render;
use crate::service::trading::{self, Preview, PreviewOf};

/// Whether the form was sent from its confirmation page.
pub fn confirmed(form: &Form) -> bool {
    form.get("confirmed") == "1"
}

/// Whether the sender ticked the outlier confirmation.
pub fn outlier_confirmed(form: &Form) -> bool {
    form.get("confirm_outlier") == "1"
}

#[derive(Template)]
#[template(path = "trading/confirm.html")]
struct ConfirmPage {
    ctx: PageCtx,
    /// `bid` | `offer` | `counter` | `accept` | `buy`
    kind: &'static str,
    action: String,
    back: String,
    /// The fields of the form to send again (not the CSRF token: the page has its own).
    hidden: Vec<(String, String)>,
    p: Preview,
}

impl ConfirmPage {
    fn title(&self) -> String {
        self.ctx
            .t(&format!("confirm.title.{}", self.kind))
            .to_string()
    }
    /// 万元 in both languages (the unit contracts use).
    fn wan(&self, fen: impl Borrow<i64>) -> String {
        crate::domain::money::format_wan(*fen.borrow())
    }
    fn yuan(&self, fen: impl Borrow<i64>) -> String {
        crate::domain::money::format_yuan(*fen.borrow())
    }
    fn capital(&self, fen: impl Borrow<i64>) -> String {
        amounts::capital(*fen.borrow())
    }
    fn note(&self) -> String {
        self.ctx
            .t(&format!("confirm.note.{}", self.kind))
            .to_string()
    }
    /// Accepting and buying close the deal: show both fees and both totals.
    fn is_deal(&self) -> bool {
        matches!(self.kind, "accept" | "buy")
    }
    fn outlier_text(&self) -> String {
        let f = self.p.outlier_factor.clone().unwrap_or_default();
        let r = self.ctx.money(&self.p.reference_fen.unwrap_or_default());
        crate::i18n::tf(
            self.ctx.lang,
            "err.trading.outlier",
            &[("factor", f), ("reference", r)],
        )
    }
}

/// One confirmation: what it confirms, where the form goes, where "change" goes back to.
pub struct Step {
    /// `bid` | `offer` | `counter` | `accept` | `buy`
    pub kind: &'static str,
    pub action: String,
    pub back: String,
    pub of: PreviewOf,
}

/// Renders the confirmation of `step`, re-posting `form` to its action.
pub async fn page(
    state: &AppState,
    ctx: PageCtx,
    user: &crate::auth::CurrentUser,
    form: &Form,
    step: Step,
) -> Result<Response> {
    let Step {
        kind,
        action,
        back,
        of,
    } = step;
    let p = trading::preview(&state.pool, user, of).await?;
    let hidden = form
        .0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_csrf" | "confirmed" | "confirm_outlier"))
        .map(|(k, v)| (k.clone(), v.chars().take(2000).collect()))
        .collect();
    render(&ConfirmPage {
        ctx,
        kind,
        action,
        back,
        hidden,
        p,
    })
}
