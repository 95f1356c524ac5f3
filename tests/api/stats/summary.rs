//! The summary's figures against sums computed here, from the trades the test made.
use std::collections::BTreeMap;

use serde_json::json;
use sqlx::PgPool;

use super::*;

/// Two Sichuan exchanges, one Chongqing; trades settled in three months, and others that must not
/// count (awaiting payment, paid but not settled, cancelled).
#[sqlx::test(migrations = "./migrations")]
async fn the_summary_equals_sums_over_the_settled_trades_only(pool: PgPool) {
    let app = TestApp::new(pool);
    let su = party(&app, "su@stats.example", "suaee").await;
    let cd = party(&app, "cd@stats.example", "cdipex").await;
    let cq = party(&app, "cq@stats.example", "cquaee").await;
    let cq2 = party(&app, "cq2@stats.example", "cquaee").await;
    let mut made = Vec::new();
    for (s, b, field, price, status, when) in [
        (
            &su,
            &cq,
            "ic",
            350_000_000,
            "settled",
            Some("2026-10-05T02:00:00Z"),
        ),
        (
            &cq,
            &su,
            "energy",
            50_000_000,
            "settled",
            Some("2026-10-20T10:00:00Z"),
        ),
        (
            &su,
            &cd,
            "ic",
            1_234_567,
            "settled",
            Some("2026-12-01T01:00:00Z"),
        ),
        (
            &cd,
            &cq,
            "auto",
            9_999_999_999,
            "settled",
            Some("2027-01-15T08:00:00Z"),
        ),
        (
            &cq2,
            &cq,
            "agri",
            80_000_000,
            "settled",
            Some("2027-01-31T15:00:00Z"),
        ),
        (&su, &cq, "ic", 777_000_000, "awaiting_payment", None),
        (&cq, &cd, "energy", 66_000_000, "paid", None),
        (&cd, &su, "auto", 12_000_000, "cancelled", None),
    ] {
        made.push(trade(&app, s, b, field, price, status, when.map(at)).await);
    }
    // Listed listings (the trades' own listings are sold and not counted), and some that are not
    // listed: a draft and a withdrawn one.
    for (p, field, province, status) in [
        (&su, "ic", "sichuan", "listed"),
        (&su, "ic", "other", "listed"),
        (&cd, "energy", "sichuan", "listed"),
        (&cq, "auto", "chongqing", "listed"),
        (&cq, "auto", "chongqing", "draft"),
        (&su, "agri", "sichuan", "withdrawn"),
    ] {
        listing(&app.pool, p, field, province, status).await;
    }

    let s = summary(&app).await;

    // Independent sums over what the test made.
    let settled: Vec<&Made> = made.iter().filter(|t| t.status == "settled").collect();
    assert_eq!(settled.len(), 5);
    let turnover: i64 = settled.iter().map(|t| t.price_fen).sum();
    let cross: Vec<&&Made> = settled
        .iter()
        .filter(|t| province_of(t.seller_exchange) != province_of(t.buyer_exchange))
        .collect();
    assert_eq!(s["trades"]["count"], json!(settled.len()));
    assert_eq!(s["trades"]["turnover_fen"], json!(turnover));
    assert_eq!(s["trades"]["cross_province_count"], json!(cross.len()));
    assert_eq!(
        s["trades"]["cross_province_turnover_fen"],
        json!(cross.iter().map(|t| t.price_fen).sum::<i64>())
    );
    assert_eq!(cross.len(), 3);

    let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for t in &settled {
        let e = months
            .entry(shanghai_month(t.settled_at.unwrap()))
            .or_default();
        e.0 += 1;
        e.1 += t.price_fen;
    }
    let by_month = s["trades"]["by_month"].as_array().unwrap();
    let listed: Vec<(String, i64, i64)> = by_month
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_string(),
                m["count"].as_i64().unwrap(),
                m["turnover_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    // Oldest first, every month from the first to the last, empty ones with zeros.
    let expected: Vec<(String, i64, i64)> = ["2026-10", "2026-11", "2026-12", "2027-01"]
        .iter()
        .map(|m| {
            let (c, f) = months.get(*m).copied().unwrap_or((0, 0));
            (m.to_string(), c, f)
        })
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(months.len(), 3);

    let mut fees: BTreeMap<String, i64> = Exchange::ALL
        .iter()
        .map(|e| (e.code().to_string(), 0))
        .collect();
    for t in &settled {
        *fees.get_mut(t.buyer_exchange).unwrap() += t.buyer_fee_fen;
        *fees.get_mut(t.seller_exchange).unwrap() += t.seller_fee_fen;
    }
    assert_eq!(counts(&s["fees"]["by_exchange"]), fees);
    assert!(
        ["suaee", "cdipex", "cquaee"].iter().all(|e| fees[*e] > 0) && fees["nttc_sw"] == 0,
        "{fees:?}"
    );

    // Legacy fees of the seller's province minus the fees paid, trade by trade.
    let savings: i64 = settled
        .iter()
        .map(|t| {
            let legacy = match province_of(t.seller_exchange) {
                "chongqing" => techmarket::domain::fees::legacy_chongqing(),
                _ => techmarket::domain::fees::legacy_sichuan(),
            };
            legacy.quote(t.price_fen).total_fee_fen - t.buyer_fee_fen - t.seller_fee_fen
        })
        .sum();
    assert_eq!(s["savings_fen"], json!(savings));

    assert_eq!(s["listings"]["total"], json!(4));
    let by_province = counts(&s["listings"]["by_province"]);
    assert_eq!(
        by_province,
        BTreeMap::from([
            ("sichuan".to_string(), 2),
            ("chongqing".to_string(), 1),
            ("other".to_string(), 1)
        ])
    );
    let by_field = counts(&s["listings"]["by_field"]);
    assert_eq!(by_field["ic"], 2);
    assert_eq!(by_field["energy"], 1);
    assert_eq!(by_field["auto"], 1);
    assert_eq!(by_field["agri"], 0);
    assert_eq!(by_field.values().sum::<i64>(), 4);

    // As of a moment, in RFC 3339.
    assert!(s["as_of"]
        .as_str()
        .and_then(|a| chrono::DateTime::parse_from_rfc3339(a).ok())
        .is_some());
}

/// DOMAIN.md's legacy tables, by hand: a 350万元 trade sold from Sichuan and a 50万元 one sold
/// from Chongqing.
#[sqlx::test(migrations = "./migrations")]
async fn the_savings_figure_matches_a_hand_computed_example(pool: PgPool) {
    let app = TestApp::new(pool);
    let su = party(&app, "su@savings.example", "suaee").await;
    let cq = party(&app, "cq@savings.example", "cquaee").await;
    let big = trade(
        &app,
        &su,
        &cq,
        "energy",
        350_000_000,
        "settled",
        Some(at("2026-12-02T00:00:00Z")),
    )
    .await;
    let small = trade(
        &app,
        &cq,
        &su,
        "auto",
        50_000_000,
        "settled",
        Some(at("2026-12-03T00:00:00Z")),
    )
    .await;
    // Unified v1 per side: 100万 × 1.5% + 250万 × 1% = 4万元; 50万 × 1.5% = 7,500元.
    assert_eq!(
        (big.buyer_fee_fen, big.seller_fee_fen),
        (4_000_000, 4_000_000)
    );
    assert_eq!(
        (small.buyer_fee_fen, small.seller_fee_fen),
        (750_000, 750_000)
    );
    // Legacy Sichuan per side: 100万 × 5% + 250万 × 3% = 12.5万元; both sides 25万元; paid 8万元:
    // saved 17万元. Legacy Chongqing: 50万 × 0.7% × 2 = 7,000元; paid 15,000元: 8,000元 more.
    // Together 17万 − 0.8万 = 16.2万元 = 16,200,000 fen.
    let s = summary(&app).await;
    assert_eq!(s["savings_fen"], json!(16_200_000));
    assert_eq!(s["fees"]["legacy_total_fen"], json!(25_700_000));
    assert_eq!(s["fees"]["total_fen"], json!(9_500_000));
    let by_province = s["fees"]["savings_by_province"].as_array().unwrap();
    assert_eq!(by_province[0]["seller_province"], json!("sichuan"));
    assert_eq!(by_province[0]["savings_fen"], json!(17_000_000));
    assert_eq!(by_province[1]["seller_province"], json!("chongqing"));
    assert_eq!(by_province[1]["savings_fen"], json!(-800_000));
}

/// A trade settled at 23:59:59 on 30 November in Shanghai (15:59:59 UTC) is November's; one at
/// midnight (16:00:00 UTC) is December's; New Year's midnight in Shanghai is still 31 December in UTC.
#[sqlx::test(migrations = "./migrations")]
async fn months_turn_at_midnight_in_shanghai(pool: PgPool) {
    let app = TestApp::new(pool);
    let su = party(&app, "su@months.example", "suaee").await;
    let cd = party(&app, "cd@months.example", "cdipex").await;
    for (price, when) in [
        (1_000_000, "2026-11-30T15:59:59.999999Z"),
        (2_000_000, "2026-11-30T16:00:00Z"),
        (4_000_000, "2026-12-31T15:59:59Z"),
        (8_000_000, "2026-12-31T16:00:00Z"),
    ] {
        trade(&app, &su, &cd, "ic", price, "settled", Some(at(when))).await;
    }
    let s = summary(&app).await;
    let months: Vec<(String, i64, i64)> = s["trades"]["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_string(),
                m["count"].as_i64().unwrap(),
                m["turnover_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            ("2026-11".to_string(), 1, 1_000_000),
            ("2026-12".to_string(), 2, 6_000_000),
            ("2027-01".to_string(), 1, 8_000_000)
        ]
    );
    // The CSV agrees, row by row.
    let r = app.get("/api/v1/stats/trades.csv", None).await;
    let rows = super::csv::parse(&r.text);
    let month_col = rows[0].iter().position(|h| h == "month_shanghai").unwrap();
    let date_col = rows[0]
        .iter()
        .position(|h| h == "settled_date_shanghai")
        .unwrap();
    let got: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[date_col].as_str(), r[month_col].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-11-30", "2026-11"),
            ("2026-12-01", "2026-12"),
            ("2026-12-31", "2026-12"),
            ("2027-01-01", "2027-01")
        ]
    );
}

/// Nothing settled: zeros, every code listed, no months.
#[sqlx::test(migrations = "./migrations")]
async fn an_empty_market_has_zeros_everywhere(pool: PgPool) {
    let app = TestApp::new(pool);
    let s = summary(&app).await;
    assert_eq!(s["trades"]["count"], json!(0));
    assert_eq!(s["trades"]["turnover_fen"], json!(0));
    assert_eq!(s["trades"]["by_month"], json!([]));
    assert_eq!(s["savings_fen"], json!(0));
    assert_eq!(s["listings"]["total"], json!(0));
    assert_eq!(
        counts(&s["fees"]["by_exchange"])
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        ["cdipex", "cquaee", "nttc_sw", "suaee"]
    );
    assert_eq!(counts(&s["listings"]["by_province"]).len(), 3);
}
