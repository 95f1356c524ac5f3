//! The schedule editor, without JavaScript.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

/// Every named input of the editor form with its value (buttons excluded), in order.
fn editor_fields(html: &str) -> Vec<(String, String)> {
    let d = doc(html);
    let sel = scraper::Selector::parse("form.fee-editor input[name]").unwrap();
    d.select(&sel)
        .map(|e| {
            (
                e.value().attr("name").unwrap().to_string(),
                e.value().attr("value").unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn post_editor(
    app: &TestApp,
    cookies: &str,
    fields: &[(String, String)],
    action: &str,
) -> Resp {
    let mut pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.push(("action", action));
    app.form("/admin/fees/new", cookies, &pairs).await
}

fn named(fields: &[(String, String)], name: &str) -> usize {
    fields.iter().filter(|(k, _)| k == name).count()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_editor_adds_and_removes_bands_previews_and_saves_without_javascript(pool: PgPool) {
    let app = TestApp::new(pool);
    admin_named(&app, "editor@suaee.example", "suaee").await;
    let cookies = web_login(&app, "editor@suaee.example").await;
    let page = app.page("/admin/fees/new", &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let mut fields = editor_fields(&page.text);
    // Prefilled from v1: six bands a side, the last without an upper bound.
    assert_eq!(named(&fields, "buyer.rate"), 6);
    assert_eq!(named(&fields, "buyer.up_to"), 5);
    assert!(fields.contains(&("buyer.up_to".into(), "100万".into())));
    assert!(fields.contains(&("buyer.min_fee".into(), "300".into())));

    // Without the CSRF token: refused.
    let no_csrf: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .cloned()
        .collect();
    let r = post_editor(&app, &cookies, &no_csrf, "add:buyer").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Add a band to the buyer's side: one more row, the old last one now needs a bound.
    let r = post_editor(&app, &cookies, &fields, "add:buyer").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    fields = editor_fields(&r.text);
    assert_eq!(named(&fields, "buyer.rate"), 7);
    assert_eq!(named(&fields, "buyer.up_to"), 6);
    assert_eq!(
        named(&fields, "seller.rate"),
        6,
        "the other side is untouched"
    );
    // Remove it again, then add once more and fill it in: above 10亿元 at 0.05 %.
    let r = post_editor(&app, &cookies, &fields, "remove:buyer:6").await;
    fields = editor_fields(&r.text);
    assert_eq!(named(&fields, "buyer.rate"), 6);
    assert_eq!(named(&fields, "buyer.up_to"), 5);
    let r = post_editor(&app, &cookies, &fields, "add:buyer").await;
    fields = editor_fields(&r.text);
    let mut up_to_seen = 0;
    let mut rate_seen = 0;
    for (k, v) in fields.iter_mut() {
        if k == "buyer.up_to" {
            up_to_seen += 1;
            if up_to_seen == 6 {
                *v = "10亿".into();
            }
        } else if k == "buyer.rate" {
            rate_seen += 1;
            if rate_seen == 7 {
                *v = "0.05".into();
            }
        } else if k == "name" {
            *v = "统一收费标准 v2".into();
        }
    }

    // Preview: the chart and the example table, nothing saved.
    let r = post_editor(&app, &cookies, &fields, "preview").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = doc(&r.text);
    assert_eq!(
        count(&d, ".fee-preview svg polyline"),
        4,
        "draft, in force, Sichuan, Chongqing"
    );
    assert_eq!(count(&d, ".fee-preview table.fee-examples tbody tr"), 10);
    assert_eq!(count(&d, "[style]"), 0);
    assert_eq!(
        app.get("/api/v1/fee-schedules", None).await.body["total"],
        json!(1)
    );

    // A bad rate comes back with the message beside the field and the input kept.
    let mut bad = fields.clone();
    if let Some(f) = bad.iter_mut().find(|(k, _)| k == "seller.rate") {
        f.1 = "abc".into();
    }
    let r = post_editor(&app, &cookies, &bad, "save").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let d = doc(&r.text);
    assert_eq!(count(&d, "#side-seller .field-error"), 1, "{}", r.text);
    assert!(editor_fields(&r.text).contains(&("seller.rate".into(), "abc".into())));

    // Save: a draft with seven buyer bands, shown on its approval page.
    let r = post_editor(&app, &cookies, &fields, "save").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_string();
    let id = location.strip_prefix("/admin/fees/").unwrap().to_string();
    let v = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(v.body["status"], json!("draft"));
    assert_eq!(v.body["name"], json!("统一收费标准 v2"));
    assert_eq!(v.body["created_by"], json!("editor@suaee.example"));
    let bands = v.body["buyer"]["bands"].as_array().unwrap();
    assert_eq!(bands.len(), 7);
    assert_eq!(
        bands[5],
        json!({"up_to_fen": 100_000_000_000i64, "rate_ppm": 1_000})
    );
    assert_eq!(bands[6], json!({"up_to_fen": null, "rate_ppm": 500}));
    assert_eq!(v.body["seller"]["bands"].as_array().unwrap().len(), 6);
}
