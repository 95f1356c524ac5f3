//! The public calculator page.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

/// The calculator for `amount` in `lang`.
async fn calculator(app: &TestApp, amount: &str, lang: &str) -> Resp {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("amount", amount)
        .append_pair("lang", lang)
        .finish();
    app.page(&format!("/fees?{q}"), "").await
}

#[sqlx::test(migrations = "./migrations")]
async fn the_calculator_shows_350_wan_in_both_languages_with_a_chart_and_a_table(pool: PgPool) {
    let app = TestApp::new(pool);
    for lang in ["zh-CN", "en"] {
        let r = calculator(&app, "350万", lang).await;
        assert_eq!(r.status, StatusCode::OK, "{lang}");
        let d = doc(&r.text);
        assert_eq!(input_value(&r.text, "amount").as_deref(), Some("350万"));
        // Unified 4 万元, Sichuan 12.5 万元, Chongqing 1.95 万元 per side.
        assert_eq!(
            texts(&d, "table.fee-compare td.buyer-fee"),
            ["¥40,000.00", "¥125,000.00", "¥19,500.00"],
            "{lang}"
        );
        assert_eq!(
            texts(&d, "table.fee-compare td.seller-fee"),
            ["¥40,000.00", "¥125,000.00", "¥19,500.00"]
        );
        assert_eq!(
            texts(&d, "table.fee-compare td.total-fee"),
            ["¥80,000.00", "¥250,000.00", "¥39,000.00"]
        );
        let heading = texts(&d, ".fee-result h2").join(" ");
        let headers = texts(&d, "table.fee-compare thead th").join(" ");
        if lang == "zh-CN" {
            assert!(heading.contains("350万元"), "{heading}");
            assert!(
                headers.contains("统一收费标准")
                    && headers.contains("四川")
                    && headers.contains("重庆")
            );
            assert!(r.text.contains("买方服务费"));
        } else {
            assert!(heading.contains("¥3,500,000.00"), "{heading}");
            assert!(
                headers.contains("Unified")
                    && headers.contains("Sichuan")
                    && headers.contains("Chongqing")
            );
            assert!(texts(&d, "table.fee-compare tbody th").contains(&"Buyer's fee".to_string()));
        }
        // The chart: SVG drawn on the server, three lines, a legend, axis labels, the amount marked.
        assert_eq!(count(&d, "svg.fee-chart-svg"), 1);
        assert_eq!(count(&d, "svg polyline"), 3);
        assert_eq!(count(&d, "svg .legend text"), 3);
        assert_eq!(count(&d, "svg .axis-label"), 2);
        assert_eq!(count(&d, "svg .marker line"), 1);
        assert_eq!(texts(&d, "svg .x-labels text").len(), 6);
        // No inline styles or scripts (CSP).
        assert_eq!(count(&d, "[style]"), 0);
        assert_eq!(count(&d, "script"), 0);
        // The numbers beneath: ten example amounts from 1万 to 10亿.
        let rows = texts(&d, "table.fee-examples tbody th");
        assert_eq!(rows.len(), 10);
        if lang == "zh-CN" {
            assert_eq!(rows[0], "1万元");
            assert_eq!(rows[4], "350万元");
            assert_eq!(rows[9], "10亿元");
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_amounts_in_the_calculator_get_a_clear_message_in_the_users_language(pool: PgPool) {
    let app = TestApp::new(pool);
    for (amount, zh, en) in [
        ("abc", "无法识别的金额", "That is not an amount"),
        ("-5", "金额不能为负数", "cannot be negative"),
        ("1.234", "两位小数", "two decimals"),
        ("10001亿", "金额不能超过", "cannot exceed"),
        ("0", "金额必须大于零", "greater than zero"),
    ] {
        for (lang, expected) in [("zh-CN", zh), ("en", en)] {
            let r = calculator(&app, amount, lang).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{amount} {lang}"
            );
            let d = doc(&r.text);
            let msg = texts(&d, ".field-error").join(" ");
            assert!(msg.contains(expected), "{amount} {lang}: {msg}");
            assert_eq!(count(&d, ".fee-result"), 0, "no silently rounded result");
            assert_eq!(input_value(&r.text, "amount").as_deref(), Some(amount));
        }
    }
    let r = app.page("/fees", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        count(&doc(&r.text), "svg polyline"),
        3,
        "the chart without an amount"
    );
}
