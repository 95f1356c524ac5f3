//! Pages: the trading panel of the listing page (offer form, buy button, live auction), the
//! negotiation thread, my negotiations, the forms they post to, and the live auction event stream.
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use crate::db;
use crate::db::trading::AuctionEvent;
use crate::domain::error::FieldErrors;
use crate::domain::money::{format_yuan, parse_yuan, MAX_AMOUNT_FEN};
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::confirm::{self, Step};
use crate::http::web::render;
use crate::i18n;
use crate::service::trading::{
    self, BidInput, BuyInput, CounterInput, OfferInput, OfferView, PreviewOf, Thread,
};
use crate::service::PageQuery;

/// The trading panel of the listing page.
/// The administrator's page of an auction's deposits.
mod deposits;
mod panel;

pub use panel::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/my/offers", get(my_offers))
        .route("/offers/{id}", get(thread_page))
        .route("/offers/{id}/counter", post(counter_submit))
        .route("/offers/{id}/accept", post(accept_submit))
        .route("/offers/{id}/reject", post(reject_submit))
        .route("/offers/{id}/withdraw", post(withdraw_submit))
        .route("/listings/{id}/offers", post(offer_submit))
        .route("/listings/{id}/buy", post(buy_submit))
        .route("/listings/{id}/bids", post(bid_submit))
        .route("/listings/{id}/negotiation", get(negotiation))
        .route("/listings/{id}/auction/events", get(auction_events))
        .merge(deposits::router())
}

/// The translated message of an error code passed back in a redirect, if it is one we know.
pub(super) fn error_text(ctx: &PageCtx, code: &str, args: &[(&str, String)]) -> String {
    let key = if code.starts_with("err.") {
        code.to_string()
    } else {
        format!("error.{code}")
    };
    if code.len() > 80 || !i18n::catalog(ctx.lang).contains_key(&key) {
        return String::new();
    }
    // Limits every amount message may name (`{max}`), filled in whatever the form, and an
    // outlier's factor and reference passed back by the redirect (digits only).
    let mut all = args.to_vec();
    all.push(("max", format_yuan(MAX_AMOUNT_FEN)));
    if let Some(f) = ctx
        .query_param("factor")
        .filter(|f| f.len() <= 24 && f.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        all.push(("factor", f));
    }
    if let Some(r) = ctx
        .query_param("reference_fen")
        .and_then(|r| r.parse::<i64>().ok())
    {
        all.push(("reference", format_yuan(r)));
    }
    i18n::tf(ctx.lang, &key, &all)
}

// ---------------------------------------------------------------- forms

/// Where a failed form goes back to: the same page with the error's code (or the first field
/// error's key) in `trading_error`, and what was `typed` in the form to fill it in again.
fn back_with_error(base: &str, e: &Error, typed: &[(&str, &str)]) -> Response {
    let code = match e {
        Error::Validation(f) | Error::Unprocessable { fields: f, .. } => {
            f.0.first().map(|fe| fe.key).unwrap_or("validation_failed")
        }
        other => other.code(),
    };
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("trading_error", code);
    // An outlier's factor and reference, so the page names them.
    if let Error::Unprocessable {
        extra: Some(extra), ..
    } = e
    {
        if let Some(f) = extra["factor"].as_str() {
            q.append_pair("factor", f);
        }
        if let Some(r) = extra["reference_fen"].as_i64() {
            q.append_pair("reference_fen", &r.to_string());
        }
    }
    for (name, v) in typed.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(name, &v.chars().take(2000).collect::<String>());
    }
    Redirect::to(&format!("{base}?{}#trading", q.finish())).into_response()
}

/// Errors a form answers by going back with a message; anything else is the error page.
fn is_user_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Validation(_)
            | Error::Unprocessable { .. }
            | Error::Conflict { .. }
            | Error::Forbidden(_)
            | Error::BadRequest { .. }
    )
}

