//! The contract registration CSV (技术合同认定登记) of settled trades.

use chrono::{DateTime, FixedOffset, Utc};
use sqlx::PgPool;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::settlement as sdb;
use crate::domain::codes::{ContractType, Exchange, Province};
use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};

/// A CSV cell: quoted when needed, and defused when a spreadsheet would read it as a formula.
pub fn csv_cell(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

pub(super) fn csv_line(cells: &[String]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

pub(super) fn shanghai_date(at: &DateTime<Utc>) -> String {
    use chrono::Offset;
    let off = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&off).format("%Y-%m-%d").to_string()
}

pub(super) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

pub const CSV_HEADER: [&str; 16] = [
    "合同类型代码",
    "合同类型",
    "卖方（转让方）名称",
    "卖方统一社会信用代码",
    "卖方所在地区",
    "买方（受让方）名称",
    "买方统一社会信用代码",
    "买方所在地区",
    "技术交易额（元）",
    "技术交易额（分）",
    "签订日期",
    "结算日期",
    "交易编号",
    "成果名称",
    "技术经纪人佣金（元）",
    "技术经纪人",
];

/// 技术合同认定登记: one row per settled trade, for registration offices (any admin; all settled
/// trades, or those involving one exchange). Starts with a UTF-8 byte-order mark so that
/// spreadsheet programs read the Chinese correctly.
pub async fn registration_csv(
    pool: &PgPool,
    user: &CurrentUser,
    exchange: Option<&str>,
) -> Result<String> {
    user.require_admin()?;
    let exchange = match exchange.map(str::trim).filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => Some(Exchange::parse(e).ok_or_else(|| {
            let mut f = FieldErrors::default();
            f.push(
                "exchange",
                "err.code.unknown",
                vec![("value", e.to_string())],
            );
            Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            }
        })?),
    };
    let mut conn = pool.acquire().await?;
    let rows = sdb::registration_rows(&mut conn, exchange.map(|e| e.code())).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let brokers = db::brokers::live_of_trades(&mut conn, &ids).await?;
    let province = |code: &str| {
        Province::parse(code)
            .map(|p| p.name_zh().to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_line(
        &CSV_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    ));
    for r in rows {
        let contract = ContractType::parse(&r.contract_type);
        // The brokers' commissions paid at settlement: the total, and who (side, certificate).
        let mine: Vec<_> = brokers.iter().filter(|b| b.trade_id == r.id).collect();
        let commission: i64 = mine
            .iter()
            .map(|b| b.paid_fen.unwrap_or(b.commission_fen))
            .sum();
        let who = mine
            .iter()
            .map(|b| {
                let side = if b.side == "buyer" {
                    "买方"
                } else {
                    "卖方"
                };
                format!("{side}经纪人 {} {}", b.broker_name, b.certificate_no)
            })
            .collect::<Vec<_>>()
            .join("；");
        out.push_str(&csv_line(&[
            r.contract_type.clone(),
            contract.map(|c| c.name_zh()).unwrap_or("").to_string(),
            r.seller_name,
            r.seller_credit_code.unwrap_or_default(),
            province(&r.seller_province),
            r.buyer_name,
            r.buyer_credit_code.unwrap_or_default(),
            province(&r.buyer_province),
            yuan(r.price_fen),
            r.price_fen.to_string(),
            shanghai_date(&r.created_at),
            r.settled_at.as_ref().map(shanghai_date).unwrap_or_default(),
            r.number,
            r.listing_title,
            yuan(commission),
            who,
        ]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-3"), "'-3");
        assert_eq!(csv_cell("+x,y"), "\"'+x,y\"");
    }

    #[test]
    fn yuan_has_two_decimals() {
        assert_eq!(yuan(350_000_000), "3500000.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123_456), "1234.56");
    }

    #[test]
    fn dates_are_in_shanghai() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T17:30:00Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        assert_eq!(
            at.as_ref().map(shanghai_date).as_deref(),
            Some("2026-11-27")
        );
    }
}
