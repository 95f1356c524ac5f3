//! `GET /api/v1/stats/trades.csv`: one row per settled trade, open data without personal data.
//!
//! No party's name, e-mail or credit code, and no text a member wrote (titles, messages: they may
//! name people): ids, dates, codes and amounts only, with the field's names in both languages.
//! UTF-8 with a byte-order mark so that spreadsheet programs read the Chinese correctly; CRLF line
//! ends (RFC 4180).
//!
//! Streamed: one statement is read row by row (`sqlx` fetch) by a task that sends the CSV in chunks
//! of about [`CHUNK_BYTES`] through a small channel, so memory stays bounded however many trades
//! there are, and a slow reader slows the database cursor down instead of filling memory. A reader
//! that goes away ends the task (and frees its connection) at the next chunk.
use futures_util::TryStreamExt;
use tokio::sync::mpsc;

use crate::db::stats as sdb;
use crate::domain::codes::Field;
use crate::domain::stats::{exchange_province, legacy_comparison};
use crate::error::Result;
use crate::service::AppState;

/// The header row, in column order.
pub const CSV_HEADER: [&str; 23] = [
    "trade_id",
    "listing_id",
    "settled_at",
    "settled_date_shanghai",
    "month_shanghai",
    "field",
    "field_zh",
    "field_en",
    "transaction_mode",
    "contract_type",
    "seller_province",
    "seller_exchange",
    "buyer_province",
    "buyer_exchange",
    "cross_province",
    "price_fen",
    "price_yuan",
    "buyer_fee_fen",
    "seller_fee_fen",
    "legacy_fee_fen",
    "savings_fen",
    "fee_schedule_id",
    // What changed hands: the price, or a split dispute's share settled to the seller.
    "settled_fen",
];

/// About this many bytes are sent at a time.
pub const CHUNK_BYTES: usize = 16 * 1024;
/// Chunks waiting for a slow reader, at most.
const QUEUED_CHUNKS: usize = 4;

/// A chunk of the CSV, or the error that cut it short (the response is then aborted).
pub type Chunk = std::result::Result<String, std::io::Error>;

/// Starts streaming the CSV. The connection is taken before this returns, so a busy pool is an
/// error the caller can still answer with a status; a failure later aborts the download.
pub async fn trades_csv(state: &AppState) -> Result<mpsc::Receiver<Chunk>> {
    let mut conn = state.read_pool.acquire().await?;
    let (tx, rx) = mpsc::channel::<Chunk>(QUEUED_CHUNKS);
    tokio::spawn(async move {
        let mut buf = String::with_capacity(CHUNK_BYTES + 1024);
        buf.push('\u{feff}');
        push_line(&mut buf, CSV_HEADER.iter().map(|s| s.to_string()));
        let mut rows = sdb::stream_csv_rows(&mut conn);
        loop {
            match rows.try_next().await {
                Ok(Some(r)) => {
                    push_line(&mut buf, cells(&r));
                    if buf.len() >= CHUNK_BYTES {
                        let chunk =
                            std::mem::replace(&mut buf, String::with_capacity(CHUNK_BYTES + 1024));
                        if tx.send(Ok(chunk)).await.is_err() {
                            return; // the reader went away
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "trades CSV cut short");
                    let _ = tx.send(Err(std::io::Error::other("database error"))).await;
                    return;
                }
            }
        }
        if !buf.is_empty() {
            let _ = tx.send(Ok(buf)).await;
        }
    });
    Ok(rx)
}

fn cells(r: &sdb::CsvTradeRow) -> impl Iterator<Item = String> {
    let field = Field::parse(&r.field);
    let sp = exchange_province(&r.seller_exchange);
    let bp = exchange_province(&r.buyer_exchange);
    let c = legacy_comparison(
        &r.seller_exchange,
        r.price_fen,
        r.buyer_fee_fen,
        r.seller_fee_fen,
    );
    [
        r.id.to_string(),
        r.listing_id.to_string(),
        r.settled_at.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
        r.settled_date.clone(),
        r.month.clone(),
        r.field.clone(),
        field.map(|f| f.name_zh()).unwrap_or("").to_string(),
        field.map(|f| f.name_en()).unwrap_or("").to_string(),
        r.transaction_mode.clone(),
        r.contract_type.clone(),
        sp.code().to_string(),
        r.seller_exchange.clone(),
        bp.code().to_string(),
        r.buyer_exchange.clone(),
        (sp != bp).to_string(),
        r.price_fen.to_string(),
        yuan(r.price_fen),
        r.buyer_fee_fen.to_string(),
        r.seller_fee_fen.to_string(),
        c.legacy_fee_fen.to_string(),
        c.savings_fen.to_string(),
        r.fee_schedule_id.to_string(),
        r.settled_fen.to_string(),
    ]
    .into_iter()
}

fn push_line(buf: &mut String, cells: impl Iterator<Item = String>) {
    for (i, c) in cells.enumerate() {
        if i > 0 {
            buf.push(',');
        }
        buf.push_str(&cell(&c));
    }
    buf.push_str("\r\n");
}

/// A CSV cell: quoted when it holds a comma, quote or line break. Every value here is a code, a
/// number, a date or a field's name, so none starts like a spreadsheet formula; a negative number
/// (`-800000`, savings) is a number, not a formula, and stays as it is.
fn cell(v: &str) -> std::borrow::Cow<'_, str> {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\"")).into()
    } else {
        v.into()
    }
}

/// Yuan with two decimals, no grouping (`3500000.00`).
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_when_needed() {
        assert_eq!(cell("ic"), "ic");
        assert_eq!(
            cell("汽车 / 新能源与智能网联汽车"),
            "汽车 / 新能源与智能网联汽车"
        );
        assert_eq!(
            cell("Automotive & intelligent connected vehicles, etc"),
            "\"Automotive & intelligent connected vehicles, etc\""
        );
        assert_eq!(cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(cell("-800000"), "-800000");
    }

    #[test]
    fn yuan_has_two_decimals() {
        assert_eq!(yuan(350_000_000), "3500000.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-123_456), "-1234.56");
    }

    #[test]
    fn field_names_need_no_quoting_or_defusing() {
        for f in Field::ALL {
            for name in [f.name_zh(), f.name_en()] {
                assert!(!name.starts_with(['=', '+', '-', '@']), "{name}");
            }
        }
    }
}
