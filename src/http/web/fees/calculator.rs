//! The public calculator: what a trade of a given amount costs under each schedule.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use crate::domain::error::ErrorKey;
use crate::domain::money::{parse_yuan, AmountError};
use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::extract::Ctx;
use crate::http::state::AppState;
use crate::http::web::render;
use crate::i18n::{self, Lang};
use crate::service::fees::{self, ScheduleView};

use super::bands::{bands_tables, BandsTable};
use super::figure::{figure, public_series, rate_per_side_ppm, Figure};

/// One schedule's column of the result.
pub struct CalcColumn {
    pub label: String,
    pub class: &'static str,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
    pub rate_ppm: i64,
    pub buyer_pays_fen: i64,
    pub seller_gets_fen: i64,
}

#[derive(Template)]
#[template(path = "fees/calculator.html")]
struct CalculatorPage {
    ctx: PageCtx,
    amount: String,
    error: String,
    amount_fen: i64,
    columns: Vec<CalcColumn>,
    current: ScheduleView,
    bands: Vec<BandsTable>,
    figure: Figure,
}

impl CalculatorPage {
    fn result_title(&self) -> String {
        self.ctx.t1(
            "fees.calc.result_for",
            "amount",
            &self.ctx.wan(&self.amount_fen),
        )
    }
}

#[derive(Debug, Deserialize)]
pub struct CalcQuery {
    amount: Option<String>,
}

fn amount_error(lang: Lang, e: &AmountError) -> String {
    i18n::tf(lang, e.key(), &e.args())
}

pub async fn calculator(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Query(q): Query<CalcQuery>,
) -> Result<Response> {
    let current = fees::in_force(&state.pool, Utc::now()).await?;
    let series = public_series(ctx.lang, &current);
    let amount = q.amount.unwrap_or_default();
    let (amount_fen, error) = if amount.trim().is_empty() {
        (0, String::new())
    } else {
        match parse_yuan(&amount) {
            Ok(fen) => (fen, String::new()),
            Err(e) => (0, amount_error(ctx.lang, &e)),
        }
    };
    let columns = if amount_fen > 0 {
        series
            .iter()
            .map(|s| {
                let q = s.schedule.quote(amount_fen);
                CalcColumn {
                    label: s.label.clone(),
                    class: s.look.class,
                    buyer_fee_fen: q.buyer_fee_fen,
                    seller_fee_fen: q.seller_fee_fen,
                    total_fee_fen: q.total_fee_fen,
                    rate_ppm: rate_per_side_ppm(&s.schedule, amount_fen),
                    buyer_pays_fen: amount_fen.saturating_add(q.buyer_fee_fen),
                    seller_gets_fen: amount_fen.saturating_sub(q.seller_fee_fen),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let figure = figure(ctx.lang, &series, (amount_fen > 0).then_some(amount_fen));
    let bands = bands_tables(&ctx, &current.buyer, &current.seller);
    let page = CalculatorPage {
        ctx,
        amount,
        error,
        amount_fen,
        columns,
        current,
        bands,
        figure,
    };
    let mut resp = render(&page)?;
    if !page.error.is_empty() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}