fn parse_amount(form: &Form, name: &str) -> Result<i64> {
    parse_yuan(form.get(name)).map_err(|e| {
        let mut f = FieldErrors::new();
        f.push_err("amount_fen", &e);
        Error::Validation(f)
    })
}

fn finish_form(result: Result<Response>, back: &str) -> Result<Response> {
    match result {
        Err(e) if is_user_error(&e) => Ok(back_with_error(back, &e, &[])),
        other => other,
    }
}

/// As [`finish_form`], and a refused offer or counter-offer comes back with what was typed in it
/// (amount, mode, message) so that the user corrects it instead of typing it again.
fn finish_form_keeping(result: Result<Response>, back: &str, form: &Form) -> Result<Response> {
    match result {
        Err(e) if is_user_error(&e) => {
            let typed = ["amount", "transaction_mode", "message"].map(|n| (n, form.get(n)));
            Ok(back_with_error(back, &e, &typed))
        }
        other => other,
    }
}

/// `back` with what was typed (amount, mode, message), for "change" on a confirmation page.
fn back_typed(back: &str, form: &Form) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for n in ["amount", "transaction_mode", "message"] {
        let v = form.get(n);
        if !v.is_empty() {
            q.append_pair(n, &v.chars().take(2000).collect::<String>());
        }
    }
    format!("{back}?{}#trading", q.finish())
}

fn form_key(form: &Form) -> Option<String> {
    let k = form.get("idempotency_key").trim();
    (!k.is_empty() && k.len() <= 200).then(|| k.to_string())
}

async fn offer_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let back = format!("/listings/{id}");
    let result = async {
        let amount_fen = parse_amount(&form, "amount")?;
        if !confirm::confirmed(&form) {
            let of = PreviewOf::Offer {
                listing_id: id,
                amount_fen,
            };
            let step = Step {
                kind: "offer",
                action: format!("/listings/{id}/offers"),
                back: back_typed(&back, &form),
                of,
            };
            return confirm::page(&state, ctx, &user, &form, step).await;
        }
        let message = form.get("message").to_string();
        let input = OfferInput {
            amount_fen,
            transaction_mode: form.get("transaction_mode").to_string(),
            message: (!message.trim().is_empty()).then_some(message),
            confirm_outlier: confirm::outlier_confirmed(&form),
        };
        let (_, body) = trading::make_offer(&state.pool, &user, id, input, form_key(&form)).await?;
        let thread = body["thread_id"].as_str().unwrap_or_default().to_string();
        Ok(Redirect::to(&format!("/offers/{thread}?trading=offer")).into_response())
    }
    .await;
    finish_form_keeping(result, &back, &form)
}

async fn buy_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let back = format!("/listings/{id}");
    let result = async {
        // A purchase is binding at once: the buyer ticks that they confirm the total, then sees
        // price, both fees and the total before the purchase is sent.
        if form.get("confirm") != "1" {
            let mut f = FieldErrors::new();
            f.push("confirm", "err.trading.confirm_buy", vec![]);
            return Err(Error::Validation(f));
        }
        if !confirm::confirmed(&form) {
            let step = Step {
                kind: "buy",
                action: format!("/listings/{id}/buy"),
                back: back.clone(),
                of: PreviewOf::Buy { listing_id: id },
            };
            return confirm::page(&state, ctx, &user, &form, step).await;
        }
        let input = BuyInput {
            transaction_mode: form.get("transaction_mode").to_string(),
        };
        let (_, body) = trading::buy(&state.pool, &user, id, input, form_key(&form)).await?;
        let trade = body["trade"]["id"].as_str().unwrap_or_default().to_string();
        Ok(Redirect::to(&format!("/trades/{trade}?done=bought")).into_response())
    }
    .await;
    finish_form(result, &back)
}

