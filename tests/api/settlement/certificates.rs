//! Transaction certificates (交易鉴证书): issued with the settlement, shown to the parties, verified
//! publicly by number, and no longer genuine once altered in the database.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

/// A trade paid by the buyer's exchange and settled by the buyer; returns (trade id, buyer, seller,
/// admin token).
async fn settled(app: &TestApp) -> (String, Party, Party, String) {
    let seller = party(app, "turbine@uni.example.cn", "suaee").await;
    let buyer = party(app, "buyer@cq.example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = new_trade(app, &seller, &buyer, 350_000_000).await;
    assert_eq!(pay(app, &id, &admin).await.status, StatusCode::OK);
    let r = confirm(app, &id, &buyer.m.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (id, buyer, seller, admin)
}

#[sqlx::test(migrations = "./migrations")]
async fn a_settled_trade_has_a_certificate_that_a_stranger_can_verify(pool: PgPool) {
    let app = TestApp::new(pool);
    let (id, buyer, seller, admin) = settled(&app).await;

    // Written in the settlement's transaction, before anyone asks for it.
    let stored: i64 =
        sqlx::query_scalar("select count(*) from certificates where trade_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 1);

    let r = app
        .get(
            &format!("/api/v1/trades/{id}/certificate"),
            Some(&buyer.m.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = r.body.clone();
    let number = c["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("TMC-20"), "{number}");
    assert_eq!(c["trade_id"], json!(id));
    assert!(
        c["trade_number"].as_str().unwrap().starts_with("TM-20"),
        "{c}"
    );
    assert!(c["issued_at"].is_string());
    assert!(c["verify_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/certificates/{number}")));
    assert_eq!(c["price_fen"], json!(350_000_000));
    assert_eq!(c["buyer_fee_fen"], json!(4_000_000));
    assert_eq!(c["seller_fee_fen"], json!(4_000_000));
    assert_eq!(c["listing"]["ip_numbers"], json!(["ZL201710601862.3"]));
    assert_eq!(
        c["seller"]["name"],
        json!("测试机构 turbine@uni.example.cn")
    );
    assert_eq!(c["buyer"]["exchange"], json!("cquaee"));
    // The ledger hash is the hash of the settlement's last entry.
    let last: Vec<u8> = sqlx::query_scalar(
        "select hash from ledger_entries where trade_id = $1::uuid order by id desc limit 1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(c["ledger_hash"], json!(hex::encode(last)));

    // The seller and an admin see the same certificate; others get 404, and so does an unsettled trade.
    for token in [&seller.m.token, &admin] {
        let r = app
            .get(&format!("/api/v1/trades/{id}/certificate"), Some(token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["number"], json!(number));
    }
    let stranger = app
        .verified_member("stranger@x.example.cn", "nttc_sw")
        .await;
    let r = app
        .get(
            &format!("/api/v1/trades/{id}/certificate"),
            Some(&stranger.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let unsettled = new_trade(&app, &seller, &buyer, 120_000_000).await;
    let r = app
        .get(
            &format!("/api/v1/trades/{unsettled}/certificate"),
            Some(&buyer.m.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(
        app.get(&format!("/api/v1/trades/{id}/certificate"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Anyone may verify it by number, without a token, and sees what the certificate shows.
    let r = app
        .get(&format!("/api/v1/certificates/{number}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["genuine"], json!(true));
    assert_eq!(r.body["number"], json!(number));
    assert_eq!(r.body["price_fen"], json!(350_000_000));
    assert_eq!(r.body["ledger_hash"], c["ledger_hash"]);
    // Unknown and malformed numbers: 404.
    for bad in [
        "TMC-2026-999999-0000ABCD".to_string(),
        "x".repeat(300),
        "TMC-2026-000001-'--".to_string(),
    ] {
        let r = app
            .get(&format!("/api/v1/certificates/{}", urlencode(&bad)), None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}: {}", r.text);
    }
}

async fn genuine(app: &TestApp, number: String) -> serde_json::Value {
    let r = app
        .get(&format!("/api/v1/certificates/{number}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_certificate_altered_in_the_database_no_longer_verifies(pool: PgPool) {
    let app = TestApp::new(pool);
    let (id, buyer, _, _) = settled(&app).await;
    let r = app
        .get(
            &format!("/api/v1/trades/{id}/certificate"),
            Some(&buyer.m.token),
        )
        .await;
    let number = r.body["number"].as_str().unwrap().to_string();
    assert_eq!(genuine(&app, number.clone()).await["genuine"], json!(true));

    for (alteration, undo) in [
        (
            "update certificates set price_fen = price_fen / 10 where number = $1",
            "update certificates set price_fen = price_fen * 10 where number = $1",
        ),
        (
            "update certificates set buyer_name = '别的公司' where number = $1",
            "update certificates set buyer_name = '测试机构 buyer@cq.example.cn' where number = $1",
        ),
        (
            "update certificates set ip_numbers = array['ZL201710601863.8'] where number = $1",
            "update certificates set ip_numbers = array['ZL201710601862.3'] where number = $1",
        ),
        (
            "update certificates set seal = set_byte(seal, 0, get_byte(seal, 0) # 1) where number = $1",
            "update certificates set seal = set_byte(seal, 0, get_byte(seal, 0) # 1) where number = $1",
        ),
    ] {
        sqlx::query(alteration)
            .bind(&number)
            .execute(&app.pool)
            .await
            .unwrap();
        let v = genuine(&app, number.clone()).await;
        assert_eq!(v["genuine"], json!(false), "{alteration}");
        // Nothing of an altered certificate is repeated.
        assert!(v.get("price_fen").is_none() && v.get("buyer").is_none(), "{v}");
        let page = app.page(&format!("/certificates/{number}"), "").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(select_text(&page.text, ".verdict.not-genuine").len(), 1);
        assert!(select_text(&page.text, ".verdict.genuine").is_empty());
        sqlx::query(undo)
            .bind(&number)
            .execute(&app.pool)
            .await
            .unwrap();
        assert_eq!(
            genuine(&app, number.clone()).await["genuine"],
            json!(true),
            "undoing {alteration}"
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn the_printable_certificate_has_a_qr_code_of_its_verification_page(pool: PgPool) {
    let app = TestApp::new(pool);
    let (id, buyer, _, _) = settled(&app).await;
    let cookies = web_login(&app, &buyer.m.email).await;
    let page = app
        .page(&format!("/trades/{id}/certificate"), &cookies)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let doc = scraper::Html::parse_document(&page.text);
    let svg = scraper::Selector::parse("figure.qr svg path").unwrap();
    assert_eq!(doc.select(&svg).count(), 1, "one QR code");
    assert!(!select_text(&page.text, ".certificate-number code")[0].is_empty());
    assert_eq!(select_text(&page.text, "h1")[0], "交易鉴证书");
    assert_eq!(select_text(&page.text, ".price")[0], "¥3,500,000.00");
    assert_eq!(select_text(&page.text, ".capital")[0], "叁佰伍拾万元整");
    // The trade by its short number (TM-…), its id nowhere but in the link back to it.
    let trade_number = select_text(&page.text, ".trade-number")[0].clone();
    assert!(trade_number.starts_with("TM-20"), "{trade_number}");
    assert!(!select_text(&page.text, "article")[0].contains(&id));
    let number = select_text(&page.text, ".certificate-number code")[0].clone();
    assert!(select_text(&page.text, ".verify-url")[0].ends_with(&format!("/certificates/{number}")));
    // The trade page links to it once settled.
    let trade = app.page(&format!("/trades/{id}"), &cookies).await;
    assert_eq!(select_text(&trade.text, "a.certificate-link").len(), 1);

    // A stranger (not signed in) scanning the code sees that it is genuine, in either language.
    let v = app.page(&format!("/certificates/{number}"), "").await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(select_text(&v.text, ".verdict.genuine").len(), 1);
    assert_eq!(select_text(&v.text, ".price")[0], "¥3,500,000.00");
    let en = app
        .page(&format!("/certificates/{number}?lang=en"), "")
        .await;
    assert!(select_text(&en.text, ".verdict.genuine")[0].starts_with("Genuine"));
    // The certificate page is for the parties only.
    let other = app.verified_member("other@x.example.cn", "nttc_sw").await;
    let oc = web_login(&app, &other.email).await;
    assert_eq!(
        app.page(&format!("/trades/{id}/certificate"), &oc)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_trade_settled_before_certificates_existed_gets_one_when_asked(pool: PgPool) {
    let app = TestApp::new(pool);
    let (id, buyer, _, _) = settled(&app).await;
    // As if it had settled before this feature: no certificate row.
    sqlx::query("delete from certificates where trade_id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .get(
            &format!("/api/v1/trades/{id}/certificate"),
            Some(&buyer.m.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let number = r.body["number"].as_str().unwrap().to_string();
    let again = app
        .get(
            &format!("/api/v1/trades/{id}/certificate"),
            Some(&buyer.m.token),
        )
        .await;
    assert_eq!(again.body["number"], json!(number), "issued once");
    let v = app
        .get(&format!("/api/v1/certificates/{number}"), None)
        .await;
    assert_eq!(v.body["genuine"], json!(true), "{}", v.text);
}
