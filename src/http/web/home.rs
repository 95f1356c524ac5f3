//! The home page (issue 18): what is live now — the newest listings, the running auctions with
//! their current price and a countdown (text without JavaScript, updated each second with it), the
//! upcoming auctions with their start, start price and the time until they open, the
//! newest demands, the market's headline figures and the notices (挂牌公告, 成交公示) — from the
//! boards each process keeps in memory (`service::home`) and the statistics' snapshot.
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::extract::Ctx;
use crate::http::state::AppState;
use crate::http::web::render;
use crate::service::home::Boards;
use crate::service::home::HomeAuction;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    /// The market's headline figures (from the statistics' snapshot in memory), with a link to
    /// `/stats`; left out if the statistics cannot be had.
    figures: Option<crate::http::web::stats::Headline>,
    boards: Arc<Boards>,
    now: DateTime<Utc>,
}

impl HomePage {
    /// The auctions still running at `now` (the boards may be a few seconds old).
    fn auctions(&self) -> Vec<&HomeAuction> {
        self.boards
            .auctions
            .iter()
            .filter(|a| a.ends_at > self.now)
            .collect()
    }

    /// The upcoming auctions that have not opened at `now` (an auction opens at its start; the
    /// boards may be a few seconds old).
    fn upcoming(&self) -> Vec<&HomeAuction> {
        self.boards
            .upcoming
            .iter()
            .filter(|a| a.starts_at.is_some_and(|s| s > self.now))
            .collect()
    }

    /// How long until an upcoming auction opens, in words (`2天3小时`).
    fn starts_in(&self, starts_at: &DateTime<Utc>) -> String {
        span_words(&self.ctx, self.now, *starts_at)
    }

    /// The current price: the leading bid, else the start price.
    fn current(&self, a: &HomeAuction) -> String {
        self.ctx
            .wan(&a.leading_bid_fen.unwrap_or(a.start_price_fen))
    }

    fn time_left(&self, ends_at: &DateTime<Utc>) -> String {
        time_left(&self.ctx, self.now, *ends_at)
    }

    fn iso(&self, at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    fn date(&self, at: &DateTime<Utc>) -> String {
        self.ctx.time(at).chars().take(10).collect()
    }

    fn price(&self, mode: &str, price_fen: &Option<i64>) -> String {
        match (mode, price_fen) {
            ("negotiable", Some(p)) => {
                format!("{} {}", self.ctx.t("listings.indicative"), self.ctx.wan(p))
            }
            (_, Some(p)) => self.ctx.wan(p),
            (_, None) => self.ctx.t("listings.price_negotiable").to_string(),
        }
    }
}

/// What is left until `ends_at`, to the minute (`2天 03:12` / `2 d 03:12`); the page's script
/// counts it down to the second.
pub fn time_left(ctx: &PageCtx, now: DateTime<Utc>, ends_at: DateTime<Utc>) -> String {
    let secs = (ends_at - now).num_seconds().max(0);
    if secs == 0 {
        return ctx.t("trading.auction.ended").to_string();
    }
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    let hm = format!("{h:02}:{m:02}");
    if d > 0 {
        format!("{d}{} {hm}", ctx.t("trading.auction.days"))
    } else {
        hm
    }
}

/// A span of time in words, to the hour beyond a day and to the minute within it
/// (`2天3小时` / `2d 3h`, `3小时12分` / `3h 12m`, `12分钟` / `12m`; at least a minute).
pub fn span_words(ctx: &PageCtx, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let secs = (to - from).num_seconds().max(60);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    let n = |v: i64| v.to_string();
    if d > 0 {
        crate::i18n::tf(ctx.lang, "portal.left_days", &[("d", n(d)), ("h", n(h))])
    } else if h > 0 {
        crate::i18n::tf(ctx.lang, "portal.left_hours", &[("h", n(h)), ("m", n(m))])
    } else {
        crate::i18n::tf(ctx.lang, "portal.left_minutes", &[("m", n(m))])
    }
}

/// What is left of an auction in words (`剩余 2天3小时` / `2d 3h left`), or `已结束` / `Ended`.
pub fn time_left_words(ctx: &PageCtx, now: DateTime<Utc>, ends_at: DateTime<Utc>) -> String {
    if ends_at <= now {
        return ctx.t("trading.auction.ended").to_string();
    }
    ctx.t1("portal.left", "t", &span_words(ctx, now, ends_at))
}

pub async fn page(State(state): State<AppState>, Ctx(ctx, _): Ctx) -> Result<Response> {
    let figures = match crate::service::stats::current(&state).await {
        Ok(s) => Some(crate::http::web::stats::Headline::of(s.as_of, &s.stats)),
        Err(e) => {
            tracing::warn!(error = %e, "statistics unavailable for the home page");
            None
        }
    };
    let boards = crate::service::home::boards(&state).await?;
    render(&HomePage {
        ctx,
        figures,
        boards,
        now: state.clock.now(),
    })
}