async fn bid_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let back = format!("/listings/{id}");
    let result = async {
        let amount_fen = parse_amount(&form, "amount")?;
        if !confirm::confirmed(&form) {
            let of = PreviewOf::Bid {
                listing_id: id,
                amount_fen,
            };
            let step = Step {
                kind: "bid",
                action: format!("/listings/{id}/bids"),
                back: back_typed(&back, &form),
                of,
            };
            return confirm::page(&state, ctx, &user, &form, step).await;
        }
        let mode = form.get("transaction_mode").trim();
        let input = BidInput {
            amount_fen,
            transaction_mode: (!mode.is_empty()).then(|| mode.to_string()),
            confirm_outlier: confirm::outlier_confirmed(&form),
        };
        trading::place_bid(&state, &user, id, input, form_key(&form)).await?;
        Ok(Redirect::to(&format!("/listings/{id}?trading=bid#trading")).into_response())
    }
    .await;
    finish_form(result, &back)
}

/// The offer's thread page, for redirects after an action on one offer.
async fn thread_of_offer(state: &AppState, user: &crate::auth::CurrentUser, offer: Uuid) -> String {
    match trading::get_offer(&state.pool, user, offer).await {
        Ok(o) => format!("/offers/{}", o.thread_id),
        Err(_) => "/my/offers".to_string(),
    }
}

async fn counter_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let back = thread_of_offer(&state, &user, id).await;
    let result = async {
        let amount_fen = parse_amount(&form, "amount")?;
        if !confirm::confirmed(&form) {
            let of = PreviewOf::Counter {
                offer_id: id,
                amount_fen,
            };
            let step = Step {
                kind: "counter",
                action: format!("/offers/{id}/counter"),
                back: back_typed(&back, &form),
                of,
            };
            return confirm::page(&state, ctx, &user, &form, step).await;
        }
        let message = form.get("message").to_string();
        let input = CounterInput {
            amount_fen,
            message: (!message.trim().is_empty()).then_some(message),
            confirm_outlier: confirm::outlier_confirmed(&form),
        };
        trading::counter(&state.pool, &user, id, input, form_key(&form)).await?;
        Ok(Redirect::to(&format!("{back}?trading=counter")).into_response())
    }
    .await;
    finish_form_keeping(result, &back, &form)
}

async fn accept_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let back = thread_of_offer(&state, &user, id).await;
    let result = async {
        if !confirm::confirmed(&form) {
            let step = Step {
                kind: "accept",
                action: format!("/offers/{id}/accept"),
                back: back.clone(),
                of: PreviewOf::Accept { offer_id: id },
            };
            return confirm::page(&state, ctx, &user, &form, step).await;
        }
        let (_, body) = trading::accept(&state.pool, &user, id, form_key(&form)).await?;
        let trade = body["trade"]["id"].as_str().unwrap_or_default().to_string();
        Ok(Redirect::to(&format!("/trades/{trade}")).into_response())
    }
    .await;
    finish_form(result, &back)
}

async fn reject_submit(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    decline_submit(&state, &user, &id, false).await
}

async fn withdraw_submit(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    decline_submit(&state, &user, &id, true).await
}

/// Rejecting (the other party) or withdrawing (its maker) an offer, back to its thread.
async fn decline_submit(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    id: &str,
    withdraw: bool,
) -> Result<Response> {
    let id = parse_id(id)?;
    let back = thread_of_offer(state, user, id).await;
    let notice = if withdraw { "withdraw" } else { "reject" };
    let result = async {
        trading::decline(&state.pool, user, id, withdraw).await?;
        Ok(Redirect::to(&format!("{back}?trading={notice}")).into_response())
    }
    .await;
    finish_form(result, &back)
}

// ---------------------------------------------------------------- pages

#[derive(Template)]
#[template(path = "trading/thread.html")]
struct ThreadPage {
    ctx: PageCtx,
    thread: Thread,
    notice: String,
    error: String,
}

