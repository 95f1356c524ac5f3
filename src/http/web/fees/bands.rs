//! A schedule's bands as people read them: `100万元 – 500万元 · 1%`, one table per side (one for
//! both when they are the same).
use crate::http::context::PageCtx;
use crate::service::fees::SideView;

pub(super) struct BandRow {
    pub from: String,
    pub to: String,
    pub rate: String,
}

pub(super) fn band_rows(ctx: &PageCtx, side: &SideView) -> Vec<BandRow> {
    let mut lower = 0i64;
    side.bands
        .iter()
        .map(|b| {
            let row = BandRow {
                from: ctx.wan(&lower),
                to: match b.up_to_fen {
                    Some(u) => ctx.wan(&u),
                    None => ctx.t("fees.bands.and_above").to_string(),
                },
                rate: ctx.percent(&b.rate_ppm),
            };
            lower = b.up_to_fen.unwrap_or(lower);
            row
        })
        .collect()
}

/// One side's table, for `fees::bands` in `templates/fees/_parts.html`.
pub(super) struct BandsTable {
    pub caption: String,
    pub rows: Vec<BandRow>,
    pub min_fee_fen: i64,
    pub max_fee_fen: Option<i64>,
}

/// The bands of both sides; one table when they are the same.
pub(super) fn bands_tables(ctx: &PageCtx, buyer: &SideView, seller: &SideView) -> Vec<BandsTable> {
    let sides: Vec<(&str, &SideView)> = if buyer == seller {
        vec![("fees.bands.both_sides", buyer)]
    } else {
        vec![("fees.editor.buyer", buyer), ("fees.editor.seller", seller)]
    };
    sides
        .into_iter()
        .map(|(caption, side)| BandsTable {
            caption: ctx.t(caption).to_string(),
            rows: band_rows(ctx, side),
            min_fee_fen: side.min_fee_fen,
            max_fee_fen: side.max_fee_fen,
        })
        .collect()
}