impl ThreadPage {
    fn side_name(&self, made_by: &str) -> String {
        let key = if made_by == "seller" {
            "trading.seller"
        } else {
            "trading.buyer"
        };
        self.ctx.t(key).to_string()
    }
    fn status_name(&self, status: &str) -> String {
        error_text_plain(&self.ctx, &format!("trading.offer_status.{status}"))
    }
    fn status_class(&self, status: &str) -> &'static str {
        match status {
            "open" => "info",
            "accepted" => "ok",
            "countered" => "warn",
            _ => "err",
        }
    }
    /// The open offer is the other party's: the viewer may accept, counter or reject it.
    fn my_turn(&self, o: &OfferView) -> bool {
        o.made_by != self.thread.my_side
    }
}

fn error_text_plain(ctx: &PageCtx, key: &str) -> String {
    if i18n::catalog(ctx.lang).contains_key(key) {
        i18n::t(ctx.lang, key).to_string()
    } else {
        key.rsplit('.').next().unwrap_or(key).to_string()
    }
}

async fn thread_page(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let thread = trading::thread(&state.pool, &user, id, state.clock.now()).await?;
    let notice = ctx
        .query_param("trading")
        .map(|d| format!("trading.done.{d}"))
        .filter(|k| i18n::catalog(ctx.lang).contains_key(k))
        .map(|k| i18n::t(ctx.lang, &k).to_string())
        .unwrap_or_default();
    let error = ctx
        .query_param("trading_error")
        .map(|c| error_text(&ctx, &c, &[]))
        .unwrap_or_default();
    render(&ThreadPage {
        ctx,
        thread,
        notice,
        error,
    })
}

/// `/listings/{id}/negotiation`: the viewer's thread on this listing (the seller: all threads).
async fn negotiation(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let org = user.require_org()?;
    let mut conn = state.pool.acquire().await?;
    match db::trading::thread_of(&mut conn, id, org).await? {
        Some(t) => Ok(Redirect::to(&format!("/offers/{t}")).into_response()),
        None => Ok(Redirect::to("/my/offers").into_response()),
    }
}

#[derive(Template)]
#[template(path = "trading/my_offers.html")]
struct MyOffersPage {
    ctx: PageCtx,
    items: Vec<OfferView>,
    my_org: Uuid,
    page: i64,
    pages: i64,
}

impl MyOffersPage {
    fn counterparty<'a>(&self, o: &'a OfferView) -> &'a str {
        if o.seller_organization_id == self.my_org {
            &o.buyer_organization_name
        } else {
            &o.seller_organization_name
        }
    }
    fn my_role(&self, o: &OfferView) -> String {
        let key = if o.seller_organization_id == self.my_org {
            "trading.seller"
        } else {
            "trading.buyer"
        };
        self.ctx.t(key).to_string()
    }
    fn status_name(&self, status: &str) -> String {
        error_text_plain(&self.ctx, &format!("trading.offer_status.{status}"))
    }
}

#[derive(serde::Deserialize)]
struct PageParam {
    page: Option<i64>,
}

async fn my_offers(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    axum::extract::Query(q): axum::extract::Query<PageParam>,
) -> Result<Response> {
    let my_org = user.require_org()?;
    let page = trading::my_threads(
        &state.pool,
        &user,
        PageQuery {
            page: Some(q.page.unwrap_or(1).clamp(1, 1_000_000)),
            per_page: Some(20),
        },
    )
    .await?;
    let pages = ((page.total + 19) / 20).max(1);
    render(&MyOffersPage {
        ctx,
        items: page.items,
        my_org,
        page: page.page,
        pages,
    })
}

// ---------------------------------------------------------------- live events

/// `GET /listings/{id}/auction/events`: Server-Sent Events with the auction's state after every bid
/// and at the close (fed by `pg_notify('auction_events')`, so every server process sees every bid).
/// The first event is the current state.
async fn auction_events(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let id = parse_id(&id)?;
    let org = ctx.user.as_ref().and_then(|u| u.organization_id);
    // Subscribe first, so no bid between the snapshot and the subscription is lost.
    let rx = state.events.subscribe();
    let first = trading::auction_view(&state.pool, org, id).await?;
    let first = serde_json::json!({ "listing_id": id, "auction": first }).to_string();
    let wanted = id.to_string();
    let updates = BroadcastStream::new(rx).filter_map(move |e| {
        let wanted = wanted.clone();
        async move {
            match e {
                Ok(ev) if ev.channel == "auction_events" => {
                    // Cheap filter first: most events are about other auctions.
                    if !ev.payload.contains(wanted.as_str()) {
                        return None;
                    }
                    let ev: AuctionEvent = serde_json::from_str(&ev.payload).ok()?;
                    (ev.listing_id == id).then(|| {
                        let mut msg = trading::event_json(&ev);
                        // The viewer's own standing: whether it leads, and whether this very bid
                        // outbid it (its inbox has the notice too).
                        if let Some(org) = org {
                            msg["you"] = serde_json::json!({
                                "lead": ev.row.leading_org_id == Some(org),
                                "outbid": ev.row.outbid_org_id == Some(org),
                            });
                        }
                        Ok(Event::default().event("auction").data(msg.to_string()))
                    })
                }
                // The listener reconnected: events may have been missed meanwhile.
                Ok(ev) if ev.channel == crate::service::events::live::RESYNC => {
                    Some(Ok(Event::default().event("reload").data("{}")))
                }
                Ok(_) => None,
                // Missed events: the page should fetch the whole state again.
                Err(_) => Some(Ok(Event::default().event("reload").data("{}"))),
            }
        }
    });
    let stream = stream::once(async move { Ok(Event::default().event("auction").data(first)) })
        .chain(updates);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::http::context::RequestCtx;
    use crate::i18n::Lang;
    use crate::service::trading::AuctionView;

    #[derive(Template)]
    #[template(source = "{% include \"trading/_listing_panel.html\" %}", ext = "html")]
    struct PanelOnly {
        ctx: PageCtx,
        panel: ListingPanel,
    }

    fn ctx(lang: Lang) -> PageCtx {
        PageCtx::from_request(&RequestCtx {
            lang,
            is_api: false,
            path: "/listings/x".into(),
            query: None,
            user: None,
            csrf: "c".into(),
            unread: 0,
            session_secret: None,
        })
    }

    #[test]
    fn the_panel_renders_with_only_panel_and_ctx_in_scope() {
        let now = chrono::Utc::now();
        let auction = AuctionView {
            listing_id: Uuid::now_v7(),
            status: "open".into(),
            start_price_fen: 100_000,
            increment_fen: 10_000,
            current_price_fen: 120_000,
            bid_count: 2,
            ends_at: now,
            reserve_met: false,
            has_reserve: true,
            reserve_fen: None,
            trade_id: None,
            min_next_bid_fen: 130_000,
            extension_seconds: 300,
            deposit_fen: None,
            starts_at: None,
            bids: vec![trading::BidView {
                bidder: "竞买人1".into(),
                bidder_en: "Bidder 1".into(),
                amount_fen: 120_000,
                at: now,
            }],
        };
        for (mode, lang) in [
            ("auction", Lang::Zh),
            ("fixed", Lang::En),
            ("negotiable", Lang::Zh),
            ("", Lang::En),
        ] {
            let panel = ListingPanel {
                listing_id: "l1".into(),
                pricing_mode: mode.into(),
                listed: true,
                signed_in: true,
                modes: vec!["transfer".into(), "nonexclusive_license".into()],
                price_fen: Some(5_000_000),
                buyer_fee_fen: Some(75_000),
                auction: (mode == "auction").then(|| auction.clone()),
                min_next_yuan: "1300".into(),
                ends_at_iso: now.to_rfc3339(),
                ..Default::default()
            };
            let html = PanelOnly {
                ctx: ctx(lang),
                panel,
            }
            .render()
            .unwrap();
            if mode == "auction" {
                assert!(html.contains("竞买人1"), "{html}");
                assert!(html.contains("value=\"1300\""), "{html}");
                assert!(html.contains("/static/trading.js"));
            }
            if mode == "fixed" {
                assert!(html.contains("/listings/l1/buy"), "{html}");
            }
        }
    }
}
